package scaling

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestEvaluateMatchesReference runs the optimized Evaluate and the plain
// map-based reference (evaluate_ref_test.go) on random inputs built around
// every edge of DESIGN §5: duplicate and out-of-window days, gaps, DST
// zones, zero capacity, unreported usage, exact-threshold rates, cooldown
// boundaries, both actions and logics, invalid strategies. Every field of
// the result must be equal, pointers followed, with and without Buffers.
func TestEvaluateMatchesReference(t *testing.T) {
	locs := []*time.Location{time.UTC, loadLoc(t, "Asia/Shanghai"), loadLoc(t, "America/New_York"),
		loadLoc(t, "Australia/Lord_Howe"), loadLoc(t, "Pacific/Apia")}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	var buf Buffers
	for i := range n {
		in := randomInput(rng, locs)
		orig := slices.Clone(in.Days)
		got, gotErr := Evaluate(in)
		want, wantErr := refEvaluate(in)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("case %d: got error %v, want %v\ninput %+v", i, gotErr, wantErr, in)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d:\ngot  %+v\nwant %+v\ninput %+v", i, got, want, in)
		}
		// The same through one Buffers reused across every case.
		gotB, gotBErr := buf.Evaluate(in)
		if (gotBErr == nil) != (wantErr == nil) || gotBErr != nil && gotBErr.Error() != wantErr.Error() {
			t.Fatalf("case %d: got error %v with Buffers, want %v", i, gotBErr, wantErr)
		}
		if !reflect.DeepEqual(gotB, want) {
			t.Fatalf("case %d with Buffers:\ngot  %+v\nwant %+v\ninput %+v", i, gotB, want, in)
		}
		if !reflect.DeepEqual(in.Days, orig) {
			t.Fatalf("case %d: Evaluate modified its input", i)
		}
		// The result must not alias the input.
		for j := range in.Days {
			in.Days[j].CPUAllocated = -1
		}
		if got.Last != nil && want.Last != nil && got.Last.CPUAllocated != want.Last.CPUAllocated {
			t.Fatalf("case %d: Last aliases the input", i)
		}
	}
}

func randomInput(rng *rand.Rand, locs []*time.Location) EvalInput {
	pick := func(vs ...float64) float64 { return vs[rng.IntN(len(vs))] }
	loc := locs[rng.IntN(len(locs))]
	// T: 06:00 or a random instant, in a year with DST changes and a leap day.
	base := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
	at := base.AddDate(0, 0, -rng.IntN(800))
	if rng.IntN(2) == 0 {
		at = at.Add(6 * time.Hour)
	} else {
		at = at.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
	}
	s := Strategy{ID: rng.Int64N(1000), ThresholdTriggerAction: ActionPoolEntry}
	if rng.IntN(2) == 0 {
		s.ThresholdTriggerAction = ActionPoolExit
	}
	resource := func(th, tg **float64, typ *ThresholdType) {
		v := pick(10, 20, 50, 80, 80.5, 100)
		*th = &v
		*typ = ThresholdAllocated
		if rng.IntN(3) == 0 {
			*typ = ThresholdUsage
		}
		var target float64
		if s.ThresholdTriggerAction == ActionPoolEntry {
			target = v * pick(0.5, 0.75, 0.99)
		} else {
			target = min(100, v+pick(1, 10, 30))
			if v == 100 {
				target = 100 // invalid (target must be above): both must reject
			}
		}
		*tg = &target
	}
	switch rng.IntN(3) {
	case 0:
		resource(&s.CPUThresholdValue, &s.CPUTargetValue, &s.CPUThresholdType)
	case 1:
		resource(&s.MemoryThresholdValue, &s.MemoryTargetValue, &s.MemoryThresholdType)
	default:
		resource(&s.CPUThresholdValue, &s.CPUTargetValue, &s.CPUThresholdType)
		resource(&s.MemoryThresholdValue, &s.MemoryTargetValue, &s.MemoryThresholdType)
	}
	s.ConditionLogic = []Logic{"", LogicAND, LogicOR}[rng.IntN(3)]
	s.DurationMinutes = []int{1, 1440, 1441, 2880, 3 * 1440, 7*1440 - 1, 30 * 1440, 65 * 1440, 100 * 1440}[rng.IntN(9)]
	s.CooldownMinutes = []int{0, 60, 1440, 4320}[rng.IntN(4)]
	if rng.IntN(200) == 0 {
		s.DurationMinutes = 0 // invalid
	}
	in := EvalInput{Strategy: s, ClusterID: rng.Int64N(100), PoolID: rng.Int64N(100000), At: at, Location: loc}
	switch rng.IntN(500) {
	case 0:
		in.Location = nil
	case 1:
		in.At = time.Time{}
	}
	if rng.IntN(3) == 0 {
		created := at.Add(-time.Duration(rng.Int64N(int64(5*24*time.Hour))) + time.Duration(rng.IntN(3))*time.Minute)
		if rng.IntN(4) == 0 {
			created = at.Add(-time.Duration(s.CooldownMinutes) * time.Minute) // exactly at the boundary
		}
		in.LastOrder = &LastOrder{ID: 1, OrderNumber: []string{"", "EP-20261128-000001"}[rng.IntN(2)],
			Status: []string{"", "ignored", "completed"}[rng.IntN(3)], CreatedAt: created}
	}
	today := DateOf(at.In(loc))
	d := s.RequiredDays()
	for range rng.IntN(d + 6) {
		day := today.AddDays(-rng.IntN(d+3) + rng.IntN(2)) // some after the window, some before
		if rng.IntN(50) == 0 {
			day = Date{day.Year, day.Month, 40} // not a calendar day: matches nothing
		}
		cpuCap := []int64{0, 10_000, 320_000, 1 << 50}[rng.IntN(4)]
		memCap := []int64{0, 100, 400 << 30}[rng.IntN(3)]
		frac := func(c int64) int64 {
			switch rng.IntN(4) {
			case 0:
				return c / 100 * int64(pick(10, 20, 50, 80, 100)) // exactly a threshold
			case 1:
				return c + 1
			default:
				return rng.Int64N(max(c, 1))
			}
		}
		ds := DailySnapshot{Day: day, Snapshot: Snapshot{
			CapturedAt:   time.Date(day.Year, day.Month, day.Day, rng.IntN(24), 0, 0, 0, loc),
			CPUCapacity:  cpuCap,
			CPUAllocated: frac(cpuCap),
			MemCapacity:  memCap,
			MemAllocated: frac(memCap),
			NodeCount:    rng.IntN(20),
		}}
		if rng.IntN(3) > 0 {
			v := frac(cpuCap)
			ds.CPUUsage = &v
		}
		if rng.IntN(3) > 0 {
			v := frac(memCap)
			ds.MemUsage = &v
		}
		in.Days = append(in.Days, ds)
	}
	return in
}
