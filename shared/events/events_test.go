package events

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	_ "gocloud.dev/pubsub/mempubsub"
)

func TestHandlerStatusIsTheRetryPolicy(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		panic bool
		want  int
	}{
		{"handled", nil, false, 200},
		{"permanent", Permanent(errors.New("unknown strategy 7")), false, 422},
		{"malformed", Malformed(errors.New("bad json")), false, 400},
		{"retryable", Retryable(errors.New("database down")), false, 503},
		{"wrapped retryable", fmt.Errorf("evaluate: %w", Retryable(errors.New("x"))), false, 503},
		{"plain error", errors.New("boom"), false, 500},
		{"panic", nil, true, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Handler(context.Background(), func(ctx context.Context, e cloudevents.Event) error {
				if tt.panic {
					panic("bug")
				}
				return tt.err
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"strategyId":1}`))
			req.Header.Set("ce-specversion", "1.0")
			req.Header.Set("ce-id", "1")
			req.Header.Set("ce-type", TypeStrategyEvaluate)
			req.Header.Set("ce-source", "/test")
			req.Header.Set("content-type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Fatalf("got status %d, want %d", res.StatusCode, tt.want)
			}
			if got := StatusCode(tt.err); !tt.panic && got != tt.want {
				t.Fatalf("StatusCode got %d, want %d", got, tt.want)
			}
			if got, want := RetryableStatus(tt.want), tt.want >= 500; got != want {
				t.Fatalf("RetryableStatus(%d) got %v, want %v", tt.want, got, want)
			}
		})
	}
}

func TestRetryableStatusIsKnatives(t *testing.T) {
	for code := 200; code < 600; code++ {
		want := code >= 500 || code == 404 || code == 408 || code == 409 || code == 429
		if got := RetryableStatus(code); got != want {
			t.Errorf("RetryableStatus(%d) got %v, want %v", code, got, want)
		}
	}
}

func TestDecode(t *testing.T) {
	e := cloudevents.NewEvent()
	e.SetID("1")
	e.SetType(TypeStrategyEvaluate)
	e.SetSource("/test")
	var p StrategyEvaluate
	if err := Decode(e, &p); StatusCode(err) != 400 {
		t.Fatalf("no data: got %v, want a 400", err)
	}
	_ = e.SetData(cloudevents.ApplicationJSON, []byte(`{"strategyId":"x"}`))
	if err := Decode(e, &p); StatusCode(err) != 400 || !IsPermanent(err) {
		t.Fatalf("bad data: got %v, want a permanent 400", err)
	}
	_ = e.SetData(cloudevents.ApplicationJSON, StrategyEvaluate{StrategyID: 7, EvaluationTime: time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)})
	if err := Decode(e, &p); err != nil || p.StrategyID != 7 {
		t.Fatalf("got %+v, %v; want strategy 7", p, err)
	}
}

func TestTraceContinuesAcrossEvents(t *testing.T) {
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	in := cloudevents.NewEvent()
	in.SetExtension("traceparent", parent)
	in.SetExtension("tracestate", "k=v")
	tr, ok := TraceOf(in)
	if !ok || tr.Parent != parent || tr.State != "k=v" {
		t.Fatalf("TraceOf got %+v %v", tr, ok)
	}
	ctx := ContextWithTrace(context.Background(), tr)
	out, err := Outgoing{Type: TypeOrderCreated, Source: SourceMatch, Data: map[string]int{"a": 1}}.Event(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, ok := TraceOf(out)
	if !ok {
		t.Fatal("emitted event has no traceparent")
	}
	if got.TraceID() != tr.TraceID() || got.Parent == parent || got.State != "k=v" || !strings.HasSuffix(got.Parent, "-01") {
		t.Fatalf("got %+v, want trace %s continued with a new span id", got, tr.TraceID())
	}
	root, _ := Outgoing{Type: TypeOrderCreated, Source: SourceMatch}.Event(context.Background(), time.Now())
	if r, ok := TraceOf(root); !ok || r.TraceID() == "" {
		t.Fatalf("an event emitted outside any trace got %v, want a new trace", r)
	}
	for _, bad := range []string{"", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", strings.ToUpper(parent)} {
		if _, ok := TraceFrom(ContextWithTrace(context.Background(), Trace{Parent: bad})); ok {
			t.Errorf("traceparent %q accepted", bad)
		}
	}
}

// sink records CloudEvents requests and answers statuses in turn (the last repeats).
type sink struct {
	mu       sync.Mutex
	statuses []int
	reqs     []*http.Request
	bodies   []string
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.bodies = append(s.bodies, string(b))
	code := 202
	if n := len(s.reqs); len(s.statuses) > 0 {
		code = s.statuses[min(n, len(s.statuses))-1]
	}
	s.mu.Unlock()
	w.WriteHeader(code)
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func TestHTTPEmitter(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		wantErr   bool
		wantTries int
	}{
		{"accepted", []int{202}, false, 1},
		{"retried until accepted", []int{503, 429, 200}, false, 3},
		{"500 retried like Knative", []int{500, 202}, false, 2},
		{"permanent refusal not retried", []int{400}, true, 1},
		{"gives up after retries", []int{503}, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{statuses: tt.statuses}
			srv := httptest.NewServer(s)
			defer srv.Close()
			now := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
			em, err := NewHTTPEmitter(srv.URL, `{"extensions":{"cluster":"prod-1"}}`,
				EmitterOptions{Retries: 2, Backoff: time.Millisecond, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			err = em.Emit(context.Background(), Outgoing{ID: "order.created:42", Type: TypeOrderCreated, Source: SourceMatch,
				Subject: "order/42", Data: OrderCreated{OrderID: 42, OrderNumber: "EP-20261129-000042", Action: "pool_entry", DeviceCount: 2}})
			if (err != nil) != tt.wantErr {
				t.Fatalf("got err %v, want error %v", err, tt.wantErr)
			}
			if got := s.count(); got != tt.wantTries {
				t.Fatalf("got %d attempts, want %d", got, tt.wantTries)
			}
			r := s.reqs[0]
			got := map[string]string{
				"ce-id": r.Header.Get("ce-id"), "ce-type": r.Header.Get("ce-type"), "ce-source": r.Header.Get("ce-source"),
				"ce-subject": r.Header.Get("ce-subject"), "ce-cluster": r.Header.Get("ce-cluster"),
				"ce-time": r.Header.Get("ce-time"), "content-type": r.Header.Get("content-type"),
			}
			want := map[string]string{
				"ce-id": "order.created:42", "ce-type": TypeOrderCreated, "ce-source": SourceMatch, "ce-subject": "order/42",
				"ce-cluster": "prod-1", "ce-time": "2026-11-29T06:00:00Z", "content-type": "application/json",
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("binary-mode headers (-want +got):\n%s", d)
			}
			if r.Header.Get("ce-traceparent") == "" {
				t.Fatal("no traceparent")
			}
			if !strings.Contains(s.bodies[0], `"orderNumber":"EP-20261129-000042"`) {
				t.Fatalf("body %s", s.bodies[0])
			}
		})
	}
	if _, err := NewHTTPEmitter("", "", EmitterOptions{}); err == nil {
		t.Fatal("empty K_SINK accepted")
	}
	if _, err := NewHTTPEmitter("http://x", "{bad", EmitterOptions{}); err == nil {
		t.Fatal("bad K_CE_OVERRIDES accepted")
	}
}

// brokerEnv is a broker on mem:// delivering to one test server per subscriber.
type brokerEnv struct {
	b       *Broker
	ingress *httptest.Server
	mu      sync.Mutex
	dead    []DeadLetter
}

func newBroker(t *testing.T, subs map[string]http.Handler, triggers []Trigger) *brokerEnv {
	t.Helper()
	env := &brokerEnv{}
	urls := map[string]string{}
	for name, h := range subs {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls[name] = srv.URL + "/events/" + name
	}
	b, err := NewBroker(context.Background(), BrokerOptions{
		URL: "mem://" + randomHex(8), Triggers: triggers, Subscribers: urls,
		Retry: 3, BackoffDelay: time.Millisecond,
		OnDeadLetter: func(d DeadLetter) { env.mu.Lock(); env.dead = append(env.dead, d); env.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = b.Run(context.Background()) }()
	env.b = b
	env.ingress = httptest.NewServer(b)
	t.Cleanup(func() {
		env.ingress.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return env
}

func (env *brokerEnv) deadLetters() []DeadLetter {
	env.mu.Lock()
	defer env.mu.Unlock()
	return append([]DeadLetter(nil), env.dead...)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBrokerRoutesByTypeAndRetriesLikeKnative(t *testing.T) {
	var evaluated, matched, flaky, refused, failing atomic.Int32
	handler := func(n *atomic.Int32, fn func(int32) error) http.Handler {
		h, err := Handler(context.Background(), func(ctx context.Context, e cloudevents.Event) error {
			return fn(n.Add(1))
		})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	ok := func(int32) error { return nil }
	env := newBroker(t, map[string]http.Handler{
		"evaluate": handler(&evaluated, ok),
		"match":    handler(&matched, ok),
		"flaky": handler(&flaky, func(n int32) error {
			if n < 3 {
				return Retryable(errors.New("db down"))
			}
			return nil
		}),
		"refuses": handler(&refused, func(int32) error { return Permanent(errors.New("unknown strategy")) }),
		"failing": handler(&failing, func(int32) error { return errors.New("always") }),
	}, []Trigger{
		{Name: "t-eval", EventType: TypeStrategyEvaluate, Subscriber: "evaluate"},
		{Name: "t-match", EventType: TypePoolThresholdBreached, Subscriber: "match"},
		{Name: "t-flaky", EventType: TypeOrderCreated, Subscriber: "flaky"},
		{Name: "t-refuses", EventType: TypeInventoryShortage, Subscriber: "refuses"},
		{Name: "t-failing", EventType: TypeOrderStatusChanged, Subscriber: "failing"},
		{Name: "t-absent", EventType: TypeOrderStatusChanged, Subscriber: "not-served"},
	})
	em, err := NewHTTPEmitter(env.ingress.URL, "", EmitterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, typ := range []string{TypeStrategyEvaluate, TypePoolThresholdBreached, TypeOrderCreated, TypeInventoryShortage, TypeOrderStatusChanged, TypeMaintenanceRequested} {
		if err := em.Emit(ctx, Outgoing{ID: typ, Type: typ, Source: "/test", Data: map[string]int{"x": 1}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "deliveries", func() bool {
		return evaluated.Load() == 1 && matched.Load() == 1 && flaky.Load() == 3 && refused.Load() == 1 && failing.Load() == 4
	})
	eventually(t, "dead letters", func() bool { return len(env.deadLetters()) == 2 })
	got := map[string][2]int{}
	for _, d := range env.deadLetters() {
		got[d.Trigger] = [2]int{d.Attempts, d.Status}
	}
	want := map[string][2]int{"t-refuses": {1, 422}, "t-failing": {4, 500}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("dead letters (-want +got):\n%s", d)
	}
	time.Sleep(20 * time.Millisecond) // nothing else arrives
	if evaluated.Load() != 1 || matched.Load() != 1 || flaky.Load() != 3 {
		t.Fatalf("extra deliveries: evaluate %d, match %d, flaky %d", evaluated.Load(), matched.Load(), flaky.Load())
	}
}

func TestBrokerDeliversBinaryWithTraceAndArrivalTime(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	env := newBroker(t, map[string]http.Handler{
		"match": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r)
			mu.Unlock()
		}),
	}, []Trigger{{Name: "m", EventType: TypePoolThresholdBreached, Subscriber: "match", Path: "/x"}})
	em, _ := NewHTTPEmitter(env.ingress.URL, "", EmitterOptions{})
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := ContextWithTrace(context.Background(), Trace{Parent: parent})
	if err := em.Emit(ctx, Outgoing{ID: "b1", Type: TypePoolThresholdBreached, Source: SourceEvaluate, Data: PoolThresholdBreached{StrategyID: 1}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivery", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	r := got[0]
	if r.URL.Path != "/events/match/x" {
		t.Fatalf("delivered to %s, want /events/match/x", r.URL.Path)
	}
	if r.Header.Get("ce-id") != "b1" || r.Header.Get("ce-knativearrivaltime") == "" {
		t.Fatalf("headers %v: want binary mode with ce-id and ce-knativearrivaltime", r.Header)
	}
	if tp := r.Header.Get("ce-traceparent"); tp[3:35] != parent[3:35] {
		t.Fatalf("traceparent %s does not continue trace %s", tp, parent[3:35])
	}
}

func TestBrokerIngressRejectsNonEvents(t *testing.T) {
	env := newBroker(t, nil, []Trigger{})
	res, err := http.Post(env.ingress.URL, "application/json", strings.NewReader(`{"hello":1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("got %d, want 400", res.StatusCode)
	}
	res, err = http.Get(env.ingress.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Fatalf("GET got %d, want 405", res.StatusCode)
	}
}

func TestTriggersTable(t *testing.T) {
	names := map[string]bool{}
	routes := map[string]bool{}
	for _, tr := range Triggers {
		if names[tr.Name] {
			t.Errorf("duplicate trigger name %s", tr.Name)
		}
		names[tr.Name] = true
		key := tr.EventType + " → " + tr.Subscriber
		if routes[key] {
			t.Errorf("duplicate route %s", key)
		}
		routes[key] = true
	}
	for _, want := range []string{
		TypePing + " → evaluate", TypeStrategyEvaluate + " → evaluate", TypePoolThresholdBreached + " → match",
		TypeOrderCreated + " → notify", TypeInventoryShortage + " → notify",
	} {
		if !routes[want] {
			t.Errorf("missing route %s", want)
		}
	}
}

func TestParseOverrides(t *testing.T) {
	got, err := ParseOverrides(`{"extensions":{"a":"1","b":"2"}}`)
	if err != nil || !cmp.Equal(got, map[string]string{"a": "1", "b": "2"}) {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := ParseOverrides(""); err != nil || got != nil {
		t.Fatalf("empty: got %v, %v", got, err)
	}
}

type reqIDKey struct{}

// TestHandlerSurvivesConcurrentCancellations is the sdk-go receive-handler
// hazard: many concurrent requests, a third of them abandoned by their
// client mid-way. Every request must be answered (the server closes), and
// every event must run under its own request's context.
func TestHandlerSurvivesConcurrentCancellations(t *testing.T) {
	var mismatched, handled atomic.Int32
	h, err := Handler(context.Background(), func(ctx context.Context, e cloudevents.Event) error {
		if ctx.Value(reqIDKey{}) != e.ID() {
			mismatched.Add(1)
		}
		time.Sleep(20 * time.Millisecond)
		if ctx.Err() != nil {
			mismatched.Add(1) // the context of a request still being answered was cancelled
		}
		handled.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqIDKey{}, r.Header.Get("ce-id"))))
	}))
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			timeout := 5 * time.Second
			if i%3 == 0 {
				timeout = 5 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{}`))
			req.Header.Set("ce-specversion", "1.0")
			req.Header.Set("ce-id", fmt.Sprint(i))
			req.Header.Set("ce-type", "t")
			req.Header.Set("ce-source", "/s")
			req.Header.Set("content-type", "application/json")
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("server cannot close: a request is stuck in the receive handler")
	}
	if mismatched.Load() != 0 {
		t.Fatalf("%d events ran under another request's context", mismatched.Load())
	}
	if ok.Load() < 40 || handled.Load() < ok.Load() {
		t.Fatalf("answered %d, handled %d of 60", ok.Load(), handled.Load())
	}
}
