// Package delivery_test runs each function the way Knative does — its
// container main (functions/<name>/cmd) as a process on a PORT, behind
// functions-framework-go — and plays the Broker: real CloudEvents over HTTP,
// binary and structured, routed by events.Triggers (the table infra/'s
// Triggers are tested equal to), redelivered, and retried exactly on the
// statuses Knative retries. Postgres and Redis are the real ones.
package delivery_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	pt "github.com/elasticpool/elasticpool/shared/pipeline/pipelinetest"
	"github.com/elasticpool/elasticpool/shared/redistest"
	"github.com/elasticpool/elasticpool/shared/serve/servetest"
)

// binaries are the built function mains, by function name.
var binaries = map[string]string{}

// subscribers are the functions the Broker delivers to: every Trigger's
// subscriber, plus the dead-letter sink.
func subscribers() []string {
	names := []string{"deadletter"}
	for _, t := range events.Triggers {
		if !contains(names, t.Subscriber) {
			names = append(names, t.Subscriber)
		}
	}
	return names
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "delivery-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		// collect is the hourly PingSource's own sink (no Trigger).
		for _, name := range append(subscribers(), "collect") {
			bin := filepath.Join(dir, name)
			cmd := exec.Command("go", "build", "-o", bin, "github.com/elasticpool/elasticpool/functions/"+name+"/cmd")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			cmd.Stderr = os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n", name, err)
				return 1
			}
			binaries[name] = bin
		}
		return m.Run()
	}()
	os.Exit(code)
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// sink is K_SINK: it records every event the functions emit, as the
// Broker's ingress would accept them.
type sink struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []cloudevents.Event
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := cehttp.NewEventFromHTTPRequest(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, *e)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) events() []cloudevents.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cloudevents.Event(nil), s.got...)
}

// distinct counts the distinct ids of the recorded events of one type (a
// redelivery may re-emit an event; consumers dedupe on the id).
func (s *sink) distinct(typ string) int {
	ids := map[string]bool{}
	for _, e := range s.events() {
		if e.Type() == typ {
			ids[e.ID()] = true
		}
	}
	return len(ids)
}

// function is one running function process.
type function struct {
	name string
	url  string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

// startFunction runs the function's container main with env, waits for
// /healthz, and at cleanup sends SIGTERM and requires a clean exit (the
// drain Knative expects).
func startFunction(t *testing.T, name string, env map[string]string) *function {
	t.Helper()
	bin, ok := binaries[name]
	if !ok {
		t.Fatalf("no binary for %s", name)
	}
	port := servetest.FreePort(t)
	f := &function{name: name, url: "http://127.0.0.1:" + port, out: &bytes.Buffer{}, done: make(chan error, 1)}
	f.cmd = exec.Command(bin)
	f.cmd.Env = []string{"PORT=" + port, "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		f.cmd.Env = append(f.cmd.Env, k+"="+v)
	}
	f.cmd.Stdout, f.cmd.Stderr = f.out, f.out
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { f.done <- f.cmd.Wait() }()
	t.Cleanup(func() {
		_ = f.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-f.done:
			if err != nil {
				t.Errorf("%s: exit after SIGTERM: %v\n%s", name, err, f.out)
			}
		case <-time.After(30 * time.Second):
			_ = f.cmd.Process.Kill()
			t.Errorf("%s: still running 30 s after SIGTERM", name)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(f.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return f
			}
		}
		select {
		case err := <-f.done:
			t.Fatalf("%s exited at start: %v\n%s", name, err, f.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /healthz not 200 after 20 s\n%s", name, f.out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type mode int

const (
	binary mode = iota
	structured
)

func (m mode) String() string { return [...]string{"binary", "structured"}[m] }

// send POSTs e to url in the given content mode, as the Broker's dispatcher
// does, and returns the status.
func send(t *testing.T, url string, e cloudevents.Event, m mode) int {
	t.Helper()
	var req *http.Request
	var err error
	switch m {
	case binary:
		req, err = http.NewRequest(http.MethodPost, url, bytes.NewReader(e.Data()))
		if err != nil {
			t.Fatal(err)
		}
		h := req.Header
		h.Set("Ce-Specversion", e.SpecVersion())
		h.Set("Ce-Id", e.ID())
		h.Set("Ce-Type", e.Type())
		h.Set("Ce-Source", e.Source())
		if !e.Time().IsZero() {
			h.Set("Ce-Time", e.Time().UTC().Format(time.RFC3339Nano))
		}
		if e.Subject() != "" {
			h.Set("Ce-Subject", e.Subject())
		}
		for k, v := range e.Extensions() {
			h.Set("Ce-"+k, fmt.Sprint(v))
		}
		if ct := e.DataContentType(); ct != "" {
			h.Set("Content-Type", ct)
		}
	case structured:
		body, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		req, err = http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/cloudevents+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("deliver %s to %s: %v", e.Type(), url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// deliver is the Broker's delivery: send, and while the status is one
// Knative retries, send again after an exponential backoff (at most retries
// times). It returns every status seen.
func deliver(t *testing.T, url string, e cloudevents.Event, m mode, retries int) []int {
	t.Helper()
	var codes []int
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		code := send(t, url, e, m)
		codes = append(codes, code)
		if !events.RetryableStatus(code) || attempt == retries {
			return codes
		}
		time.Sleep(delay)
		delay *= 2
	}
}

func newEvent(t *testing.T, id, typ, source string, at time.Time, data any) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(id)
	e.SetType(typ)
	e.SetSource(source)
	e.SetTime(at)
	if data != nil {
		if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func randomID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// world is a seeded database and Redis, and the env every function gets.
type world struct {
	fx      *pt.Fixture
	db      *pgtest.DB
	env     map[string]string
	sink    *sink
	T       time.Time
	cluster int64
	pool    int64
	strat   int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db := pgtest.New(t)
	r := redistest.New(t)
	s := newSink(t)
	// T: today's 06:00 tick in TIMEZONE (the functions run on the real clock).
	now := time.Now().In(shanghai)
	T := time.Date(now.Year(), now.Month(), now.Day(), 6, 0, 0, 0, shanghai)
	if T.After(now) {
		T = T.AddDate(0, 0, -1)
	}
	w := &world{fx: pt.New(t, db.Pool, shanghai), db: db, sink: s, T: T}
	w.cluster = w.fx.Cluster("bj-prod-1", "bj1", "a")
	w.pool = w.fx.Pool(w.cluster, "general", "general", 1, nil)
	w.fx.Days(w.cluster, w.pool, T, 5, pt.Uniform(4, 32, 128, 90, 50))
	for i, cores := range []int{16, 32, 64} {
		w.fx.AddDevice(pt.Device{Hostname: fmt.Sprintf("spare-%d", i), IDC: "bj1", Zone: "a", Cores: cores, MemGiB: int64(cores) * 4})
	}
	tmpl := w.fx.Template("any", `{"groups":[{"blocks":[{"type":"device","key":"cpuCores","op":"gte","value":"8"}]}]}`)
	w.fx.Policy("general-entry", "general", "pool_entry", tmpl)
	w.strat = w.fx.AddStrategy(pt.Strategy{
		Name: "general-hot", Action: "pool_entry", CPUThreshold: pt.P(80.0), CPUType: "allocated", CPUTarget: pt.P(60.0),
		DurationMinutes: 3 * 1440, CooldownMinutes: 1440, ResourceTypes: "general", Selection: "largest-first",
		Clusters: []int64{w.cluster},
	})
	w.env = map[string]string{
		"ELASTICPOOL_ENV": "local",
		"TIMEZONE":        "Asia/Shanghai",
		"LOG_LEVEL":       "warn",
		"DATABASE_URL":    db.URL,
		"REDIS_URL":       r.URL,
		"REDIS_PREFIX":    r.Prefix,
		"K_SINK":          s.srv.URL,
	}
	return w
}

// The daily flow, from the PingSource's event to an order and its
// notification, delivered hop by hop as the Broker would: each emitted event
// is routed by events.Triggers to its subscriber, in alternating binary and
// structured mode, and delivered twice (at-least-once). Every delivery is
// answered 200, and the duplicates change nothing: one fan-out, one breach,
// one order.
func TestPingToOrderAsTheBrokerDelivers(t *testing.T) {
	w := newWorld(t)
	fns := map[string]*function{}
	for _, name := range subscribers() {
		fns[name] = startFunction(t, name, w.env)
	}

	ping := newEvent(t, randomID("ping"), events.TypePing, "/apis/v1/namespaces/elasticpool/pingsources/daily-evaluation", w.T, nil)
	for _, m := range []mode{binary, structured} {
		if codes := deliver(t, fns["evaluate"].url, ping, m, 0); codes[0] != http.StatusOK {
			t.Fatalf("ping (%s): got %v want 200\n%s", m, codes, fns["evaluate"].out)
		}
	}
	if got := w.sink.distinct(events.TypeStrategyEvaluate); got != 1 {
		t.Fatalf("strategy.evaluate after a ping delivered twice: got %d distinct events want 1", got)
	}

	// Route what the functions emit until nothing new appears.
	delivered := map[string]bool{}
	m := binary
	for round := 0; round < 10; round++ {
		var pending []cloudevents.Event
		for _, e := range w.sink.events() {
			if key := e.Type() + "/" + e.ID(); !delivered[key] {
				delivered[key] = true
				pending = append(pending, e)
			}
		}
		if len(pending) == 0 {
			break
		}
		for _, e := range pending {
			routed := false
			for _, tr := range events.Triggers {
				if tr.EventType != e.Type() {
					continue
				}
				routed = true
				for n := 1; n <= 2; n++ {
					m = 1 - m
					codes := deliver(t, fns[tr.Subscriber].url+tr.Path, e, m, 0)
					if codes[0] != http.StatusOK {
						t.Errorf("%s → %s (%s, copy %d): got %v want 200\n%s", e.Type(), tr.Subscriber, m, n, codes, fns[tr.Subscriber].out)
					}
				}
			}
			if !routed {
				t.Errorf("%s (%s) has no Trigger: the Broker would drop it", e.Type(), e.ID())
			}
		}
	}

	for typ, want := range map[string]int{
		events.TypeStrategyEvaluate:      1,
		events.TypePoolThresholdBreached: 1,
		events.TypeOrderCreated:          1,
	} {
		if got := w.sink.distinct(typ); got != want {
			t.Errorf("%s: got %d distinct events want %d", typ, got, want)
		}
	}
	orders := w.fx.Orders()
	if len(orders) != 1 {
		t.Fatalf("got %d orders want 1: %+v", len(orders), orders)
	}
	if o := orders[0]; o.Action != "pool_entry" || o.Status != "pending" || o.PoolID != w.pool || len(o.Devices) == 0 {
		t.Errorf("order %+v, want a pending pool_entry for pool %d with devices", o, w.pool)
	}
	if n := w.fx.Count("strategy_execution_history"); n != 1 {
		t.Errorf("history rows: got %d want 1", n)
	}
}

// Every function answers with the status that is its retry policy, the
// same in binary and structured mode: 200 handled, 400 unreadable, 422
// refused for good — never a status Knative would retry for a permanent
// outcome.
func TestPermanentOutcomesAreNotRetried(t *testing.T) {
	w := newWorld(t)
	fns := map[string]*function{}
	for _, name := range subscribers() {
		fns[name] = startFunction(t, name, w.env)
	}
	malformed := func(typ string) cloudevents.Event {
		e := newEvent(t, randomID("bad"), typ, "/elasticpool/test", w.T, nil)
		e.SetDataContentType(cloudevents.ApplicationJSON)
		// Valid JSON (a structured envelope must stay JSON) of the wrong shape.
		_ = e.SetData(cloudevents.ApplicationJSON, []byte(`{"strategyId":"not a number","orderId":"not a number"}`))
		return e
	}
	tests := []struct {
		name     string
		function string
		event    cloudevents.Event
		want     int
	}{
		{"evaluate: a type it does not handle", "evaluate",
			newEvent(t, randomID("x"), events.TypeOrderCreated, events.SourceMatch, w.T, map[string]any{"orderId": 1}), http.StatusUnprocessableEntity},
		{"evaluate: unreadable strategy.evaluate", "evaluate", malformed(events.TypeStrategyEvaluate), http.StatusBadRequest},
		{"match: a type it does not handle", "match",
			newEvent(t, randomID("x"), events.TypeStrategyEvaluate, events.SourceEvaluate, w.T, map[string]any{"strategyId": w.strat}), http.StatusUnprocessableEntity},
		{"match: unreadable threshold.breached", "match", malformed(events.TypePoolThresholdBreached), http.StatusBadRequest},
		{"notify: unreadable order.created", "notify", malformed(events.TypeOrderCreated), http.StatusBadRequest},
		{"deadletter: anything", "deadletter", malformed(events.TypeOrderCreated), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []mode{binary, structured} {
				codes := deliver(t, fns[tt.function].url, tt.event, m, 3)
				if len(codes) != 1 || codes[0] != tt.want {
					t.Errorf("%s: got statuses %v want one %d", m, codes, tt.want)
				}
				if events.RetryableStatus(codes[0]) {
					t.Errorf("%s: %d is retried by Knative, but the outcome is permanent", m, codes[0])
				}
			}
		})
	}

	// Not a CloudEvent at all: refused for good.
	resp, err := http.Post(fns["match"].url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || events.RetryableStatus(resp.StatusCode) {
		t.Errorf("plain JSON POST: got %d want a 4xx Knative does not retry (400, 415)", resp.StatusCode)
	}
}

// A database outage answers a status Knative retries (and /readyz goes 503),
// and the Broker's redelivery succeeds once the database is back, creating
// the order exactly once.
func TestDatabaseOutageIsRetriedUntilDelivered(t *testing.T) {
	w := newWorld(t)
	ev := startFunction(t, "evaluate", w.env)
	mt := startFunction(t, "match", w.env)

	// Get a real breach: the strategy.evaluate event evaluate emits for T.
	se := newEvent(t, randomID("se"), events.TypeStrategyEvaluate, events.SourceEvaluate, w.T,
		events.StrategyEvaluate{StrategyID: w.strat, EvaluationTime: w.T})
	if codes := deliver(t, ev.url, se, binary, 0); codes[0] != http.StatusOK {
		t.Fatalf("strategy.evaluate: got %v want 200\n%s", codes, ev.out)
	}
	var breach *cloudevents.Event
	for _, e := range w.sink.events() {
		if e.Type() == events.TypePoolThresholdBreached {
			breach = &e
		}
	}
	if breach == nil {
		t.Fatalf("evaluate emitted no threshold.breached: %v\n%s", w.sink.events(), ev.out)
	}

	admin := adminConn(t, w.db.URL)
	setConnections(t, admin, w.db.Name, false)
	reopened := false
	t.Cleanup(func() {
		if !reopened {
			setConnections(t, admin, w.db.Name, true)
		}
	})

	if code := get(t, mt.url+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: got %d want 503", code)
	}
	first := send(t, mt.url, *breach, structured)
	if !events.RetryableStatus(first) {
		t.Fatalf("threshold.breached during the outage: got %d, a status Knative does not retry (the event would be lost)\n%s", first, mt.out)
	}

	// The database comes back while the Broker is still retrying.
	back := make(chan struct{})
	go func() {
		defer close(back)
		time.Sleep(700 * time.Millisecond)
		setConnections(t, admin, w.db.Name, true)
	}()
	codes := deliver(t, mt.url, *breach, binary, 8)
	<-back
	reopened = true
	// The fixture's own idle connections were terminated with the others;
	// pgxpool only pings an idle connection after a second, so drop them.
	w.db.Pool.Reset()
	if last := codes[len(codes)-1]; last != http.StatusOK {
		t.Fatalf("redeliveries: got %v, want retryable statuses then 200\n%s", codes, mt.out)
	}
	t.Logf("statuses seen: %d, then %v", first, codes)
	if code := get(t, mt.url+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the outage: got %d want 200", code)
	}
	if n := len(w.fx.Orders()); n != 1 {
		t.Errorf("got %d orders want 1", n)
	}
	if got := w.sink.distinct(events.TypeOrderCreated); got != 1 {
		t.Errorf("order.created: got %d distinct events want 1", got)
	}
}

// The hourly PingSource delivers straight to collect (infra/base/functions/
// collect): its ping is handled in both modes, redelivered too; any other
// type is refused for good.
func TestHourlyPingSourceToCollect(t *testing.T) {
	db := pgtest.New(t)
	r := redistest.New(t)
	c := startFunction(t, "collect", map[string]string{
		"ELASTICPOOL_ENV": "local", "TIMEZONE": "Asia/Shanghai", "LOG_LEVEL": "warn",
		"DATABASE_URL": db.URL, "REDIS_URL": r.URL, "REDIS_PREFIX": r.Prefix,
	})
	ping := newEvent(t, randomID("hourly"), events.TypePing, "/apis/v1/namespaces/elasticpool/pingsources/hourly-collect", time.Now(), nil)
	for _, m := range []mode{binary, structured, binary} {
		if codes := deliver(t, c.url, ping, m, 0); codes[0] != http.StatusOK {
			t.Errorf("ping (%s): got %v want 200\n%s", m, codes, c.out)
		}
	}
	other := newEvent(t, randomID("x"), events.TypeOrderCreated, events.SourceMatch, time.Now(), map[string]any{"orderId": 1})
	if codes := deliver(t, c.url, other, structured, 3); len(codes) != 1 || codes[0] != http.StatusUnprocessableEntity {
		t.Errorf("order.created to collect: got %v want one 422", codes)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// adminConn connects to the server's postgres database (the test database
// itself is about to refuse connections).
func adminConn(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/postgres"
	c, err := pgx.Connect(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// setConnections opens or closes a database to new connections; closing
// also ends the open ones, as a failover would.
func setConnections(t *testing.T, c *pgx.Conn, db string, allow bool) {
	ctx := context.Background()
	if _, err := c.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", pgx.Identifier{db}.Sanitize(), allow)); err != nil {
		t.Errorf("allow connections %t: %v", allow, err)
		return
	}
	if !allow {
		if _, err := c.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db); err != nil {
			t.Errorf("terminate connections: %v", err)
		}
	}
}
