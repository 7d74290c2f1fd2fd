package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/pipeline"
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

// T is the tick: 06:00 in TIMEZONE.
var T = time.Date(2026, 11, 29, 6, 0, 0, 0, shanghai)

// world is one cluster (bj1/a) with three pools — general hot for 3 days,
// gpu cool, highmem without data — a disabled cluster, idle devices of
// three sizes in bj1/a and decoys that must never be chosen.
type world struct {
	fx                     *pt.Fixture
	db                     *pgxpool.Pool
	locks                  *lock.Client
	rdb                    *redis.Client
	prefix                 string
	c1, c2                 int64
	general, gpu, highmem  int64
	disabledPool           int64
	tmpl                   int64
	strategy               int64
	small, mid, big, other int64
	held, heldOrder        int64
	eval                   *pipeline.Evaluator
	match                  *pipeline.Matcher
	now                    time.Time
}

const x86 = `{"groups":[{"blocks":[{"type":"device","key":"cpuArch","op":"eq","value":"x86_64"}]}]}`

func newWorld(t *testing.T, strategy pt.Strategy) *world {
	t.Helper()
	db := pgtest.NewPool(t)
	r := redistest.New(t)
	w := &world{fx: pt.New(t, db, shanghai), db: db, rdb: r.Client, locks: lock.New(r.Client, r.Prefix), prefix: r.Prefix, now: T.Add(time.Second)}
	fx := w.fx
	w.c1 = fx.Cluster("bj-prod-1", "bj1", "a")
	w.c2 = fx.Cluster("bj-old", "bj1", "a")
	fx.Exec("UPDATE clusters SET status = 'disabled' WHERE id = $1", w.c2)
	w.general = fx.Pool(w.c1, "general", "general", 1, nil)
	w.gpu = fx.Pool(w.c1, "gpu", "gpu", 1, nil)
	w.highmem = fx.Pool(w.c1, "highmem", "highmem", 1, nil)
	w.disabledPool = fx.Pool(w.c2, "general", "general", 1, nil)
	fx.Days(w.c1, w.general, T, 5, pt.Uniform(4, 32, 128, 90, 50))
	fx.Days(w.c1, w.gpu, T, 5, pt.Uniform(4, 32, 128, 50, 50))
	fx.Days(w.c2, w.disabledPool, T, 5, pt.Uniform(4, 32, 128, 95, 95))

	w.small = fx.AddDevice(pt.Device{Hostname: "small", IDC: "bj1", Zone: "a", Cores: 16, MemGiB: 64})
	w.mid = fx.AddDevice(pt.Device{Hostname: "mid", IDC: "bj1", Zone: "a", Cores: 32, MemGiB: 128})
	w.big = fx.AddDevice(pt.Device{Hostname: "big", IDC: "bj1", Zone: "a", Cores: 64, MemGiB: 256})
	w.other = fx.AddDevice(pt.Device{Hostname: "other-idc", IDC: "bj2", Zone: "a", Cores: 128, MemGiB: 512})
	// A device an open (manual) order holds is never offered again.
	w.held = fx.AddDevice(pt.Device{Hostname: "held", IDC: "bj1", Zone: "a", Cores: 96, MemGiB: 384})
	w.heldOrder = fx.MaintenanceOrder(w.held)

	w.tmpl = fx.Template("x86", x86)
	fx.Policy("general-entry", "general", "pool_entry", w.tmpl)
	if strategy.Name == "" {
		strategy = entryStrategy()
	}
	strategy.Clusters = []int64{w.c1, w.c2}
	w.strategy = fx.AddStrategy(strategy)
	clock := func() time.Time { return w.now }
	w.eval = &pipeline.Evaluator{DB: db, Locks: w.locks, Location: shanghai, Now: clock}
	w.match = &pipeline.Matcher{DB: db, Location: shanghai, Now: clock}
	return w
}

func entryStrategy() pt.Strategy {
	return pt.Strategy{
		Name: "general-hot", Action: "pool_entry", CPUThreshold: pt.P(80.0), CPUType: "allocated", CPUTarget: pt.P(60.0),
		DurationMinutes: 3 * 1440, CooldownMinutes: 1440, ResourceTypes: "general,gpu,highmem", Selection: "largest-first",
	}
}

func results(run *pipeline.Run) map[string]string {
	out := map[string]string{}
	for _, d := range run.Decisions {
		out[d.ClusterName+"/"+d.PoolName] = d.Result
	}
	return out
}

func TestEvaluateWritesOneRowPerPoolThenReuses(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	ctx := context.Background()
	run, err := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"bj-prod-1/general": "triggered", "bj-prod-1/gpu": "not_met", "bj-prod-1/highmem": "no_data"}
	if d := cmp.Diff(want, results(run)); d != "" {
		t.Fatalf("results (-want +got):\n%s", d)
	}
	hs := w.fx.Histories()
	if len(hs) != 3 {
		t.Fatalf("got %d history rows, want 3 (the disabled cluster is out of scope)", len(hs))
	}
	trig := run.Triggered()[0]
	if trig.StreakDays != 3 || trig.RequiredDays != 3 || !strings.Contains(trig.Reason, "cpu allocated 90.0% > 80% for 3 of 3 days") {
		t.Fatalf("triggered row %+v", trig)
	}
	if trig.Observed.Redis != "locked" || trig.Observed.IdempotencyKey != fmt.Sprintf("%d:%d:%d:2026-11-29", w.strategy, w.c1, w.general) {
		t.Fatalf("observed %+v", trig.Observed)
	}
	if got := trig.Observed.Resources["cpu"]; got.Rate != 90 || got.Threshold != 80 || got.Target != 60 || got.Capacity != 128000 {
		t.Fatalf("cpu reading %+v", got)
	}
	evs := run.BreachEvents()
	if len(evs) != 1 || evs[0].ID != fmt.Sprintf("pool.threshold.breached:%d", trig.HistoryID) {
		t.Fatalf("breach events %+v", evs)
	}
	if b := evs[0].Data.(events.PoolThresholdBreached); b.HistoryID != trig.HistoryID || b.PoolID != w.general || b.StreakDays != 3 || !b.EvaluationTime.Equal(T) {
		t.Fatalf("breach %+v", b)
	}
	// The cooldown lock expires when T's cooldown ends.
	ttl := w.rdb.TTL(ctx, w.lockKey(w.c1, w.general)).Val()
	if ttl <= 23*time.Hour || ttl > 24*time.Hour {
		t.Fatalf("cooldown lock TTL %v, want just under 24h (T + cooldown − now)", ttl)
	}

	// A redelivery (even with nanoseconds the database cannot store) reuses the rows.
	again, err := w.eval.Evaluate(ctx, w.strategy, T.Add(300*time.Nanosecond), pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused || len(again.Decisions) != 3 || again.Decisions[0].HistoryID != run.Decisions[0].HistoryID {
		t.Fatalf("redelivery: reused %v, %d decisions", again.Reused, len(again.Decisions))
	}
	if d := cmp.Diff(evs, again.BreachEvents()); d != "" {
		t.Fatalf("redelivery emits other events (-first +again):\n%s", d)
	}
	if n := len(w.fx.Histories()); n != 3 {
		t.Fatalf("got %d history rows after a redelivery, want 3", n)
	}
}

func (w *world) lockKey(c, p int64) string {
	return w.prefix + fmt.Sprintf("cooldown:%d:%d", c, p)
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	ctx := context.Background()
	run, err := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if results(run)["bj-prod-1/general"] != "triggered" || run.BreachEvents() != nil {
		t.Fatalf("dry run %+v", results(run))
	}
	out, err := w.match.Preview(ctx, w.strategy, run.Triggered()[0], T)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != pipeline.MatchWouldCreate || len(out.Devices) != 1 || out.Devices[0].Hostname != "big" {
		t.Fatalf("preview %+v", out)
	}
	if n := w.fx.Count("strategy_execution_history") + w.fx.Count("elastic_scaling_orders"); n != 1 { // the held device's manual order
		t.Fatalf("dry run wrote %d rows", n-1)
	}
	if n := w.rdb.Exists(ctx, w.lockKey(w.c1, w.general)).Val(); n != 0 {
		t.Fatal("dry run took a cooldown lock")
	}
}

func TestDisabledStrategy(t *testing.T) {
	t.Parallel()
	s := entryStrategy()
	s.Disabled = true
	w := newWorld(t, s)
	ctx := context.Background()
	if _, err := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{}); !errors.Is(err, pipeline.ErrStrategyDisabled) {
		t.Fatalf("got %v, want ErrStrategyDisabled", err)
	}
	if _, err := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{DryRun: true, IncludeDisabled: true}); err != nil {
		t.Fatalf("dry run of a disabled strategy: %v", err)
	}
	if _, err := w.eval.Evaluate(ctx, 999999, T, pipeline.EvalOptions{}); !errors.Is(err, pipeline.ErrStrategyNotFound) {
		t.Fatalf("got %v, want ErrStrategyNotFound", err)
	}
}

func TestCooldownLockHeldByAnotherEvaluation(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	ctx := context.Background()
	if _, err := w.locks.Obtain(ctx, fmt.Sprintf("cooldown:%d:%d", w.c1, w.general), time.Hour); err != nil {
		t.Fatal(err)
	}
	run, err := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := run.Decisions[0]
	if d.Result != "cooldown" || !strings.Contains(d.Reason, "holds the cooldown lock") || len(run.BreachEvents()) != 0 {
		t.Fatalf("got %s %q, want cooldown by lock and no breach", d.Result, d.Reason)
	}
}

func TestCooldownZeroTakesNoLock(t *testing.T) {
	t.Parallel()
	s := entryStrategy()
	s.CooldownMinutes = 0
	w := newWorld(t, s)
	run, err := w.eval.Evaluate(context.Background(), w.strategy, T, pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := run.Triggered()[0]; d.Observed.Redis != "not_needed" {
		t.Fatalf("redis %q, want not_needed", d.Observed.Redis)
	}
}

func TestRedisUnavailableStillEvaluatesAndSaysSo(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer dead.Close()
	w.eval.Locks = lock.New(dead, "x:")
	start := time.Now()
	run, err := w.eval.Evaluate(context.Background(), w.strategy, T, pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := run.Triggered()[0]
	if d.Result != "triggered" || d.Observed.Redis != "unavailable" || !strings.Contains(d.Error, "Redis unavailable: cooldown lock") {
		t.Fatalf("got %s, redis %q, error %q", d.Result, d.Observed.Redis, d.Error)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v with Redis down", el)
	}
	if hs := w.fx.Histories(); !strings.Contains(hs[0].Error, "Redis unavailable") {
		t.Fatalf("history error %q", hs[0].Error)
	}
}

func breachOf(run *pipeline.Run) events.PoolThresholdBreached {
	return run.BreachEvents()[0].Data.(events.PoolThresholdBreached)
}

func TestMatchCreatesOneOrderWhateverTheRedeliveries(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	ctx := context.Background()
	run, err := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := breachOf(run)
	out, err := w.match.Match(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != pipeline.MatchCreated || !strings.HasPrefix(out.OrderNumber, "EP-20261129-") || len(out.OrderNumber) != len("EP-20261129-000001") {
		t.Fatalf("outcome %+v", out)
	}
	orders := w.fx.Orders()
	if len(orders) != 2 { // the held device's manual order + ours
		t.Fatalf("got %d orders, want 2", len(orders))
	}
	o := orders[1]
	key := fmt.Sprintf("%d:%d:%d:2026-11-29", w.strategy, w.c1, w.general)
	if o.Action != "pool_entry" || o.Status != "pending" || *o.Key != key || *o.EvaluationID != b.HistoryID || !slices.Equal(o.Devices, []string{"big"}) {
		t.Fatalf("order %+v", o)
	}
	h := w.fx.Histories()[0]
	if h.OrderID == nil || *h.OrderID != o.ID || !strings.Contains(h.Reason, "→ order "+o.Number) {
		t.Fatalf("history %+v", h)
	}
	if ids := eventIDs(out.Events); !slices.Equal(ids, []string{fmt.Sprintf("order.created:%d", o.ID)}) {
		t.Fatalf("events %v", ids)
	}

	// Redelivered three more times, two of them at once: same order, same events.
	var wg sync.WaitGroup
	outs := make([]pipeline.Outcome, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); outs[i], errs[i] = w.match.Match(ctx, b) }()
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil || outs[i].Status != pipeline.MatchExisting || *outs[i].OrderID != o.ID {
			t.Fatalf("redelivery %d: %+v, %v", i, outs[i], errs[i])
		}
		if d := cmp.Diff(eventIDs(out.Events), eventIDs(outs[i].Events)); d != "" {
			t.Fatalf("redelivery emits other events: %s", d)
		}
	}
	if n := len(w.fx.Orders()); n != 2 {
		t.Fatalf("got %d orders after redeliveries, want 2", n)
	}
	if h2 := w.fx.Histories()[0]; h2.Reason != h.Reason {
		t.Fatalf("reason changed on redelivery:\n%s\n%s", h.Reason, h2.Reason)
	}
}

func eventIDs(evs []events.Outgoing) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func TestRunNowTheSameDayLinksTheSameOrder(t *testing.T) {
	t.Parallel()
	s := entryStrategy()
	s.CooldownMinutes = 0 // so the second evaluation triggers again
	w := newWorld(t, s)
	ctx := context.Background()
	run, _ := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	first, err := w.match.Match(ctx, breachOf(run))
	if err != nil {
		t.Fatal(err)
	}
	// The database dates the order with its own clock; put it at the tick,
	// as in production, before the run-now four hours later.
	w.fx.Exec("UPDATE elastic_scaling_orders SET created_at = $1 WHERE id = $2", T.Add(2*time.Second), *first.OrderID)
	later := T.Add(4 * time.Hour)
	w.now = later
	run2, err := w.eval.Evaluate(ctx, w.strategy, later, pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.match.Match(ctx, breachOf(run2))
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != pipeline.MatchExisting || *second.OrderID != *first.OrderID {
		t.Fatalf("second run: %+v, want the first order %d", second, *first.OrderID)
	}
	hs := w.fx.Histories()
	if got := *hs[len(hs)-3].OrderID; got != *first.OrderID {
		t.Fatalf("second history row links order %d, want %d", got, *first.OrderID)
	}
}

func TestMatchWithoutCandidatesReportsShortageOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	w.fx.Exec("UPDATE devices SET status = 'retired' WHERE id = ANY($1)", []int64{w.small, w.mid, w.big})
	ctx := context.Background()
	run, _ := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	out, err := w.match.Match(ctx, breachOf(run))
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != pipeline.MatchShortage || out.Found != 0 || out.Needed < 1 || out.OrderID != nil {
		t.Fatalf("outcome %+v", out)
	}
	key := fmt.Sprintf("%d:%d:%d:2026-11-29", w.strategy, w.c1, w.general)
	if ids := eventIDs(out.Events); !slices.Equal(ids, []string{"inventory.shortage:" + key}) {
		t.Fatalf("events %v", ids)
	}
	if n := len(w.fx.Orders()); n != 1 {
		t.Fatalf("got %d orders, want only the manual one", n)
	}
	if h := w.fx.Histories()[0]; h.OrderID != nil || !strings.Contains(h.Reason, "inventory shortage reported") {
		t.Fatalf("history %+v", h)
	}
}

func TestMatchWithFewerCandidatesOrdersWhatThereIsAndReportsShortage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	w.fx.Exec("UPDATE devices SET status = 'retired' WHERE id = $1", w.big)
	ctx := context.Background()
	run, _ := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	out, err := w.match.Match(ctx, breachOf(run))
	if err != nil {
		t.Fatal(err)
	}
	// need 64 cores; small (16) + mid (32) = 48
	if out.Status != pipeline.MatchCreated || !out.Shortage || out.Found != 2 || len(out.Devices) != 2 {
		t.Fatalf("outcome %+v", out)
	}
	if ids := eventIDs(out.Events); len(ids) != 2 || !strings.HasPrefix(ids[0], "order.created:") || !strings.HasPrefix(ids[1], "inventory.shortage:") {
		t.Fatalf("events %v", ids)
	}
	sh := out.Events[1].Data.(events.InventoryShortage)
	if sh.OrderID == nil || *sh.OrderID != *out.OrderID || sh.Found != 2 || sh.Needed <= 2 {
		t.Fatalf("shortage %+v", sh)
	}
	// A redelivery re-emits both (the shortage is remembered on the history row).
	again, err := w.match.Match(ctx, breachOf(run))
	if err != nil || again.Status != pipeline.MatchExisting {
		t.Fatalf("again %+v %v", again, err)
	}
	if d := cmp.Diff(eventIDs(out.Events), eventIDs(again.Events)); d != "" {
		t.Fatalf("redelivery events differ: %s", d)
	}
}

func TestMatchWithoutTemplateSaysSoInHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	w.fx.Exec("UPDATE resource_pool_device_matching_policies SET status = 'disabled'")
	ctx := context.Background()
	run, _ := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	out, err := w.match.Match(ctx, breachOf(run))
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != pipeline.MatchNoTemplate || len(out.Events) != 0 {
		t.Fatalf("outcome %+v", out)
	}
	h := w.fx.Histories()[0]
	if !strings.Contains(h.Error, "no query template") || !strings.Contains(h.Error, "entryQueryTemplateId") {
		t.Fatalf("history error %q", h.Error)
	}
}

func TestStrategyTemplateWinsOverPolicyAndNodeSelectorApplies(t *testing.T) {
	t.Parallel()
	s := entryStrategy()
	s.NodeSelector = "rack-tier=gold"
	w := newWorld(t, s)
	gold := w.fx.AddDevice(pt.Device{Hostname: "gold", IDC: "bj1", Zone: "a", Cores: 8, MemGiB: 32, Labels: map[string]string{"rack-tier": "gold", "arm": "yes"}})
	_ = gold
	armOnly := w.fx.Template("labelled", `{"groups":[{"blocks":[{"type":"nodeLabel","key":"arm","op":"exists"}]}]}`)
	w.fx.Exec("UPDATE elastic_scaling_strategies SET entry_query_template_id = $1 WHERE id = $2", armOnly, w.strategy)
	ctx := context.Background()
	run, _ := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	out, err := w.match.Match(ctx, breachOf(run))
	if err != nil {
		t.Fatal(err)
	}
	if out.Template == nil || out.Template.Source != "strategy" || out.Template.ID != armOnly {
		t.Fatalf("template %+v", out.Template)
	}
	if len(out.Devices) != 1 || out.Devices[0].Hostname != "gold" || !out.Shortage {
		t.Fatalf("devices %+v (shortage %v)", out.Devices, out.Shortage)
	}
}

func TestExitRemovesLeastAllocatedAndKeepsMinNodes(t *testing.T) {
	t.Parallel()
	s := pt.Strategy{
		Name: "general-cold", Action: "pool_exit", CPUThreshold: pt.P(30.0), CPUType: "allocated", CPUTarget: pt.P(60.0),
		DurationMinutes: 1440, ResourceTypes: "general",
	}
	w := newWorld(t, s)
	// 4 nodes × 32 cores at 10% allocated; node data says n3 is emptiest, then n1.
	w.fx.Days(w.c1, w.general, T, 2, pt.Uniform(4, 32, 128, 10, 10))
	exitTmpl := w.fx.Template("any-x86", x86)
	w.fx.Policy("general-exit", "general", "pool_exit", exitTmpl)
	for i, used := range []int64{4000, 2000, 6000, 1000} {
		name := fmt.Sprintf("n%d", i)
		w.fx.AddDevice(pt.Device{Hostname: name, IDC: "bj1", Zone: "a", Cores: 32, MemGiB: 128, Status: "in_pool",
			ClusterID: &w.c1, PoolID: &w.general, NodeCPUUsed: pt.P(used), NodeMemUsed: pt.P(int64(0))})
	}
	w.fx.Exec("UPDATE resource_pools SET min_nodes = 2 WHERE id = $1", w.general)
	ctx := context.Background()
	run, err := w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.match.Match(ctx, breachOf(run))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, d := range out.Devices {
		got = append(got, d.Hostname)
	}
	// 12.8k of 128k allocated; target 60% would allow removing all but one,
	// min_nodes 2 keeps two: the two least allocated go (n3, then n1).
	if out.Status != pipeline.MatchCreated || !slices.Equal(got, []string{"n3", "n1"}) {
		t.Fatalf("exit chose %v (%s: %s), want [n3 n1]", got, out.Status, out.Reason)
	}
	if o := w.fx.Orders()[1]; o.Action != "pool_exit" {
		t.Fatalf("order %+v", o)
	}
}

func TestConcurrentEvaluationsOfOneStrategyMakeOneOrder(t *testing.T) {
	t.Parallel()
	w := newWorld(t, pt.Strategy{})
	ctx := context.Background()
	var wg sync.WaitGroup
	runs := make([]*pipeline.Run, 4)
	errs := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = w.eval.Evaluate(ctx, w.strategy, T, pipeline.EvalOptions{})
			if errs[i] == nil {
				for _, ev := range runs[i].BreachEvents() {
					if _, err := w.match.Match(ctx, ev.Data.(events.PoolThresholdBreached)); err != nil {
						errs[i] = err
					}
				}
			}
		}()
	}
	wg.Wait()
	reused := 0
	for i := range 4 {
		if errs[i] != nil {
			t.Fatalf("evaluation %d: %v", i, errs[i])
		}
		if runs[i].Reused {
			reused++
		}
		if results(runs[i])["bj-prod-1/general"] != "triggered" {
			t.Fatalf("evaluation %d saw %v", i, results(runs[i]))
		}
	}
	if reused != 3 {
		t.Fatalf("got %d reused runs, want 3 (one decides, the others wait and reuse)", reused)
	}
	if n := len(w.fx.Orders()); n != 2 {
		t.Fatalf("got %d orders, want the manual one + one", n)
	}
}
