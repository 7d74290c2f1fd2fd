package maintenance

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// modes are the two CloudEvents HTTP encodings an external system may use.
var modes = []struct {
	name       string
	structured bool
}{{"binary", false}, {"structured", true}}

func TestWholeChainOverCloudEvents(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t)
			dev := e.device("node-1", "SN-1", "in_pool")
			send := func(typ, id string, d events.Maintenance) ceCall {
				t.Helper()
				e.tick()
				return e.sendEvent(event(t, typ, id, d), mode.structured, "itsm", itsmSecret, e.now)
			}
			start := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
			end := start.Add(2 * time.Hour)
			if c := send(events.TypeMaintenanceRequested, "ev-1", events.Maintenance{Serial: "SN-1", ExternalTicketID: "INC-9",
				Reason: "memory errors", WindowStart: &start, WindowEnd: &end}); c.status != http.StatusOK {
				t.Fatalf("requested: %d %s", c.status, c.body)
			}
			var id int64
			if err := e.db.QueryRow(context.Background(), `SELECT id FROM elastic_scaling_orders WHERE external_ticket_id = 'INC-9'
				AND external_system = 'itsm' AND status = 'pending' AND created_by = 'ext:itsm'`).Scan(&id); err != nil {
				t.Fatalf("the requested event opened no order: %v", err)
			}
			// Confirm by ticket, complete by order id.
			if c := send(events.TypeMaintenanceConfirmed, "ev-2", events.Maintenance{ExternalTicketID: "INC-9"}); c.status != http.StatusOK {
				t.Fatalf("confirmed: %d %s", c.status, c.body)
			}
			if got := e.deviceStatus(dev); got != "maintenance" {
				t.Fatalf("confirmed: device %s", got)
			}
			if c := send(events.TypeMaintenanceCompleted, "ev-3", events.Maintenance{OrderID: id, ExternalTicketID: "INC-9"}); c.status != http.StatusOK {
				t.Fatalf("completed: %d %s", c.status, c.body)
			}
			o, err := postgres.GetOrder(context.Background(), e.db, id)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != "completed" || e.deviceStatus(dev) != "cordoned" {
				t.Fatalf("completed: order %s, device %s", o.Status, e.deviceStatus(dev))
			}
			if n := e.count(`SELECT count(*) FROM elastic_scaling_orders WHERE action_type = 'uncordon' AND device_id = $1 AND status = 'pending'`, dev); n != 1 {
				t.Fatalf("%d uncordon orders, want 1", n)
			}
			var types []string
			for _, o := range e.rec.Sent() {
				types = append(types, strings.TrimPrefix(o.Type, "io.elasticpool."))
			}
			if got, want := strings.Join(types, " "), "maintenance.requested.v1 maintenance.confirmed.v1 maintenance.completed.v1 order.created.v1"; got != want {
				t.Fatalf("events %q, want %q", got, want)
			}
		})
	}
}

func TestCloudEventsReplayedAndOutOfOrder(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			e := newEnv(t)
			dev := e.device("node-1", "SN-1", "in_pool")
			send := func(typ, id string, d events.Maintenance) ceCall {
				t.Helper()
				e.tick()
				return e.sendEvent(event(t, typ, id, d), mode.structured, "itsm", itsmSecret, e.now)
			}
			expect := func(what string, c ceCall, status int, contains string) {
				t.Helper()
				if c.status != status || !strings.Contains(c.body, contains) {
					t.Fatalf("%s: got %d %q, want %d with %q", what, c.status, c.body, status, contains)
				}
			}
			ticket := events.Maintenance{ExternalTicketID: "INC-1"}

			// confirmed before requested: the order is not there yet; 404 asks for a redelivery.
			before := e.state()
			expect("confirmed before requested", send(events.TypeMaintenanceConfirmed, "c-1", ticket), 404, "not found")
			if after := e.state(); after != before {
				t.Fatalf("state changed: %s → %s", before, after)
			}

			req := events.Maintenance{DeviceID: dev, ExternalTicketID: "INC-1", Reason: "psu"}
			expect("requested", send(events.TypeMaintenanceRequested, "r-1", req), 200, "")
			// The same event redelivered (new signature, same id) and a new event for the same ticket: one order.
			expect("requested again", send(events.TypeMaintenanceRequested, "r-1", req), 200, "")
			expect("requested, new id", send(events.TypeMaintenanceRequested, "r-2", req), 200, "")
			if n := e.count(`SELECT count(*) FROM elastic_scaling_orders`); n != 1 {
				t.Fatalf("%d orders, want 1", n)
			}

			// completed before confirmed: 409, which Knative-style senders retry; nothing changes.
			before = e.state()
			expect("completed before confirmed", send(events.TypeMaintenanceCompleted, "d-1", ticket), 409, "allowed now: confirm, cancel")
			if after := e.state(); after != before {
				t.Fatalf("state changed: %s → %s", before, after)
			}
			expect("confirmed", send(events.TypeMaintenanceConfirmed, "c-1", ticket), 200, "")
			// The retried completed now succeeds.
			expect("completed, retried", send(events.TypeMaintenanceCompleted, "d-1", ticket), 200, "")
			// Late duplicates of steps already past are acknowledged, and change nothing.
			before = e.state()
			expect("confirmed, late duplicate", send(events.TypeMaintenanceConfirmed, "c-1", ticket), 200, "")
			expect("completed, duplicate", send(events.TypeMaintenanceCompleted, "d-1", ticket), 200, "")
			if after := e.state(); strings.Split(after, "/events")[0] != strings.Split(before, "/events")[0] {
				t.Fatalf("state changed: %s → %s", before, after)
			}
			// cancelled after completed can never happen: 422, not retried.
			expect("cancelled after completed", send(events.TypeMaintenanceCancelled, "x-1", ticket), 422, "completed is final")

			// confirm after cancel: 422 for good.
			dev2 := e.device("node-2", "SN-2", "idle")
			t2 := events.Maintenance{ExternalTicketID: "INC-2"}
			expect("requested 2", send(events.TypeMaintenanceRequested, "r-3", events.Maintenance{DeviceID: dev2, ExternalTicketID: "INC-2", Reason: "x"}), 200, "")
			expect("cancelled 2", send(events.TypeMaintenanceCancelled, "x-2", t2), 200, "")
			expect("cancelled 2 again", send(events.TypeMaintenanceCancelled, "x-2", t2), 200, "")
			expect("confirmed after cancelled", send(events.TypeMaintenanceConfirmed, "c-2", t2), 422, "cancelled is final")

			// Business refusals are 422 here (never 404/409: a retry cannot help).
			expect("unknown device", send(events.TypeMaintenanceRequested, "r-4", events.Maintenance{Hostname: "ghost", ExternalTicketID: "INC-3", Reason: "x"}), 422, "no such device")
			dev3 := e.device("node-3", "SN-3", "retired")
			expect("retired", send(events.TypeMaintenanceRequested, "r-5", events.Maintenance{DeviceID: dev3, ExternalTicketID: "INC-4", Reason: "x"}), 422, "retired")
			dev4 := e.device("node-4", "SN-4", "maintenance")
			expect("in maintenance", send(events.TypeMaintenanceRequested, "r-6", events.Maintenance{DeviceID: dev4, ExternalTicketID: "INC-5", Reason: "x"}), 422, "already in maintenance")
			expect("no ticket", send(events.TypeMaintenanceRequested, "r-7", events.Maintenance{DeviceID: dev4, Reason: "x"}), 400, "externalTicketId")
			expect("no order named", send(events.TypeMaintenanceConfirmed, "c-3", events.Maintenance{}), 400, "orderId")
		})
	}
}

func TestCloudEventsIngressRefusals(t *testing.T) {
	e := newEnv(t)
	dev := e.device("node-1", "SN-1", "in_pool")
	ev := event(t, events.TypeMaintenanceRequested, "r-1", events.Maintenance{DeviceID: dev, ExternalTicketID: "T", Reason: "x"})
	cases := []struct {
		name       string
		ev         cloudevents.Event
		structured bool
		system     string
		secret     string
		at         time.Time
		status     int
		contains   string
	}{
		{"unsigned", ev, false, "", "", e.now, 401, "credentials required"},
		{"bad signature", ev, true, "itsm", cmdbSecret, e.now, 401, "bad signature"},
		{"expired", ev, false, "itsm", itsmSecret, e.now.Add(-10 * time.Minute), 401, "replay window"},
		{"our own source", withSource(ev, events.SourceMaintenance), false, "itsm", itsmSecret, e.now, 400, "reserved"},
		{"another type", withType(ev, events.TypeOrderCreated), true, "itsm", itsmSecret, e.now, 400, "not one this ingress takes"},
		{"not JSON", withData(ev, "text/plain", "hello"), false, "itsm", itsmSecret, e.now, 400, "decode data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.tick()
			before := e.state()
			got := e.sendEvent(c.ev, c.structured, c.system, c.secret, c.at)
			if got.status != c.status || !strings.Contains(got.body, c.contains) {
				t.Fatalf("got %d %q, want %d with %q", got.status, got.body, c.status, c.contains)
			}
			if after := e.state(); after != before {
				t.Fatalf("state changed: %s → %s", before, after)
			}
		})
	}

	// The same signed body twice: the second is a replay.
	e.tick()
	if c := e.sendEvent(ev, false, "itsm", itsmSecret, e.now); c.status != http.StatusOK {
		t.Fatalf("first: %d %s", c.status, c.body)
	}
	if c := e.sendEvent(ev, false, "itsm", itsmSecret, e.now); c.status != http.StatusUnauthorized || !strings.Contains(c.body, "already used") {
		t.Fatalf("replayed: %d %s", c.status, c.body)
	}

	// A bearer-token system may send events; a person may not.
	e.tick()
	req := event(t, events.TypeMaintenanceConfirmed, "c-1", events.Maintenance{ExternalTicketID: "T"})
	for _, tc := range []struct {
		token  string
		status int
	}{{operatorToken, http.StatusForbidden}, {itsmToken, http.StatusOK}} {
		rec := e.bearerEvent(req, tc.token)
		if rec.status != tc.status {
			t.Fatalf("token %s: got %d %s, want %d", tc.token, rec.status, rec.body, tc.status)
		}
	}
	if got := e.deviceStatus(dev); got != "maintenance" {
		t.Fatalf("device %s after the token's confirm", got)
	}
}

func TestHandleIgnoresItsOwnEvents(t *testing.T) {
	e := newEnv(t)
	e.device("node-1", "SN-1", "in_pool")
	// Our own maintenance.requested, as a misconfigured Trigger would deliver it.
	own := event(t, events.TypeMaintenanceRequested, "maintenance-1-requested",
		events.Maintenance{Hostname: "node-1", ExternalTicketID: "T", Reason: "x", OrderID: 1})
	own.SetSource(events.SourceMaintenance)
	before := e.state()
	if err := e.f.Handle(context.Background(), own); err != nil {
		t.Fatalf("own event: %v, want it acknowledged", err)
	}
	// Anything else without the ingress's authentication is refused.
	if err := e.f.Handle(context.Background(), withSource(own, "/external/itsm")); events.StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("unauthenticated event: %v, want 401", err)
	}
	if after := e.state(); after != before {
		t.Fatalf("state changed: %s → %s", before, after)
	}
}

func withSource(ev cloudevents.Event, s string) cloudevents.Event {
	ev = ev.Clone()
	ev.SetSource(s)
	return ev
}

func withType(ev cloudevents.Event, typ string) cloudevents.Event {
	ev = ev.Clone()
	ev.SetType(typ)
	return ev
}

func withData(ev cloudevents.Event, contentType, data string) cloudevents.Event {
	ev = ev.Clone()
	_ = ev.SetData(contentType, []byte(data))
	return ev
}

// bearerEvent sends ev in binary mode with a bearer token instead of a signature.
func (e *env) bearerEvent(ev cloudevents.Event, token string) ceCall {
	e.t.Helper()
	req, _ := e.ceHTTPRequest(ev, false)
	req.Header.Set("Authorization", "Bearer "+token)
	return e.serveEvent(req)
}
