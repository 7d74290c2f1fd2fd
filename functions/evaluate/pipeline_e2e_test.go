package evaluate_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	_ "gocloud.dev/pubsub/mempubsub"

	"github.com/elasticpool/elasticpool/functions/evaluate"
	"github.com/elasticpool/elasticpool/functions/match"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	pt "github.com/elasticpool/elasticpool/shared/pipeline/pipelinetest"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

// T is the daily tick, 06:00 in TIMEZONE.
var T = time.Date(2026, 11, 29, 6, 0, 0, 0, shanghai)

// stack is the pipeline as deployed: evaluate and match behind the local
// broker, every hop over HTTP in binary mode, on real Postgres and Redis.
type stack struct {
	t      *testing.T
	fx     *pt.Fixture
	srv    *httptest.Server
	broker *events.Broker
	sink   events.Emitter // K_SINK: the broker's ingress

	mu       sync.Mutex
	notified []string        // "type id" of every event notify received
	traces   map[string]bool // trace ids of the events notify received
	dead     []events.DeadLetter

	// world
	c1, general, cold, gpu int64
	entry, exit            int64
}

type options struct {
	copies int          // every emitted event is sent this many times (at-least-once gone wild)
	locks  *lock.Client // nil: the test's Redis
}

// multi sends each event n times, as a broker redelivering everything would.
type multi struct {
	em events.Emitter
	n  int
}

func (m multi) Emit(ctx context.Context, o events.Outgoing) error {
	for range m.n {
		if err := m.em.Emit(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

func newStack(t *testing.T, o options) *stack {
	t.Helper()
	db := pgtest.NewPool(t)
	r := redistest.New(t)
	if o.locks == nil {
		o.locks = lock.New(r.Client, r.Prefix)
	}
	if o.copies == 0 {
		o.copies = 1
	}
	s := &stack{t: t, fx: pt.New(t, db, shanghai), traces: map[string]bool{}}
	mux := http.NewServeMux()
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)

	sink, err := events.NewHTTPEmitter(s.srv.URL+"/broker", "", events.EmitterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.sink = multi{sink, o.copies}
	now := func() time.Time { return T.Add(3 * time.Second) }
	ev := evaluate.New(evaluate.Deps{DB: db, Locks: o.locks, Emitter: s.sink, Location: shanghai, Now: now})
	mt := match.New(match.Deps{DB: db, Emitter: s.sink, Location: shanghai, Now: now})
	mount := func(path string, fn events.HandlerFunc) {
		h, err := events.Handler(context.Background(), fn)
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle(path, h)
	}
	mount("/events/evaluate", ev.Handle)
	mount("/events/match", mt.Handle)
	mount("/events/notify", func(ctx context.Context, e cloudevents.Event) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.notified = append(s.notified, e.Type()+" "+e.ID())
		if tr, ok := events.TraceFrom(ctx); ok {
			s.traces[tr.TraceID()] = true
		}
		return nil
	})
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	s.broker, err = events.NewBroker(context.Background(), events.BrokerOptions{
		URL: "mem://e2e-" + hex.EncodeToString(b),
		Subscribers: map[string]string{
			events.FunctionEvaluate: s.srv.URL + "/events/evaluate",
			events.FunctionMatch:    s.srv.URL + "/events/match",
			events.FunctionNotify:   s.srv.URL + "/events/notify",
		},
		Retry: 5, BackoffDelay: 10 * time.Millisecond,
		OnDeadLetter: func(d events.DeadLetter) { s.mu.Lock(); s.dead = append(s.dead, d); s.mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/broker", s.broker)
	go func() { _ = s.broker.Run(context.Background()) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.broker.Shutdown(ctx)
	})
	s.seed()
	return s
}

// seed: cluster bj1/a with a hot general pool (entry), a cold pool (exit)
// and a gpu pool that meets nothing; three idle devices and four nodes.
func (s *stack) seed() {
	fx := s.fx
	s.c1 = fx.Cluster("bj-prod-1", "bj1", "a")
	s.general = fx.Pool(s.c1, "general", "general", 1, nil)
	s.cold = fx.Pool(s.c1, "batch", "batch", 2, nil)
	s.gpu = fx.Pool(s.c1, "gpu", "gpu", 1, nil)
	fx.Days(s.c1, s.general, T, 5, pt.Uniform(4, 32, 128, 90, 85))
	fx.Days(s.c1, s.cold, T, 5, pt.Uniform(4, 32, 128, 10, 10))
	fx.Days(s.c1, s.gpu, T, 5, pt.Uniform(2, 32, 128, 50, 50))
	for _, d := range []pt.Device{
		{Hostname: "idle-16c", Cores: 16, MemGiB: 64},
		{Hostname: "idle-32c", Cores: 32, MemGiB: 128},
		{Hostname: "idle-64c", Cores: 64, MemGiB: 256},
	} {
		d.IDC, d.Zone = "bj1", "a"
		fx.AddDevice(d)
	}
	for i, used := range []int64{4000, 2000, 6000, 1000} {
		fx.AddDevice(pt.Device{Hostname: fmt.Sprintf("batch-%d", i), IDC: "bj1", Zone: "a", Cores: 32, MemGiB: 128, Status: "in_pool",
			ClusterID: &s.c1, PoolID: &s.cold, NodeCPUUsed: pt.P(used), NodeMemUsed: pt.P(int64(0))})
	}
	tmpl := fx.Template("x86", `{"groups":[{"blocks":[{"type":"device","key":"cpuArch","op":"eq","value":"x86_64"}]}]}`)
	fx.Policy("general-entry", "general", "pool_entry", tmpl)
	fx.Policy("batch-exit", "batch", "pool_exit", tmpl)
	s.entry = fx.AddStrategy(pt.Strategy{Name: "hot", Action: "pool_entry", CPUThreshold: pt.P(80.0), CPUType: "allocated",
		CPUTarget: pt.P(60.0), DurationMinutes: 3 * 1440, CooldownMinutes: 1440, ResourceTypes: "general,gpu",
		Selection: "largest-first", Clusters: []int64{s.c1}})
	s.exit = fx.AddStrategy(pt.Strategy{Name: "cold", Action: "pool_exit", CPUThreshold: pt.P(30.0), CPUType: "allocated",
		CPUTarget: pt.P(60.0), DurationMinutes: 2 * 1440, CooldownMinutes: 1440, ResourceTypes: "batch", Clusters: []int64{s.c1}})
}

// ping sends the PingSource event of tick T to the broker.
func (s *stack) ping(ctx context.Context, at time.Time) {
	s.t.Helper()
	err := s.sink.Emit(ctx, events.Outgoing{ID: "ping-" + at.Format(time.RFC3339), Type: events.TypePing,
		Source: "/apis/v1/namespaces/elasticpool/pingsources/evaluate-daily", Time: at})
	if err != nil {
		s.t.Fatal(err)
	}
}

// settle waits until the pipeline has done at least what done checks,
// then until it is quiet: the observed state stops changing for a while
// (late redeliveries and retries included).
func (s *stack) settle(done func() bool) string {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			s.t.Fatalf("pipeline never got there; state:\n%s", s.state())
		}
		time.Sleep(25 * time.Millisecond)
	}
	state := s.state
	last, since := state(), time.Now()
	for time.Since(since) < 700*time.Millisecond {
		if time.Now().After(deadline) {
			s.t.Fatalf("pipeline never settled; last state:\n%s", last)
		}
		time.Sleep(25 * time.Millisecond)
		if cur := state(); cur != last {
			last, since = cur, time.Now()
		}
	}
	return last
}

// order summary: action pool devices…
func (s *stack) orders() []string {
	var out []string
	pools := map[int64]string{s.general: "general", s.cold: "batch", s.gpu: "gpu"}
	for _, o := range s.fx.Orders() {
		out = append(out, fmt.Sprintf("%s %s %s", o.Action, pools[o.PoolID], strings.Join(o.Devices, ",")))
	}
	return out
}

// ordersNotified: at least n orders exist and notify heard of as many.
func (s *stack) ordersNotified(n int) func() bool {
	return func() bool {
		s.mu.Lock()
		heard := len(s.notified)
		s.mu.Unlock()
		return len(s.fx.Orders()) >= n && heard >= n
	}
}

func (s *stack) state() string {
	s.mu.Lock()
	n := len(s.notified)
	s.mu.Unlock()
	return fmt.Sprintf("orders %v history %d notified %d", s.orders(), s.fx.Count("strategy_execution_history"), n)
}

func (s *stack) notifiedTypes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, n := range s.notified {
		if !seen[n] {
			seen[n] = true
			out = append(out, strings.Fields(n)[0])
		}
	}
	sort.Strings(out)
	return out
}

// wantOrders is what the seeded world must produce at T, whatever happens
// to the events: the hot pool gets the 64-core device (largest-first covers
// the 64 cores needed to go from 90% to 60%), the cold pool sheds its two
// least allocated nodes (min_nodes 2).
var wantOrders = []string{"pool_entry general idle-64c", "pool_exit batch batch-1,batch-3"}

func (s *stack) checkOrders() {
	s.t.Helper()
	got := s.orders()
	sort.Strings(got)
	if d := cmp.Diff(wantOrders, got); d != "" {
		s.t.Fatalf("orders (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{events.TypeOrderCreated, events.TypeOrderCreated}, s.notifiedTypes()); d != "" {
		s.t.Fatalf("distinct events notify received (-want +got):\n%s", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.dead) > 0 {
		s.t.Fatalf("dead letters: %+v", s.dead)
	}
}

func TestTickProducesExactlyTheExpectedOrders(t *testing.T) {
	t.Parallel()
	s := newStack(t, options{})
	// The ping carries a trace; every event down the pipeline continues it.
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	s.ping(events.ContextWithTrace(context.Background(), events.Trace{Parent: traceparent}), T)
	s.settle(s.ordersNotified(2))
	s.checkOrders()
	s.mu.Lock()
	traces := s.traces
	s.mu.Unlock()
	if d := cmp.Diff(map[string]bool{"4bf92f3577b34da6a3ce929d0e0e4736": true}, traces); d != "" {
		t.Fatalf("traces reaching notify (-want +got):\n%s", d)
	}
	hs := s.fx.Histories()
	got := map[string]string{}
	for _, h := range hs {
		got[fmt.Sprintf("%d/%d", h.StrategyID, h.PoolID)] = h.Result
		if !h.At.Equal(T) {
			t.Fatalf("history at %v, want the tick %v", h.At, T)
		}
	}
	want := map[string]string{
		fmt.Sprintf("%d/%d", s.entry, s.general): "triggered",
		fmt.Sprintf("%d/%d", s.entry, s.gpu):     "not_met",
		fmt.Sprintf("%d/%d", s.exit, s.cold):     "triggered",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("history (-want +got):\n%s", d)
	}
	for _, h := range hs {
		if h.Result == "triggered" && (h.OrderID == nil || !strings.Contains(h.Reason, "→ order EP-20261129-")) {
			t.Fatalf("triggered history row not linked to its order: %+v", h)
		}
	}
}

func TestEveryEventDeliveredThreeTimesMakesTheSameOrders(t *testing.T) {
	t.Parallel()
	s := newStack(t, options{copies: 3})
	s.ping(context.Background(), T) // three pings, three of every event after them
	s.settle(s.ordersNotified(2))
	s.checkOrders()
	if n := s.fx.Count("strategy_execution_history"); n != 3 {
		t.Fatalf("got %d history rows, want 3", n)
	}
}

func TestTwoEvaluationsOfOneStrategyAtOnceMakeOneOrder(t *testing.T) {
	t.Parallel()
	s := newStack(t, options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	// The tick and a run-now a minute later, both arriving together, twice.
	for i, at := range []time.Time{T, T.Add(time.Minute), T, T.Add(time.Minute)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.sink.Emit(ctx, events.Outgoing{ID: fmt.Sprintf("eval-%d", i), Type: events.TypeStrategyEvaluate,
				Source: "/test", Data: events.StrategyEvaluate{StrategyID: s.entry, EvaluationTime: at}})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	s.settle(func() bool { return s.ordersNotified(1)() && s.fx.Count("strategy_execution_history") >= 4 })
	got := s.orders()
	if !slices.Equal(got, []string{"pool_entry general idle-64c"}) {
		t.Fatalf("orders %v, want one entry order", got)
	}
	// Of the two instants, one triggered; the other found the pool cooling down.
	results := map[string]int{}
	for _, h := range s.fx.Histories() {
		if h.PoolID == s.general {
			results[h.Result]++
		}
	}
	if d := cmp.Diff(map[string]int{"triggered": 1, "cooldown": 1}, results); d != "" {
		t.Fatalf("general pool history (-want +got):\n%s", d)
	}
}

func TestRedisUnavailableMakesNoDuplicateAndSaysSo(t *testing.T) {
	t.Parallel()
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	// Without Redis there is no tick key either: a second ping fans out again.
	s := newStack(t, options{locks: lock.New(dead, "gone:"), copies: 2})
	s.ping(context.Background(), T)
	s.settle(s.ordersNotified(2))
	s.checkOrders()
	for _, h := range s.fx.Histories() {
		if h.Result == "triggered" && !strings.Contains(h.Error, "Redis unavailable: cooldown lock") {
			t.Fatalf("history error %q, want it to say Redis was unavailable", h.Error)
		}
	}
}
