package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/functions/notify"
	"github.com/elasticpool/elasticpool/shared/events"
	sharednotify "github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/email"
	"github.com/elasticpool/elasticpool/shared/notify/email/smtptest"
	"github.com/elasticpool/elasticpool/shared/notify/notifytest"
	"github.com/elasticpool/elasticpool/shared/notify/webhook"
	"github.com/elasticpool/elasticpool/shared/pgtest"
)

const (
	smtpPassword = "smtp-pw-9f3b1c-hunter2"
	hookToken    = "hooktoken-51d0a7e3c2"
	hookSecret   = "SEChook-6b2e8f1d"
	uiBase       = "http://ui.test"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// T: Sunday 2026-11-29 06:00 in Shanghai; its duty week starts Monday 2026-11-23.
var eventTime = time.Date(2026, 11, 29, 6, 0, 0, 0, shanghai)

// syncBuffer collects log lines from parallel deliveries.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	db      *pgxpool.Pool
	smtp    *smtptest.Server
	logs    *syncBuffer
	cluster int64
	pool    int64
	gpuPool int64
	order   int64
	number  string
}

// newFixture: a migrated database with a cluster, two pools, an order and
// alice on duty; a real SMTP server requiring STARTTLS and a password.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	fx := &fixture{db: pgtest.NewPool(t), logs: &syncBuffer{}}
	fx.smtp = smtptest.Start(t, smtptest.Options{TLS: email.TLSStartTLS, Username: "ep-bot", Password: smtpPassword})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fx.db.QueryRow(ctx, `INSERT INTO clusters (name, idc) VALUES ('bj-prod-1', 'bj1') RETURNING id`).Scan(&fx.cluster))
	must(fx.db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type) VALUES ($1, 'general', 'general') RETURNING id`, fx.cluster).Scan(&fx.pool))
	must(fx.db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type) VALUES ($1, 'gpu-a100', 'gpu') RETURNING id`, fx.cluster).Scan(&fx.gpuPool))
	fx.number = "EP-20261129-000001"
	must(fx.db.QueryRow(ctx, `INSERT INTO elastic_scaling_orders (order_number, cluster_id, pool_id, action_type, device_count, reason, created_by)
		VALUES ($1, $2, $3, 'pool_entry', 3, 'cpu allocation 86% > 80% for 3 days', 'system') RETURNING id`,
		fx.number, fx.cluster, fx.pool).Scan(&fx.order))
	_, err := fx.db.Exec(ctx, `INSERT INTO duty_roster (week_start, person, email, phone, chat_id) VALUES ('2026-11-23', 'alice', 'alice@example.com', '13800000000', 'U-ALICE')`)
	must(err)
	return fx
}

func (fx *fixture) mailer(t *testing.T) *email.Mailer {
	t.Helper()
	m, err := email.New(email.Config{Host: fx.smtp.Host, Port: fx.smtp.Port, Username: "ep-bot", Password: smtpPassword,
		From: "elasticpool <ep@example.com>", TLS: email.TLSStartTLS, Auth: "auto", Timeout: 3 * time.Second},
		email.WithTLSConfig(fx.smtp.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// deps are the defaults of these tests; callers adjust them.
func (fx *fixture) deps(t *testing.T) notify.Deps {
	return notify.Deps{
		DB: fx.db, Email: fx.mailer(t), UIBaseURL: uiBase + "/", Location: shanghai,
		// These tests assert the English texts; lang_test.go covers both languages.
		Language: notify.LanguageEnUS,
		Now:      func() time.Time { return eventTime.Add(time.Minute) },
		Log:      slog.New(slog.NewTextHandler(fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:    notify.Retry{Attempts: 3, Backoff: 5 * time.Millisecond},
		Secrets:  []string{smtpPassword, hookToken, hookSecret},
	}
}

func event(t *testing.T, id, typ string, data any) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetType(typ)
	e.SetSource(events.SourceMatch)
	e.SetTime(eventTime)
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		t.Fatal(err)
	}
	return e
}

func (fx *fixture) orderCreated(t *testing.T, id string) cloudevents.Event {
	return event(t, id, events.TypeOrderCreated, events.OrderCreated{OrderID: fx.order, OrderNumber: fx.number, Action: "pool_entry",
		ClusterID: &fx.cluster, PoolID: &fx.pool, DeviceCount: 3})
}

type logRow struct {
	Channel, Recipient, Status, Error string
	Attempts                          int
	Permanent, SentAt                 bool
}

func (fx *fixture) logRows(t *testing.T, eventID string) map[string]logRow {
	t.Helper()
	rows, err := fx.db.Query(context.Background(), `SELECT channel, recipient, status, error, attempts, permanent, sent_at IS NOT NULL
		FROM notification_log WHERE event_id = $1`, eventID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]logRow{}
	for rows.Next() {
		var r logRow
		if err := rows.Scan(&r.Channel, &r.Recipient, &r.Status, &r.Error, &r.Attempts, &r.Permanent, &r.SentAt); err != nil {
			t.Fatal(err)
		}
		out[r.Channel+":"+r.Recipient] = r
	}
	return out
}

func (fx *fixture) inapp(t *testing.T, recipient string) (n int, title, link string) {
	t.Helper()
	err := fx.db.QueryRow(context.Background(), `SELECT count(*), coalesce(max(title), ''), coalesce(max(link), '') FROM notifications WHERE recipient = $1`,
		recipient).Scan(&n, &title, &link)
	if err != nil {
		t.Fatal(err)
	}
	return
}

func TestOrderCreatedByEmailAndInApp(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	f := notify.New(fx.deps(t))
	if err := f.Handle(context.Background(), fx.orderCreated(t, "evt-created-1")); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	mails := fx.smtp.Messages()
	if len(mails) != 1 {
		t.Fatalf("got %d mails, want 1", len(mails))
	}
	m := mails[0]
	link := fmt.Sprintf("%s/orders/%d", uiBase, fx.order)
	wantSubject := "[elasticpool] New pool entry order EP-20261129-000001: 3 devices for bj-prod-1/general"
	if m.Subject != wantSubject {
		t.Errorf("got subject %q, want %q", m.Subject, wantSubject)
	}
	if len(m.To) != 1 || m.To[0] != "alice@example.com" || m.AuthUser != "ep-bot" {
		t.Errorf("got to %v auth %q", m.To, m.AuthUser)
	}
	if !strings.Contains(m.Text, "Open in the workbench: "+link) || !strings.Contains(m.HTML, `href="`+link+`"`) {
		t.Errorf("the order link %s is missing:\ntext: %s\nhtml: %s", link, m.Text, m.HTML)
	}
	for _, want := range []string{"Cluster: bj-prod-1", "Pool: general", "Devices: 3", "Reason: cpu allocation 86% > 80% for 3 days", "On duty: alice"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, "cpu allocation 86% &gt; 80% for 3 days") {
		t.Errorf("HTML does not escape values:\n%s", m.HTML)
	}
	n, title, gotLink := fx.inapp(t, "alice")
	if n != 1 || title != wantSubject || gotLink != link {
		t.Errorf("in-app: got %d rows, title %q, link %q", n, title, gotLink)
	}
	rows := fx.logRows(t, "evt-created-1")
	for _, k := range []string{"email:alice@example.com", "inapp:alice"} {
		if r := rows[k]; r.Status != "sent" || r.Attempts != 1 || !r.SentAt || r.Error != "" {
			t.Errorf("%s: got %+v, want sent after 1 attempt", k, r)
		}
	}
	if len(rows) != 2 {
		t.Errorf("got log rows %v, want 2", rows)
	}
}

func TestRedeliverySendsOnce(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	f := notify.New(fx.deps(t))
	e := fx.orderCreated(t, "evt-redelivered")
	for i := 0; i < 3; i++ {
		if err := f.Handle(context.Background(), e); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if got := len(fx.smtp.Messages()); got != 1 {
		t.Fatalf("got %d mails after 3 deliveries, want 1", got)
	}
	if n, _, _ := fx.inapp(t, "alice"); n != 1 {
		t.Fatalf("got %d in-app rows, want 1", n)
	}
	for k, r := range fx.logRows(t, "evt-redelivered") {
		if r.Attempts != 1 {
			t.Errorf("%s: got %d attempts, want 1", k, r.Attempts)
		}
	}
	if !strings.Contains(fx.logs.String(), "already sent") {
		t.Error("the skip is not logged")
	}
}

// Knative may deliver the same event to two replicas at once: the claim lets
// one send; the other answers retryable and finds the work done next time.
func TestConcurrentDeliverySendsOnce(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	f := notify.New(fx.deps(t))
	e := fx.orderCreated(t, "evt-concurrent")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.Handle(context.Background(), e)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && events.StatusCode(err) != http.StatusServiceUnavailable {
			t.Fatalf("got %v (status %d), want nil or 503", err, events.StatusCode(err))
		}
	}
	if err := f.Handle(context.Background(), e); err != nil {
		t.Fatalf("after the race: %v", err)
	}
	if got := len(fx.smtp.Messages()); got != 1 {
		t.Fatalf("got %d mails, want 1", got)
	}
	if n, _, _ := fx.inapp(t, "alice"); n != 1 {
		t.Fatalf("got %d in-app rows, want 1", n)
	}
}

func TestSMTPDownIsLoggedRetriedAndRecovers(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	f := notify.New(fx.deps(t))
	e := fx.orderCreated(t, "evt-smtp-down")
	fx.smtp.Stop()

	err := f.Handle(context.Background(), e)
	if code := events.StatusCode(err); code != http.StatusServiceUnavailable {
		t.Fatalf("got %v (status %d), want 503 so the broker redelivers", err, code)
	}
	notifytest.NoSecret(t, err, smtpPassword)
	rows := fx.logRows(t, "evt-smtp-down")
	r := rows["email:alice@example.com"]
	if r.Status != "failed" || r.Permanent || r.Attempts != 3 || !strings.Contains(r.Error, "connection refused") {
		t.Fatalf("email row: got %+v, want failed (retryable) after 3 attempts with the cause", r)
	}
	if rows["inapp:alice"].Status != "sent" {
		t.Fatalf("in-app must not wait for email: %+v", rows["inapp:alice"])
	}

	fx.smtp.Restart(t)
	if err := f.Handle(context.Background(), e); err != nil {
		t.Fatalf("redelivery after SMTP is back: %v", err)
	}
	if got := len(fx.smtp.Messages()); got != 1 {
		t.Fatalf("got %d mails, want 1", got)
	}
	rows = fx.logRows(t, "evt-smtp-down")
	if r := rows["email:alice@example.com"]; r.Status != "sent" || r.Attempts != 4 || r.Error != "" {
		t.Fatalf("email row after recovery: got %+v, want sent at attempt 4", r)
	}
	if r := rows["inapp:alice"]; r.Attempts != 1 {
		t.Fatalf("in-app row re-attempted: %+v", r)
	}
	if n, _, _ := fx.inapp(t, "alice"); n != 1 {
		t.Fatalf("got %d in-app rows, want 1", n)
	}
	notifytest.NoSecretIn(t, "log", fx.logs.String(), smtpPassword)
}

func TestPermanentFailureIsHandledAndNotRetried(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.smtp.FailRcpt(func(string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	})
	f := notify.New(fx.deps(t))
	e := fx.orderCreated(t, "evt-550")
	for i := 0; i < 2; i++ {
		if err := f.Handle(context.Background(), e); err != nil {
			t.Fatalf("delivery %d: got %v, want handled (200)", i+1, err)
		}
	}
	r := fx.logRows(t, "evt-550")["email:alice@example.com"]
	if r.Status != "failed" || !r.Permanent || r.Attempts != 1 || !strings.Contains(r.Error, "550") {
		t.Fatalf("got %+v, want one permanent failure", r)
	}
}

func TestStaleClaimIsTakenOverFreshOneIsNot(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	d := fx.deps(t)
	d.Retry.ClaimTTL = time.Minute
	f := notify.New(d)
	ctx := context.Background()
	// A replica claimed the mail and died 10 minutes ago; another holds the in-app row right now.
	if _, err := fx.db.Exec(ctx, `INSERT INTO notification_log (event_id, channel, recipient, status, attempts, updated_at) VALUES
		('evt-claims', 'email', 'alice@example.com', 'pending', 1, now() - interval '10 minutes'),
		('evt-claims', 'inapp', 'alice', 'pending', 0, now())`); err != nil {
		t.Fatal(err)
	}
	err := f.Handle(ctx, fx.orderCreated(t, "evt-claims"))
	if code := events.StatusCode(err); code != http.StatusServiceUnavailable {
		t.Fatalf("got %v, want 503 while the in-app row is in flight elsewhere", err)
	}
	rows := fx.logRows(t, "evt-claims")
	if r := rows["email:alice@example.com"]; r.Status != "sent" || r.Attempts != 2 {
		t.Fatalf("stale claim: got %+v, want sent", r)
	}
	if r := rows["inapp:alice"]; r.Status != "pending" {
		t.Fatalf("fresh claim: got %+v, want untouched", r)
	}
	if n, _, _ := fx.inapp(t, "alice"); n != 0 {
		t.Fatal("sent a delivery another handler holds")
	}
}

func TestNobodyOnDutyAndNoSMTP(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	d := fx.deps(t)
	d.Email = nil // SMTP_HOST empty
	f := notify.New(d)
	if err := f.Handle(ctx, fx.orderCreated(t, "evt-no-smtp")); err != nil {
		t.Fatal(err)
	}
	rows := fx.logRows(t, "evt-no-smtp")
	if r := rows["email:alice@example.com"]; r.Status != "failed" || !r.Permanent || !strings.Contains(r.Error, "SMTP_HOST") {
		t.Fatalf("got %+v", r)
	}
	if rows["inapp:alice"].Status != "sent" {
		t.Fatalf("got %+v", rows["inapp:alice"])
	}

	if _, err := fx.db.Exec(ctx, `DELETE FROM duty_roster`); err != nil {
		t.Fatal(err)
	}
	if err := f.Handle(ctx, fx.orderCreated(t, "evt-nobody")); err != nil {
		t.Fatal(err)
	}
	rows = fx.logRows(t, "evt-nobody")
	for _, k := range []string{"email:(nobody on duty)", "inapp:(nobody on duty)"} {
		if r := rows[k]; r.Status != "failed" || !r.Permanent || !strings.Contains(r.Error, "week of 2026-11-23") {
			t.Fatalf("%s: got %+v (all %v)", k, r, rows)
		}
	}
}

func TestEventKinds(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	f := notify.New(fx.deps(t))
	ctx := context.Background()
	var deviceID int64
	if err := fx.db.QueryRow(ctx, `INSERT INTO devices (hostname, serial, status) VALUES ('node-17.bj1', 'SN17', 'idle') RETURNING id`).Scan(&deviceID); err != nil {
		t.Fatal(err)
	}
	var strategyID int64
	if err := fx.db.QueryRow(ctx, `INSERT INTO elastic_scaling_strategies (name, threshold_trigger_action, cpu_threshold_value, cpu_threshold_type, cpu_target_value, duration_minutes)
		VALUES ('gpu-hot', 'pool_entry', 80, 'allocated', 60, 1440) RETURNING id`).Scan(&strategyID); err != nil {
		t.Fatal(err)
	}
	orderID := fx.order
	tests := []struct {
		name      string
		e         cloudevents.Event
		subject   string
		link      string
		textParts []string
	}{
		{"status changed", event(t, "k1", events.TypeOrderStatusChanged, events.OrderStatusChanged{OrderID: fx.order, OrderNumber: fx.number,
			Action: "pool_entry", From: "processing", To: "completed", Actor: "bob"}),
			"[elasticpool] Order EP-20261129-000001 processing → completed (bj-prod-1/general)", fmt.Sprintf("/orders/%d", fx.order),
			[]string{"bob moved pool entry order EP-20261129-000001 from processing to completed."}},
		{"shortage without order", event(t, "k2", events.TypeInventoryShortage, events.InventoryShortage{StrategyID: strategyID, ClusterID: fx.cluster,
			PoolID: fx.gpuPool, Action: "pool_entry", Needed: 4, Found: 0}),
			"[elasticpool] Inventory shortage: bj-prod-1/gpu-a100 needs 4 devices, 0 available", fmt.Sprintf("/strategies/%d", strategyID),
			[]string{"No order was created.", "Strategy: gpu-hot", "Pool: gpu-a100 (gpu)"}},
		{"shortage with order", event(t, "k3", events.TypeInventoryShortage, events.InventoryShortage{StrategyID: strategyID, ClusterID: fx.cluster,
			PoolID: fx.pool, Action: "pool_entry", Needed: 5, Found: 3, OrderID: &orderID}),
			"[elasticpool] Inventory shortage: bj-prod-1/general needs 5 devices, 3 available", fmt.Sprintf("/orders/%d", fx.order),
			[]string{"Order EP-20261129-000001 was created with the 3 found."}},
		{"maintenance requested", event(t, "k4", events.TypeMaintenanceRequested, events.Maintenance{DeviceID: deviceID, ExternalSystem: "cmdb",
			ExternalTicketID: "CHG-42", Reason: "disk replacement", OrderID: fx.order}),
			"[elasticpool] Maintenance requested: node-17.bj1 (ticket CHG-42)", fmt.Sprintf("/orders/%d", fx.order),
			[]string{"cmdb asked to take node-17.bj1 out for maintenance", "Reason: disk replacement"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fx.smtp.Messages())
			if err := f.Handle(ctx, tt.e); err != nil {
				t.Fatal(err)
			}
			mails := fx.smtp.Messages()
			if len(mails) != before+1 {
				t.Fatalf("got %d new mails", len(mails)-before)
			}
			m := mails[len(mails)-1]
			if m.Subject != tt.subject {
				t.Errorf("got subject %q, want %q", m.Subject, tt.subject)
			}
			if !strings.Contains(m.Text, uiBase+tt.link+"\n") {
				t.Errorf("text lacks link %s:\n%s", tt.link, m.Text)
			}
			for _, p := range tt.textParts {
				if !strings.Contains(m.Text, p) {
					t.Errorf("text lacks %q:\n%s", p, m.Text)
				}
			}
		})
	}

	// Types notify does not consume are acknowledged; unreadable data is a 400.
	if err := f.Handle(ctx, event(t, "k5", events.TypeStrategyEvaluate, map[string]any{"strategyId": 1})); err != nil {
		t.Fatalf("foreign type: %v", err)
	}
	bad := cloudevents.NewEvent()
	bad.SetID("k6")
	bad.SetType(events.TypeOrderCreated)
	bad.SetSource(events.SourceMatch)
	_ = bad.SetData(cloudevents.ApplicationJSON, json.RawMessage(`{"orderId":"not a number"}`))
	if code := events.StatusCode(f.Handle(ctx, bad)); code != http.StatusBadRequest {
		t.Fatalf("malformed data: got status %d, want 400", code)
	}
}

// hookServer is a webhook receiver that records bodies.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	status int
	reply  string
}

func newHook(t *testing.T, reply string) *hookServer {
	h := &hookServer{status: http.StatusOK, reply: reply}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.bodies = append(h.bodies, r.URL.RawQuery+" "+string(b))
		w.WriteHeader(h.status)
		_, _ = io.WriteString(w, h.reply)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func TestWebhookDeliveryAndRetry(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	hook := newHook(t, `ok`)
	d := fx.deps(t)
	w, err := webhook.New(webhook.Config{Name: "ops", URL: hook.URL + "/hook?token=" + hookToken, Secret: hookSecret})
	if err != nil {
		t.Fatal(err)
	}
	d.Webhooks = map[string]sharednotify.Notifier{"ops": w} // default routes: on-duty + every webhook
	f := notify.New(d)
	hook.mu.Lock()
	hook.status = http.StatusBadGateway
	hook.mu.Unlock()
	e := fx.orderCreated(t, "evt-hook")
	if code := events.StatusCode(f.Handle(context.Background(), e)); code != http.StatusServiceUnavailable {
		t.Fatalf("got status %d, want 503", code)
	}
	if r := fx.logRows(t, "evt-hook")["webhook:ops"]; r.Status != "failed" || r.Permanent || r.Attempts != 3 || !strings.Contains(r.Error, "HTTP 502") {
		t.Fatalf("got %+v", r)
	}
	hook.mu.Lock()
	hook.status = http.StatusOK
	hook.mu.Unlock()
	if err := f.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if r := fx.logRows(t, "evt-hook")["webhook:ops"]; r.Status != "sent" || r.Attempts != 4 {
		t.Fatalf("got %+v", r)
	}
	if got := len(fx.smtp.Messages()); got != 1 {
		t.Fatalf("email re-sent on redelivery: %d mails", got)
	}
	var p webhook.GenericPayload
	hook.mu.Lock()
	last := hook.bodies[len(hook.bodies)-1]
	hook.mu.Unlock()
	if err := json.Unmarshal([]byte(last[strings.Index(last, " ")+1:]), &p); err != nil {
		t.Fatal(err)
	}
	if p.EventID != "evt-hook" || p.Link != fmt.Sprintf("%s/orders/%d", uiBase, fx.order) || len(p.OnDuty) != 1 || p.OnDuty[0].Person != "alice" {
		t.Fatalf("got payload %+v", p)
	}
	notifytest.NoSecretIn(t, "log", fx.logs.String(), hookToken, hookSecret, smtpPassword)
}
