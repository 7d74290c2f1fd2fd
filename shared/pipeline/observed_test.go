package pipeline

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// TestObservedOfKeepsNothingOfTheBuffers evaluates many varied pools
// through one scaling.Buffers and one arena, as decide does, and only then
// compares every Observed with the one built the plain way (scaling.Evaluate
// and the allocating reference below): reused buffers must not leak into
// what a history row keeps.
func TestObservedOfKeepsNothingOfTheBuffers(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 6, 0, 0, 0, loc) // the window crosses the fall-back day
	rng := rand.New(rand.NewPCG(3, 4))
	f := func(v float64) *float64 { return &v }
	strategies := []scaling.Strategy{
		{ID: 1, ThresholdTriggerAction: scaling.ActionPoolEntry, CPUThresholdValue: f(80), CPUThresholdType: scaling.ThresholdAllocated,
			CPUTargetValue: f(60), DurationMinutes: 7 * 1440, CooldownMinutes: 1440},
		{ID: 2, ThresholdTriggerAction: scaling.ActionPoolExit, MemoryThresholdValue: f(30), MemoryThresholdType: scaling.ThresholdUsage,
			MemoryTargetValue: f(50), CPUThresholdValue: f(20), CPUThresholdType: scaling.ThresholdUsage, CPUTargetValue: f(40),
			ConditionLogic: scaling.LogicOR, DurationMinutes: 3 * 1440},
		{ID: 3, ThresholdTriggerAction: scaling.ActionPoolEntry, CPUThresholdValue: f(50), CPUThresholdType: scaling.ThresholdAllocated,
			CPUTargetValue: f(40), MemoryThresholdValue: f(50), MemoryThresholdType: scaling.ThresholdAllocated, MemoryTargetValue: f(40),
			DurationMinutes: 1},
	}
	var (
		buf  scaling.Buffers
		a    arena
		got  []Observed
		want []Observed
	)
	for i := range 3000 {
		s := strategies[i%len(strategies)]
		in := scaling.EvalInput{Strategy: s, ClusterID: 1, PoolID: int64(i), At: at, Location: loc}
		today := scaling.DateOf(at.In(loc))
		for k := 1; k <= s.RequiredDays()+1; k++ {
			if rng.IntN(5) == 0 {
				continue // a gap
			}
			day := today.AddDays(-k)
			ds := scaling.DailySnapshot{Day: day, Snapshot: scaling.Snapshot{
				CapturedAt:  time.Date(day.Year, day.Month, day.Day, 23, 0, 0, 0, loc),
				CPUCapacity: []int64{0, 1000}[min(rng.IntN(8), 1)], CPUAllocated: rng.Int64N(1000),
				MemCapacity: 1 << 40, MemAllocated: rng.Int64N(1 << 40), NodeCount: 3,
			}}
			if rng.IntN(4) > 0 {
				v := rng.Int64N(1000)
				ds.CPUUsage = &v
			}
			if rng.IntN(4) > 0 {
				v := rng.Int64N(1 << 40)
				ds.MemUsage = &v
			}
			in.Days = append(in.Days, ds)
		}
		if i%11 == 0 {
			in.LastOrder = &scaling.LastOrder{ID: 9, CreatedAt: at.Add(-time.Hour)} // cooldown for strategy 1
		}
		ev, err := buf.Evaluate(in)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, observedOf(ev, in.LastOrder, &a))
		plain, err := scaling.Evaluate(in)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, referenceObservedOf(plain, in.LastOrder))
	}
	for i := range got {
		if diff := cmp.Diff(want[i], got[i]); diff != "" {
			t.Fatalf("pool %d: observed differs (-want +got):\n%s", i, diff)
		}
		gj, _ := json.Marshal(got[i])
		wj, _ := json.Marshal(want[i])
		if string(gj) != string(wj) {
			t.Fatalf("pool %d: got JSON %s\nwant %s", i, gj, wj)
		}
	}
}

// referenceObservedOf is observedOf as it was before the arena: one
// allocation per array, kept to check the arena's result against.
func referenceObservedOf(ev scaling.Evaluation, lastOrder *scaling.LastOrder) Observed {
	o := Observed{
		WindowStart: ev.WindowStart, WindowEnd: ev.WindowEnd, Counted: ev.Counted, Latest: ev.Last,
		LastOrder: lastOrder, CooldownUntil: ev.CooldownUntil, IdempotencyKey: ev.IdempotencyKey,
		EvaluationReason: ev.Reason,
	}
	if n := len(ev.Days); n > 0 {
		ds := &DaySeries{Met: make([]bool, n)}
		rates := make([]float64, 0, 2*n)
		column := func(col *[]*float64, i int, r *float64) {
			if *col == nil {
				*col = make([]*float64, n)
			}
			if r != nil {
				rates = append(rates, math.Round(*r*100)/100)
				(*col)[i] = &rates[len(rates)-1]
			}
		}
		for i, d := range ev.Days {
			ds.Met[i] = d.Met
			for _, r := range d.Resources {
				if r.Resource == scaling.CPU {
					column(&ds.CPU, i, r.Rate)
				} else {
					column(&ds.Memory, i, r.Rate)
				}
				if r.Unjudged != "" {
					ds.Unjudged = append(ds.Unjudged, Unjudged{Date: d.Date, Resource: r.Resource, Why: r.Unjudged})
				}
			}
		}
		o.Days = ds
	}
	if last := ev.LastDay(); last != nil && len(last.Resources) > 0 {
		targets := map[scaling.Resource]float64{}
		for _, r := range ev.Rules {
			targets[r.Resource] = r.Target
		}
		o.Resources = map[string]events.ResourceReading{}
		for _, r := range last.Resources {
			rd := events.ResourceReading{Type: string(r.Type), Capacity: r.Capacity, Threshold: r.Threshold, Target: targets[r.Resource]}
			if r.Value != nil {
				rd.Value = *r.Value
			}
			if r.Rate != nil {
				rd.Rate = *r.Rate
			}
			o.Resources[string(r.Resource)] = rd
		}
	}
	return o
}

func TestPoolIndex(t *testing.T) {
	for name, pools := range map[string][]int64{
		"dense":  {105, 101, 103, 1100},
		"sparse": {7, 1 << 40, -3, 99},
		"empty":  nil,
	} {
		t.Run(name, func(t *testing.T) {
			x := newPoolIndex(pools)
			for i, p := range pools {
				if got, ok := x.get(p); !ok || got != i {
					t.Errorf("got get(%d) = %d, %v, want %d, true", p, got, ok, i)
				}
			}
			for _, p := range []int64{0, 100, 102, 104, 1101, math.MinInt64, math.MaxInt64} {
				if got, ok := x.get(p); ok {
					t.Errorf("got get(%d) = %d, true, want not found", p, got)
				}
			}
		})
	}
}
