package maintenance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

func TestWholeChainOverHTTP(t *testing.T) {
	e := newEnv(t)
	dev := e.device("node-1", "SN-1", "in_pool")
	start := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	end := start.Add(4 * time.Hour)

	// The external system requests maintenance, naming the device by hostname.
	r := e.itsm(http.MethodPost, APIPrefix+"/requests", RequestBody{Hostname: "node-1", ExternalTicketID: "CHG-1001",
		Reason: "replace disk 3", WindowStart: &start, WindowEnd: &end})
	if r.Status != http.StatusCreated {
		t.Fatalf("request: got %d, want 201; %s", r.Status, r.Body)
	}
	m := decodeView(t, r)
	if m.Status != "pending" || m.ActionType != "maintenance" || m.ExternalSystem != "itsm" || m.ExternalTicketID != "CHG-1001" ||
		m.DeviceID == nil || *m.DeviceID != dev || m.CreatedBy != "ext:itsm" || m.PoolID == nil || *m.PoolID != e.pool ||
		m.MaintenanceStartTime == nil || !m.MaintenanceStartTime.Equal(start) || m.Hostname != "node-1" {
		t.Fatalf("request: got %+v", m)
	}
	if got, want := r.Header.Get("Location"), path(m.ID, ""); got != want {
		t.Fatalf("Location %q, want %q", got, want)
	}
	if !strings.HasPrefix(m.OrderNumber, "EP-20261129-") {
		t.Fatalf("order number %q, want the date in TIMEZONE", m.OrderNumber)
	}
	if got := e.deviceStatus(dev); got != "in_pool" {
		t.Fatalf("pending: device %s, want in_pool (cordoned only on confirm)", got)
	}
	if got := actionsOf(m); !slices.Equal(got, []string{"confirm", "cancel"}) {
		t.Fatalf("allowed %v", got)
	}

	// The on-duty engineer confirms from the workbench with a user token.
	r = e.operator.Must(http.StatusOK, http.MethodPost, path(m.ID, "confirm"), map[string]any{"reason": "approved", "version": m.Version})
	m = decodeView(t, r)
	if m.Status != "maintenance_in_progress" || m.Executor != "oscar" || m.ExecutionTime == nil {
		t.Fatalf("confirm: got %+v", m)
	}
	if got := e.deviceStatus(dev); got != "maintenance" || m.DeviceStatus != "maintenance" {
		t.Fatalf("confirm: device %s (view %s), want maintenance", got, m.DeviceStatus)
	}

	// The external system reports completion (no body at all).
	e.tick()
	r = e.itsm(http.MethodPost, path(m.ID, "complete"), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("complete: got %d; %s", r.Status, r.Body)
	}
	m = decodeView(t, r)
	if m.Status != "completed" || m.Executor != "ext:itsm" || m.CompletionTime == nil || m.UncordonOrderID == nil ||
		m.UncordonOrderStatus == nil || *m.UncordonOrderStatus != "pending" {
		t.Fatalf("complete: got %+v", m)
	}
	if got := e.deviceStatus(dev); got != "cordoned" {
		t.Fatalf("complete: device %s, want cordoned until the uncordon order completes", got)
	}
	u, err := postgres.GetOrder(context.Background(), e.db, *m.UncordonOrderID)
	if err != nil {
		t.Fatal(err)
	}
	if u.ActionType != "uncordon" || u.DeviceID == nil || *u.DeviceID != dev || u.PoolID == nil || *u.PoolID != e.pool ||
		u.ExternalTicketID != "CHG-1001" || u.CreatedBy != "ext:itsm" {
		t.Fatalf("uncordon order %+v", u)
	}
	if got := e.count(`SELECT count(*) FROM order_devices WHERE device_id = $1 AND active AND order_id = $2`, dev, u.ID); got != 1 {
		t.Fatalf("the uncordon order does not hold the device (%d rows)", got)
	}

	// Events for notify: one per step, plus the new uncordon order.
	sent := e.rec.Sent()
	var got []string
	for _, o := range sent {
		got = append(got, o.Type+" "+o.ID+" "+o.Source)
	}
	want := []string{
		fmt.Sprintf("%s maintenance-%d-requested %s", events.TypeMaintenanceRequested, m.ID, events.SourceMaintenance),
		fmt.Sprintf("%s maintenance-%d-confirmed %s", events.TypeMaintenanceConfirmed, m.ID, events.SourceMaintenance),
		fmt.Sprintf("%s maintenance-%d-completed %s", events.TypeMaintenanceCompleted, m.ID, events.SourceMaintenance),
		fmt.Sprintf("%s order-%d-created %s", events.TypeOrderCreated, u.ID, events.SourceMaintenance),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events:\ngot  %q\nwant %q", got, want)
	}
	if d := sent[2].Data.(events.Maintenance); d.UncordonOrderID != u.ID || d.OrderID != m.ID || d.DeviceID != dev ||
		d.Hostname != "node-1" || d.ExternalTicketID != "CHG-1001" || d.WindowEnd == nil || !d.WindowEnd.Equal(end) {
		t.Fatalf("completed data %+v", d)
	}
	if d := sent[3].Data.(events.OrderCreated); d.Action != "uncordon" || d.OrderNumber != u.OrderNumber || d.DeviceCount != 1 {
		t.Fatalf("order.created data %+v", d)
	}

	// Every step is in the audit log, with who did it.
	rows, err := e.db.Query(context.Background(), `SELECT actor || ' ' || action || ' ' || target_id FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var audit []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		audit = append(audit, s)
	}
	wantAudit := []string{
		fmt.Sprintf("ext:itsm order.create %d", m.ID),
		fmt.Sprintf("oscar order.status %d", m.ID),
		// the uncordon order is created inside the completing transition
		fmt.Sprintf("ext:itsm order.create %d", u.ID),
		fmt.Sprintf("ext:itsm order.status %d", m.ID),
	}
	if !slices.Equal(audit, wantAudit) {
		t.Fatalf("audit:\ngot  %q\nwant %q", audit, wantAudit)
	}

	// The uncordon order is an ordinary work order: completing it puts the
	// device back in its pool.
	for _, to := range []string{"processing", "completed"} {
		if _, _, err := postgres.TransitionOrder(context.Background(), e.db, u.ID, to, 0, "oscar", ""); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.deviceStatus(dev); got != "in_pool" {
		t.Fatalf("after uncordon: device %s, want in_pool", got)
	}

	// Reads: people see everything, the system its own orders.
	r = e.viewer.Must(http.StatusOK, http.MethodGet, path(m.ID, ""), nil)
	if v := decodeView(t, r); v.ID != m.ID || v.UncordonOrderNumber == nil || *v.UncordonOrderNumber != u.OrderNumber {
		t.Fatalf("get: %+v", v)
	}
	e.tick()
	r = e.itsm(http.MethodGet, path(m.ID, ""), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("get by the system: %d %s", r.Status, r.Body)
	}
	e.tick()
	if r := e.cmdb(http.MethodGet, path(m.ID, ""), nil); r.Status != http.StatusNotFound {
		t.Fatalf("get by another system: got %d, want 404", r.Status)
	}
}

func actionsOf(v View) []string {
	var out []string
	for _, s := range v.AllowedActions {
		out = append(out, s.Action)
	}
	return out
}

func TestSameTicketTwiceReturnsTheSameOrder(t *testing.T) {
	e := newEnv(t)
	dev := e.device("node-1", "SN-1", "in_pool")
	e.device("node-2", "SN-2", "in_pool")
	body := RequestBody{DeviceID: dev, ExternalTicketID: "CHG-7", Reason: "bios update"}

	first := e.itsm(http.MethodPost, APIPrefix+"/requests", body)
	if first.Status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	e.tick()
	again := e.itsm(http.MethodPost, APIPrefix+"/requests", body)
	if again.Status != http.StatusOK {
		t.Fatalf("again: got %d, want 200; %s", again.Status, again.Body)
	}
	// The bearer token is the same system: the same ticket again.
	byToken := e.anon.As(itsmToken).Must(http.StatusOK, http.MethodPost, APIPrefix+"/requests",
		RequestBody{Serial: "SN-1", ExternalTicketID: "CHG-7", Reason: "bios update"})
	a, b, c := decodeView(t, first), decodeView(t, again), decodeView(t, byToken)
	if a.ID != b.ID || a.ID != c.ID {
		t.Fatalf("orders %d, %d, %d: want one", a.ID, b.ID, c.ID)
	}
	if n := e.count(`SELECT count(*) FROM elastic_scaling_orders`); n != 1 {
		t.Fatalf("%d orders, want 1", n)
	}
	// Repeats announce again with the same event id: notify drops duplicates.
	for _, o := range e.rec.Sent() {
		if o.ID != fmt.Sprintf("maintenance-%d-requested", a.ID) {
			t.Fatalf("event %s", o.ID)
		}
	}

	// Another system may use the same ticket number.
	if r := e.cmdb(http.MethodPost, APIPrefix+"/requests", RequestBody{Hostname: "node-2", ExternalTicketID: "CHG-7", Reason: "x"}); r.Status != http.StatusCreated {
		t.Fatalf("cmdb CHG-7: %d %s", r.Status, r.Body)
	}
	// The same ticket for another device is a conflict, and changes nothing.
	e.tick()
	before := e.state()
	r := e.itsm(http.MethodPost, APIPrefix+"/requests", RequestBody{Hostname: "node-2", ExternalTicketID: "CHG-7", Reason: "x"})
	if r.Status != http.StatusConflict || !strings.Contains(r.Problem(t).Detail, "already opened order") {
		t.Fatalf("ticket reused for another device: %d %s", r.Status, r.Body)
	}
	if after := e.state(); after != before {
		t.Fatalf("state changed: %s → %s", before, after)
	}
}

func TestRequestRefusals(t *testing.T) {
	e := newEnv(t)
	ok := e.device("node-ok", "SN-OK", "in_pool")
	e.device("node-maint", "SN-M", "maintenance")
	e.device("node-retired", "SN-R", "retired")
	held := e.device("node-held", "SN-H", "in_pool")
	e.device("node-other", "SN-O", "idle")
	if r := e.itsm(http.MethodPost, APIPrefix+"/requests", RequestBody{DeviceID: held, ExternalTicketID: "CHG-H", Reason: "fan"}); r.Status != http.StatusCreated {
		t.Fatalf("setup: %d %s", r.Status, r.Body)
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	early := start.Add(-time.Hour)
	cases := []struct {
		name   string
		body   RequestBody
		status int
		detail string   // substring of the problem's detail
		fields []string // problem locations
	}{
		{"unknown hostname", RequestBody{Hostname: "nope", ExternalTicketID: "T1", Reason: "r"}, 404, `no such device: hostname "nope"`, nil},
		{"unknown id", RequestBody{DeviceID: 999999, ExternalTicketID: "T2", Reason: "r"}, 404, "no such device: deviceId 999999", nil},
		{"unknown serial", RequestBody{Serial: "SN-X", ExternalTicketID: "T3", Reason: "r"}, 404, "no such device", nil},
		{"already in maintenance", RequestBody{Hostname: "node-maint", ExternalTicketID: "T4", Reason: "r"}, 409, "already in maintenance", nil},
		{"held by another ticket", RequestBody{Serial: "SN-H", ExternalTicketID: "T5", Reason: "r"}, 409, "ticket CHG-H", nil},
		{"retired", RequestBody{Hostname: "node-retired", ExternalTicketID: "T6", Reason: "r"}, 422, "is retired", nil},
		{"no device", RequestBody{ExternalTicketID: "T7", Reason: "r"}, 422, "", []string{"body.deviceId"}},
		{"names two devices", RequestBody{DeviceID: ok, Hostname: "node-other", ExternalTicketID: "T8", Reason: "r"}, 422, "do not name the same device", []string{"body.hostname"}},
		{"blank ticket", RequestBody{DeviceID: ok, ExternalTicketID: "  ", Reason: "r"}, 422, "", []string{"body.externalTicketId"}},
		{"blank reason", RequestBody{DeviceID: ok, ExternalTicketID: "T9", Reason: " "}, 422, "", []string{"body.reason"}},
		{"window backwards", RequestBody{DeviceID: ok, ExternalTicketID: "T10", Reason: "r", WindowStart: &start, WindowEnd: &early}, 422, "", []string{"body.windowEnd"}},
		{"half a window", RequestBody{DeviceID: ok, ExternalTicketID: "T11", Reason: "r", WindowStart: &start}, 422, "", []string{"body.windowEnd"}},
		{"another system's name", RequestBody{DeviceID: ok, ExternalSystem: "cmdb", ExternalTicketID: "T12", Reason: "r"}, 422, "", []string{"body.externalSystem"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.tick()
			before := e.state()
			r := e.itsm(http.MethodPost, APIPrefix+"/requests", c.body)
			if r.Status != c.status {
				t.Fatalf("got %d, want %d; %s", r.Status, c.status, r.Body)
			}
			p := r.Problem(t)
			if !strings.Contains(p.Detail, c.detail) {
				t.Fatalf("detail %q, want it to contain %q", p.Detail, c.detail)
			}
			if c.fields != nil && !slices.Equal(p.Locations(), c.fields) {
				t.Fatalf("fields %v, want %v", p.Locations(), c.fields)
			}
			if after := e.state(); after != before {
				t.Fatalf("state changed: %s → %s", before, after)
			}
		})
	}
}

func TestRefusedAndRepeatedTransitions(t *testing.T) {
	e := newEnv(t)
	dev := e.device("node-1", "SN-1", "in_pool")
	m := decodeView(t, e.itsm(http.MethodPost, APIPrefix+"/requests", RequestBody{DeviceID: dev, ExternalTicketID: "A", Reason: "r"}))

	refuse := func(action, allowed string) {
		t.Helper()
		e.tick()
		before := e.state()
		r := e.itsm(http.MethodPost, path(m.ID, action), nil)
		if r.Status != http.StatusConflict {
			t.Fatalf("%s: got %d, want 409; %s", action, r.Status, r.Body)
		}
		if p := r.Problem(t); !strings.Contains(p.Detail, "allowed now: "+allowed) {
			t.Fatalf("%s: detail %q, want allowed now: %s", action, p.Detail, allowed)
		}
		if after := e.state(); after != before {
			t.Fatalf("%s changed the state: %s → %s", action, before, after)
		}
	}
	refuse("complete", "confirm, cancel") // out of order: complete before confirm

	// A stale version is refused (412) and changes nothing.
	if r := e.operator.Do(http.MethodPost, path(m.ID, "confirm"), nil, "If-Match", `"9"`); r.Status != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: got %d; %s", r.Status, r.Body)
	}

	e.operator.Must(http.StatusOK, http.MethodPost, path(m.ID, "confirm"), nil, "If-Match", fmt.Sprintf(`"%d"`, m.Version))
	audits := e.count(`SELECT count(*) FROM audit_log`)
	// Confirming again (a retried call) answers the order, changes nothing.
	e.tick()
	r := e.itsm(http.MethodPost, path(m.ID, "confirm"), nil)
	if v := decodeView(t, r); r.Status != http.StatusOK || v.Status != "maintenance_in_progress" {
		t.Fatalf("confirm again: %d %s", r.Status, r.Body)
	}
	if got := e.count(`SELECT count(*) FROM audit_log`); got != audits {
		t.Fatalf("a repeated confirm wrote %d audit rows", got-audits)
	}
	refuse("cancel", "complete") // in progress: the device is cordoned, only complete

	// Cancel a second request, then confirming it is refused for good.
	dev2 := e.device("node-2", "SN-2", "idle")
	e.tick()
	m = decodeView(t, e.itsm(http.MethodPost, APIPrefix+"/requests", RequestBody{DeviceID: dev2, ExternalTicketID: "B", Reason: "r"}))
	e.tick()
	c := decodeView(t, e.itsm(http.MethodPost, path(m.ID, "cancel"), map[string]string{"reason": "not needed"}))
	if c.Status != "cancelled" || e.deviceStatus(dev2) != "idle" {
		t.Fatalf("cancel: %s, device %s", c.Status, e.deviceStatus(dev2))
	}
	if got := e.count(`SELECT count(*) FROM order_devices WHERE device_id = $1 AND active`, dev2); got != 0 {
		t.Fatal("a cancelled request still holds its device")
	}
	refuse("confirm", "none (cancelled is final)")
	refuse("complete", "none (cancelled is final)")

	// Unknown order, and people's role.
	if r := e.operator.Do(http.MethodPost, path(999999, "confirm"), nil); r.Status != http.StatusNotFound {
		t.Fatalf("unknown order: %d", r.Status)
	}
	if r := e.viewer.Do(http.MethodPost, path(m.ID, "confirm"), nil); r.Status != http.StatusForbidden {
		t.Fatalf("viewer confirm: got %d, want 403", r.Status)
	}
}

func TestConcurrentRequestsForOneDeviceOpenOneOrder(t *testing.T) {
	e := newEnv(t)
	dev := e.device("node-1", "SN-1", "in_pool")
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := mustJSON(t, RequestBody{DeviceID: dev, ExternalTicketID: fmt.Sprintf("RACE-%d", i), Reason: "r"})
			statuses[i] = e.anon.Do(http.MethodPost, APIPrefix+"/requests", b, signedHeaders("itsm", itsmSecret, e.now, b)...).Status
		}()
	}
	wg.Wait()
	slices.Sort(statuses)
	want := append([]int{http.StatusCreated}, slices.Repeat([]int{http.StatusConflict}, n-1)...)
	if !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want one 201 and %d × 409", statuses, n-1)
	}
	if got := e.count(`SELECT count(*) FROM elastic_scaling_orders`); got != 1 {
		t.Fatalf("%d orders, want 1", got)
	}

	// The same ticket at once from several retries: one order, all answered with it.
	dev2 := e.device("node-2", "SN-2", "in_pool")
	ids := make([]int64, n)
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := mustJSON(t, RequestBody{DeviceID: dev2, ExternalTicketID: "SAME", Reason: "r"})
			ts := e.now.Add(time.Duration(-i) * time.Second) // distinct signatures
			r := e.anon.Do(http.MethodPost, APIPrefix+"/requests", b, signedHeaders("itsm", itsmSecret, ts, b)...)
			codes[i] = r.Status
			if r.Status < 300 {
				var v View
				r.JSON(t, &v)
				ids[i] = v.ID
			}
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		if codes[i] == http.StatusCreated {
			created++
		} else if codes[i] != http.StatusOK {
			t.Fatalf("same ticket: status %d", codes[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("same ticket answered orders %v", ids)
		}
	}
	if created != 1 {
		t.Fatalf("%d answers were 201, want 1", created)
	}
	if got := e.count(`SELECT count(*) FROM elastic_scaling_orders WHERE device_id = $1`, dev2); got != 1 {
		t.Fatalf("%d orders for one ticket, want 1", got)
	}
}

func TestListMaintenanceOrders(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		dev := e.device(fmt.Sprintf("node-%d", i), fmt.Sprintf("SN-%d", i), "in_pool")
		e.tick()
		e.itsm(http.MethodPost, APIPrefix+"/requests", RequestBody{DeviceID: dev, ExternalTicketID: fmt.Sprintf("L-%d", i), Reason: "r"})
	}
	dev := e.device("node-c", "SN-C", "idle")
	e.cmdb(http.MethodPost, APIPrefix+"/requests", RequestBody{DeviceID: dev, ExternalTicketID: "C-1", Reason: "r"})

	var page List
	e.operator.Must(http.StatusOK, http.MethodGet, APIPrefix+"/requests?limit=2", nil).JSON(t, &page)
	if len(page.Items) != 2 || page.NextCursor == "" || page.Items[0].ExternalTicketID != "C-1" {
		t.Fatalf("page 1: %+v", page)
	}
	var page2 List
	e.operator.Must(http.StatusOK, http.MethodGet, APIPrefix+"/requests?limit=2&cursor="+page.NextCursor, nil).JSON(t, &page2)
	if len(page2.Items) != 2 || page2.NextCursor != "" || page2.Items[1].ExternalTicketID != "L-0" {
		t.Fatalf("page 2: %+v", page2)
	}
	// A system sees its own only; filters combine.
	e.tick()
	r := e.cmdb(http.MethodGet, APIPrefix+"/requests", nil)
	var own List
	r.JSON(t, &own)
	if len(own.Items) != 1 || own.Items[0].ExternalSystem != "cmdb" {
		t.Fatalf("cmdb list: %+v", own)
	}
	var f List
	e.viewer.Must(http.StatusOK, http.MethodGet, APIPrefix+"/requests?externalSystem=itsm&externalTicketId=L-1&status=pending", nil).JSON(t, &f)
	if len(f.Items) != 1 || f.Items[0].ExternalTicketID != "L-1" {
		t.Fatalf("filtered: %+v", f)
	}
	e.tick()
	if r := e.cmdb(http.MethodGet, APIPrefix+"/requests?externalSystem=itsm", nil); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a system listing another's: %d", r.Status)
	}
}

func TestConcurrentConfirmsMoveOnce(t *testing.T) {
	e := newEnv(t)
	dev := e.device("node-1", "SN-1", "in_pool")
	m := decodeView(t, e.operator.Must(http.StatusCreated, http.MethodPost, APIPrefix+"/requests",
		RequestBody{DeviceID: dev, ExternalTicketID: "W-1", Reason: "r"}))
	if m.ExternalSystem != WorkbenchSystem || m.CreatedBy != "oscar" {
		t.Fatalf("a person's request: system %q, createdBy %q", m.ExternalSystem, m.CreatedBy)
	}
	const n = 6
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.operator.Do(http.MethodPost, path(m.ID, "confirm"), nil).Status
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("statuses %v, want all 200", codes)
		}
	}
	if got := e.count(`SELECT count(*) FROM audit_log WHERE action = 'order.status' AND target_id = $1`, fmt.Sprint(m.ID)); got != 1 {
		t.Fatalf("%d transitions recorded, want 1", got)
	}
}

func TestConfirmRefusedWhenTheDeviceWasRetired(t *testing.T) {
	e := newEnv(t)
	dev := e.device("node-1", "SN-1", "in_pool")
	m := decodeView(t, e.itsm(http.MethodPost, APIPrefix+"/requests", RequestBody{DeviceID: dev, ExternalTicketID: "R-1", Reason: "r"}))
	if _, err := e.db.Exec(context.Background(), `UPDATE devices SET status = 'retired', cluster_id = NULL, pool_id = NULL WHERE id = $1`, dev); err != nil {
		t.Fatal(err)
	}
	before := e.state()
	r := e.operator.Do(http.MethodPost, path(m.ID, "confirm"), nil)
	if r.Status != http.StatusConflict || !strings.Contains(r.Problem(t).Detail, "node-1 retired since the request; cancel the order; allowed now: cancel") {
		t.Fatalf("got %d %s", r.Status, r.Body)
	}
	if after := e.state(); after != before {
		t.Fatalf("state changed: %s → %s", before, after)
	}
	e.operator.Must(http.StatusOK, http.MethodPost, path(m.ID, "cancel"), map[string]string{"reason": "device retired"})
}

func TestOpenAPIDocumentUnderTheFunctionPrefix(t *testing.T) {
	f := New(Deps{})
	rec := httptest.NewRecorder()
	f.Routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, APIPrefix+"/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d", rec.Code)
	}
	var doc struct {
		Paths      map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{APIPrefix + "/requests", APIPrefix + "/requests/{id}", APIPrefix + "/requests/{id}/complete"} {
		if doc.Paths[p] == nil {
			t.Errorf("path %s missing", p)
		}
	}
	if doc.Components.SecuritySchemes[securitySignature] == nil || doc.Components.SecuritySchemes["bearer"] == nil {
		t.Errorf("security schemes %v", doc.Components.SecuritySchemes)
	}
}
