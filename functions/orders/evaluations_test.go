package orders

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi/apitest"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	pt "github.com/elasticpool/elasticpool/shared/pipeline/pipelinetest"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

// evalEnv is the API with an event recorder and a world where one pool is
// hot: cluster bj1/a, pool general at 90% CPU allocated for 3 days, three
// idle devices, a policy template, a strategy (entry, > 80% for 3 days,
// target 60%, largest-first) and a disabled copy of it.
type evalEnv struct {
	admin, viewer *apitest.Client
	fx            *pt.Fixture
	rec           *events.Recorder
	strategy, off int64
	now           time.Time
}

func newEvalEnv(t *testing.T) *evalEnv {
	t.Helper()
	db := pgtest.New(t)
	r := redistest.New(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	e := &evalEnv{rec: &events.Recorder{}, fx: pt.New(t, db.Pool, loc), now: time.Date(2026, 11, 29, 9, 30, 0, 0, loc)}
	f := New(Deps{DB: db.Pool, Redis: r.Client, RedisPrefix: r.Prefix, Auth: mustAuth(), Location: loc,
		Now: func() time.Time { return e.now }, Emitter: e.rec})
	e.admin = apitest.New(t, f.Routes(), f.API(), adminToken, coverage)
	e.viewer = e.admin.As(viewerToken)

	fx := e.fx
	c := fx.Cluster("bj-prod-1", "bj1", "a")
	p := fx.Pool(c, "general", "general", 1, nil)
	fx.Days(c, p, e.now, 5, pt.Uniform(4, 32, 128, 90, 50))
	for _, d := range []pt.Device{{Hostname: "small", Cores: 16, MemGiB: 64}, {Hostname: "big", Cores: 64, MemGiB: 256}, {Hostname: "mid", Cores: 32, MemGiB: 128}} {
		d.IDC, d.Zone = "bj1", "a"
		fx.AddDevice(d)
	}
	fx.Policy("general-entry", "general", "pool_entry",
		fx.Template("x86", `{"groups":[{"blocks":[{"type":"device","key":"cpuArch","op":"eq","value":"x86_64"}]}]}`))
	s := pt.Strategy{Name: "hot", Action: "pool_entry", CPUThreshold: pt.P(80.0), CPUType: "allocated", CPUTarget: pt.P(60.0),
		DurationMinutes: 3 * 1440, CooldownMinutes: 1440, Selection: "largest-first", Clusters: []int64{c}}
	e.strategy = fx.AddStrategy(s)
	s.Name, s.Disabled = "hot-off", true
	e.off = fx.AddStrategy(s)
	return e
}

func TestEvaluationDryRunWritesNothing(t *testing.T) {
	e := newEvalEnv(t)
	var res EvaluationResult
	e.admin.Must(http.StatusOK, "POST", "/api/v1/evaluations", map[string]any{"strategyId": e.strategy, "dryRun": true}).JSON(t, &res)
	if !res.DryRun || len(res.Strategies) != 1 || res.OrdersCreated != 0 {
		t.Fatalf("result %+v", res)
	}
	d := res.Strategies[0].Decisions[0]
	if d.Result != "triggered" || d.HistoryID != nil || d.Match == nil || d.Match.Status != "would_create" {
		t.Fatalf("decision %+v", d)
	}
	if hosts := hostnames(d.Match.Devices); !slices.Equal(hosts, []string{"big"}) || d.Readings["cpu"].Rate != 90 {
		t.Fatalf("devices %v readings %+v", hosts, d.Readings)
	}
	if n := e.fx.Count("strategy_execution_history") + e.fx.Count("elastic_scaling_orders"); n != 0 || len(e.rec.Sent()) != 0 {
		t.Fatalf("dry run wrote %d rows and sent %d events", n, len(e.rec.Sent()))
	}
	// A disabled strategy can be tried out.
	e.admin.Must(http.StatusOK, "POST", "/api/v1/evaluations", map[string]any{"strategyId": e.off, "dryRun": true})
	// Every enabled strategy, in the future (what-if), dry.
	e.admin.Must(http.StatusOK, "POST", "/api/v1/evaluations", map[string]any{"dryRun": true, "evaluationTime": e.now.Add(48 * time.Hour)}).JSON(t, &res)
	if len(res.Strategies) != 1 || res.Strategies[0].StrategyID != e.strategy {
		t.Fatalf("all-strategies dry run %+v", res.Strategies)
	}
}

func TestEvaluationRunNowCreatesTheOrderOnce(t *testing.T) {
	e := newEvalEnv(t)
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	var res EvaluationResult
	e.admin.Must(http.StatusOK, "POST", "/api/v1/evaluations", map[string]any{}, "traceparent", traceparent).JSON(t, &res)
	if res.OrdersCreated != 1 || res.DryRun {
		t.Fatalf("result %+v", res)
	}
	d := res.Strategies[0].Decisions[0]
	if d.HistoryID == nil || d.Match == nil || d.Match.Status != "created" || d.Match.OrderNumber == "" {
		t.Fatalf("decision %+v", d)
	}
	orders := e.fx.Orders()
	if len(orders) != 1 || !slices.Equal(orders[0].Devices, []string{"big"}) || *orders[0].EvaluationID != *d.HistoryID {
		t.Fatalf("orders %+v", orders)
	}
	sent := e.rec.OfType(events.TypeOrderCreated)
	if len(sent) != 1 || sent[0].Data.(events.OrderCreated).OrderNumber != d.Match.OrderNumber {
		t.Fatalf("events %+v", e.rec.Sent())
	}

	// The same T again: its rows are reused, the order found again.
	e.admin.Must(http.StatusOK, "POST", "/api/v1/evaluations", map[string]any{"strategyId": e.strategy, "evaluationTime": e.now}).JSON(t, &res)
	if !res.Strategies[0].Reused || res.OrdersCreated != 0 || res.Strategies[0].Decisions[0].Match.Status != "existing" {
		t.Fatalf("second run %+v", res.Strategies[0])
	}
	if n := len(e.fx.Orders()); n != 1 {
		t.Fatalf("got %d orders, want 1", n)
	}
}

func TestEvaluationErrors(t *testing.T) {
	e := newEvalEnv(t)
	e.admin.Must(http.StatusNotFound, "POST", "/api/v1/evaluations", map[string]any{"strategyId": 999})
	p := e.admin.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/evaluations", map[string]any{"strategyId": e.off}).Problem(t)
	if got := p.Locations(); !slices.Equal(got, []string{"body.strategyId"}) {
		t.Fatalf("disabled: locations %v", got)
	}
	p = e.admin.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/evaluations", map[string]any{"evaluationTime": e.now.Add(time.Hour)}).Problem(t)
	if got := p.Locations(); !slices.Equal(got, []string{"body.evaluationTime"}) {
		t.Fatalf("future: locations %v", got)
	}
	e.admin.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/evaluations", map[string]any{"strategyId": 0})
	e.viewer.Must(http.StatusForbidden, "POST", "/api/v1/evaluations", map[string]any{"dryRun": true})
}

func hostnames(ds []MatchedDevice) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Hostname)
	}
	return out
}
