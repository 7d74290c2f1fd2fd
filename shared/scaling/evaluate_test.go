package scaling

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below must not depend on the machine's zoneinfo
)

func loadLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// day builds a daily snapshot: cpu capacity 100 cores, memory 400 GiB,
// allocated at the given percents (usage unset).
func day(date string, cpuPct, memPct int64) DailySnapshot {
	d, err := ParseDate(date)
	if err != nil {
		panic(err)
	}
	const memCap = 400 << 30
	return DailySnapshot{Day: d, Snapshot: Snapshot{
		CapturedAt:   time.Date(d.Year, d.Month, d.Day, 23, 0, 0, 0, time.UTC),
		CPUCapacity:  100_000,
		CPUAllocated: cpuPct * 1000,
		MemCapacity:  memCap,
		MemAllocated: memCap / 100 * memPct,
		NodeCount:    10,
	}}
}

// metString renders the window as one letter a day: Y met, n not met, - no snapshot.
func metString(ev Evaluation) string {
	var b strings.Builder
	for _, d := range ev.Days {
		switch {
		case !d.HasSnapshot:
			b.WriteByte('-')
		case d.Met:
			b.WriteByte('Y')
		default:
			b.WriteByte('n')
		}
	}
	return b.String()
}

func TestEvaluate(t *testing.T) {
	sh := loadLoc(t, "Asia/Shanghai")
	ny := loadLoc(t, "America/New_York")
	// T: the 06:00 tick of 2026-11-29 in Shanghai; window 11-26..11-28.
	tShanghai := time.Date(2026, 11, 29, 6, 0, 0, 0, sh)

	bothOn := func(logic Logic) Strategy {
		s := cpuEntry()
		s.MemoryThresholdValue, s.MemoryThresholdType, s.MemoryTargetValue = f64(80), ThresholdAllocated, f64(60)
		s.ConditionLogic = logic
		return s
	}
	exitMemUsage := func() Strategy {
		return Strategy{
			ID:                     9,
			ThresholdTriggerAction: ActionPoolExit,
			MemoryThresholdValue:   f64(30),
			MemoryThresholdType:    ThresholdUsage,
			MemoryTargetValue:      f64(50),
			DurationMinutes:        3 * 1440,
			CooldownMinutes:        1440,
		}
	}
	withUsage := func(d DailySnapshot, cpu, mem *int64) DailySnapshot {
		d.CPUUsage, d.MemUsage = cpu, mem
		return d
	}
	memPct := func(p int64) *int64 { return i64(int64(400<<30) / 100 * p) }
	withCap := func(d DailySnapshot, cpuCap int64) DailySnapshot {
		d.CPUCapacity = cpuCap
		return d
	}
	met3 := []DailySnapshot{day("2026-11-26", 91, 0), day("2026-11-27", 95, 0), day("2026-11-28", 91, 0)}
	met3[2].CPUAllocated = 91_200

	tests := []struct {
		name      string
		strategy  Strategy
		at        time.Time
		loc       *time.Location
		lastOrder *LastOrder
		days      []DailySnapshot

		wantResult  Result
		wantStreak  int
		wantReq     int
		wantWindow  string // "start..end"
		wantMet     string
		wantCounted []Resource
		wantReason  string
		wantKey     string
	}{
		{
			name: "triggered 3 of 3", strategy: cpuEntry(), at: tShanghai, loc: sh, days: met3,
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantWindow: "2026-11-26..2026-11-28", wantMet: "YYY",
			wantCounted: []Resource{CPU},
			wantReason:  "cpu allocated 91.2% > 80% for 3 of 3 days",
			wantKey:     "7:1:2:2026-11-29",
		},
		{
			name: "missing day in the middle breaks the streak", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 91, 0), day("2026-11-28", 91, 0)},
			wantResult: ResultNotMet, wantStreak: 1, wantReq: 3, wantMet: "Y-Y", wantCounted: []Resource{CPU},
			wantReason: "no snapshot on 2026-11-27; streak 1 of 3 days",
		},
		{
			name: "missing last day", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 91, 0), day("2026-11-27", 91, 0)},
			wantResult: ResultNotMet, wantStreak: 0, wantReq: 3, wantMet: "YY-", wantCounted: []Resource{CPU},
			wantReason: "no snapshot on 2026-11-28; streak 0 of 3 days",
		},
		{
			name: "zero capacity is not met", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 91, 0), day("2026-11-27", 91, 0), withCap(day("2026-11-28", 91, 0), 0)},
			wantResult: ResultNotMet, wantStreak: 0, wantReq: 3, wantMet: "YYn", wantCounted: []Resource{CPU},
			wantReason: "cpu capacity 0 on 2026-11-28; streak 0 of 3 days",
		},
		{
			name: "zero capacity every day is data, not no_data", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days: []DailySnapshot{withCap(day("2026-11-26", 0, 0), 0), withCap(day("2026-11-27", 0, 0), 0),
				withCap(day("2026-11-28", 0, 0), 0)},
			wantResult: ResultNotMet, wantStreak: 0, wantReq: 3, wantMet: "nnn", wantCounted: []Resource{CPU},
			wantReason: "cpu capacity 0 on 2026-11-28; streak 0 of 3 days",
		},
		{
			name: "exactly at the threshold is not met (entry)", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 91, 0), day("2026-11-27", 91, 0), day("2026-11-28", 80, 0)},
			wantResult: ResultNotMet, wantStreak: 0, wantReq: 3, wantMet: "YYn", wantCounted: []Resource{CPU},
			wantReason: "cpu allocated 80.0% not > 80% on 2026-11-28; streak 0 of 3 days",
		},
		{
			name: "exactly at the threshold is not met (exit)", strategy: exitMemUsage(), at: tShanghai, loc: sh,
			days: []DailySnapshot{
				withUsage(day("2026-11-26", 0, 0), nil, memPct(20)),
				withUsage(day("2026-11-27", 0, 0), nil, memPct(20)),
				withUsage(day("2026-11-28", 0, 0), nil, memPct(30)),
			},
			wantResult: ResultNotMet, wantStreak: 0, wantReq: 3, wantMet: "YYn", wantCounted: []Resource{Memory},
			wantReason: "memory usage 30.0% not < 30% on 2026-11-28; streak 0 of 3 days",
			wantKey:    "9:1:2:2026-11-29",
		},
		{
			name: "exit broken last day", strategy: exitMemUsage(), at: tShanghai, loc: sh,
			days: []DailySnapshot{
				withUsage(day("2026-11-26", 0, 0), nil, memPct(20)),
				withUsage(day("2026-11-27", 0, 0), nil, memPct(25)),
				withUsage(day("2026-11-28", 0, 0), nil, memPct(42)),
			},
			wantResult: ResultNotMet, wantStreak: 0, wantReq: 3, wantMet: "YYn", wantCounted: []Resource{Memory},
			wantReason: "memory usage 42.0% not < 30% on 2026-11-28; streak 0 of 3 days",
		},
		{
			name: "exit triggered on usage", strategy: exitMemUsage(), at: tShanghai, loc: sh,
			days: []DailySnapshot{
				withUsage(day("2026-11-26", 0, 0), nil, memPct(20)),
				withUsage(day("2026-11-27", 0, 0), nil, memPct(25)),
				withUsage(day("2026-11-28", 0, 0), nil, memPct(12)),
			},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantMet: "YYY", wantCounted: []Resource{Memory},
			wantReason: "memory usage 12.0% < 30% for 3 of 3 days",
		},
		{
			name: "unreported usage on one day is not met", strategy: exitMemUsage(), at: tShanghai, loc: sh,
			days: []DailySnapshot{
				withUsage(day("2026-11-26", 0, 0), nil, memPct(20)),
				withUsage(day("2026-11-27", 0, 0), nil, nil),
				withUsage(day("2026-11-28", 0, 0), nil, memPct(12)),
			},
			wantResult: ResultNotMet, wantStreak: 1, wantReq: 3, wantMet: "YnY", wantCounted: []Resource{Memory},
			wantReason: "memory usage not reported on 2026-11-27; streak 1 of 3 days",
		},
		{
			name: "AND: one resource not met breaks the day", strategy: bothOn(LogicAND), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 91, 85), day("2026-11-27", 91, 85), day("2026-11-28", 91, 70)},
			wantResult: ResultNotMet, wantStreak: 0, wantReq: 3, wantMet: "YYn", wantCounted: []Resource{CPU, Memory},
			wantReason: "memory allocated 70.0% not > 80% on 2026-11-28; streak 0 of 3 days",
		},
		{
			name: "AND: both met", strategy: bothOn(LogicAND), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 91, 85), day("2026-11-27", 91, 85), day("2026-11-28", 91, 85)},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantMet: "YYY", wantCounted: []Resource{CPU, Memory},
			wantReason: "cpu allocated 91.0% > 80% and memory allocated 85.0% > 80% for 3 of 3 days",
		},
		{
			name: "OR: either resource meets the day; counted = met on the last day", strategy: bothOn(LogicOR), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 50, 85), day("2026-11-27", 91, 50), day("2026-11-28", 91, 70)},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantMet: "YYY", wantCounted: []Resource{CPU},
			wantReason: "cpu allocated 91.0% > 80% for 3 of 3 days",
		},
		{
			name: "OR: neither met", strategy: bothOn(LogicOR), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 91, 85), day("2026-11-27", 91, 85), day("2026-11-28", 70, 60)},
			wantResult: ResultNotMet, wantStreak: 0, wantReq: 3, wantMet: "YYn", wantCounted: nil,
			wantReason: "cpu allocated 70.0% not > 80% and memory allocated 60.0% not > 80% on 2026-11-28; streak 0 of 3 days",
		},
		{
			name: "streak longer than the window counts only the window; T's own day is ignored", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days: []DailySnapshot{
				day("2026-11-20", 99, 0), day("2026-11-21", 99, 0), day("2026-11-22", 99, 0), day("2026-11-23", 99, 0),
				day("2026-11-24", 99, 0), day("2026-11-25", 10, 0), // not met, but before the window
				day("2026-11-26", 91, 0), day("2026-11-27", 91, 0), day("2026-11-28", 91, 0),
				day("2026-11-29", 10, 0), // today, incomplete: outside the window
			},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantMet: "YYY", wantCounted: []Resource{CPU},
			wantReason: "cpu allocated 91.0% > 80% for 3 of 3 days",
		},
		{
			name: "no snapshot in the window is no_data", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-20", 99, 0), day("2026-11-29", 99, 0)},
			wantResult: ResultNoData, wantStreak: 0, wantReq: 3, wantMet: "---", wantCounted: []Resource{CPU},
			wantReason: "no snapshot from 2026-11-26 to 2026-11-28",
		},
		{
			name: "no snapshot, one-day window", strategy: func() Strategy { s := cpuEntry(); s.DurationMinutes = 60; return s }(),
			at: tShanghai, loc: sh,
			wantResult: ResultNoData, wantStreak: 0, wantReq: 1, wantWindow: "2026-11-28..2026-11-28", wantMet: "-",
			wantCounted: []Resource{CPU}, wantReason: "no snapshot on 2026-11-28",
		},
		{
			name: "usage never reported is no_data", strategy: exitMemUsage(), at: tShanghai, loc: sh,
			days:       []DailySnapshot{day("2026-11-26", 10, 10), day("2026-11-27", 10, 10), day("2026-11-28", 10, 10)},
			wantResult: ResultNoData, wantStreak: 0, wantReq: 3, wantMet: "nnn", wantCounted: []Resource{Memory},
			wantReason: "memory usage not reported from 2026-11-26 to 2026-11-28",
		},
		{
			name: "duration 1441 minutes needs 2 days", strategy: func() Strategy { s := cpuEntry(); s.DurationMinutes = 1441; return s }(),
			at: tShanghai, loc: sh, days: met3,
			wantResult: ResultTriggered, wantStreak: 2, wantReq: 2, wantWindow: "2026-11-27..2026-11-28", wantMet: "YY",
			wantCounted: []Resource{CPU}, wantReason: "cpu allocated 91.2% > 80% for 2 of 2 days",
		},
		{
			name: "two rows for one day: the later capture wins", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days: func() []DailySnapshot {
				early := day("2026-11-28", 10, 0)
				early.CapturedAt = early.CapturedAt.Add(-time.Hour)
				return []DailySnapshot{day("2026-11-28", 91, 0), day("2026-11-26", 91, 0), early, day("2026-11-27", 91, 0)}
			}(),
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantMet: "YYY", wantCounted: []Resource{CPU},
			wantReason: "cpu allocated 91.0% > 80% for 3 of 3 days",
		},
		{
			name: "cooldown: one minute short", strategy: cpuEntry(), at: tShanghai, loc: sh, days: met3,
			lastOrder:  &LastOrder{CreatedAt: tShanghai.Add(-1439 * time.Minute)},
			wantResult: ResultCooldown, wantReq: 3, wantMet: "",
			wantReason: "in cooldown until 2026-11-29 06:01 (last order 2026-11-28 06:01)",
		},
		{
			name: "cooldown boundary: exactly cooldownMinutes elapsed is not cooldown", strategy: cpuEntry(), at: tShanghai, loc: sh,
			days: met3, lastOrder: &LastOrder{CreatedAt: tShanghai.Add(-1440 * time.Minute)},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantMet: "YYY", wantCounted: []Resource{CPU},
			wantReason: "cpu allocated 91.2% > 80% for 3 of 3 days",
		},
		{
			name: "ignored order still counts for cooldown", strategy: func() Strategy { s := cpuEntry(); s.CooldownMinutes = 2 * 1440; return s }(),
			at: tShanghai, loc: sh, days: met3,
			lastOrder: &LastOrder{ID: 3, OrderNumber: "EP-20261128-0003", Status: "ignored",
				CreatedAt: time.Date(2026, 11, 28, 1, 0, 0, 0, sh)},
			wantResult: ResultCooldown, wantReq: 3,
			wantReason: "in cooldown until 2026-11-30 01:00 (last order EP-20261128-0003 2026-11-28 01:00, ignored)",
		},
		{
			name: "cooldown 0 never holds back a past order", strategy: func() Strategy { s := cpuEntry(); s.CooldownMinutes = 0; return s }(),
			at: tShanghai, loc: sh, days: met3, lastOrder: &LastOrder{CreatedAt: tShanghai.Add(-time.Second)},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantMet: "YYY", wantCounted: []Resource{CPU},
			wantReason: "cpu allocated 91.2% > 80% for 3 of 3 days",
		},
		{
			name:     "Shanghai: T given in UTC belongs to the next local day",
			strategy: cpuEntry(), at: time.Date(2026, 11, 28, 22, 30, 0, 0, time.UTC), loc: sh, days: met3,
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantWindow: "2026-11-26..2026-11-28", wantMet: "YYY",
			wantCounted: []Resource{CPU}, wantReason: "cpu allocated 91.2% > 80% for 3 of 3 days", wantKey: "7:1:2:2026-11-29",
		},
		{
			name:     "same instant evaluated in UTC: the window ends a day earlier",
			strategy: cpuEntry(), at: time.Date(2026, 11, 28, 22, 30, 0, 0, time.UTC), loc: time.UTC, days: met3,
			wantResult: ResultNotMet, wantStreak: 2, wantReq: 3, wantWindow: "2026-11-25..2026-11-27", wantMet: "-YY",
			wantCounted: []Resource{CPU}, wantReason: "no snapshot on 2026-11-25; streak 2 of 3 days", wantKey: "7:1:2:2026-11-28",
		},
		{
			name:     "New York spring forward: the 23-hour day is one window day",
			strategy: cpuEntry(), at: time.Date(2026, 3, 9, 6, 0, 0, 0, ny), loc: ny,
			days:       []DailySnapshot{day("2026-03-06", 91, 0), day("2026-03-07", 91, 0), day("2026-03-08", 91, 0)},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantWindow: "2026-03-06..2026-03-08", wantMet: "YYY",
			wantCounted: []Resource{CPU}, wantReason: "cpu allocated 91.0% > 80% for 3 of 3 days", wantKey: "7:1:2:2026-03-09",
		},
		{
			name:     "New York: 00:30 on the spring-forward day is still that day",
			strategy: cpuEntry(), at: time.Date(2026, 3, 8, 0, 30, 0, 0, ny), loc: ny,
			days:       []DailySnapshot{day("2026-03-05", 91, 0), day("2026-03-06", 91, 0), day("2026-03-07", 91, 0)},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantWindow: "2026-03-05..2026-03-07", wantMet: "YYY",
			wantCounted: []Resource{CPU}, wantReason: "cpu allocated 91.0% > 80% for 3 of 3 days", wantKey: "7:1:2:2026-03-08",
		},
		{
			name:     "New York fall back: the 25-hour day is one window day",
			strategy: cpuEntry(), at: time.Date(2026, 11, 2, 6, 0, 0, 0, ny), loc: ny,
			days:       []DailySnapshot{day("2026-10-30", 91, 0), day("2026-10-31", 91, 0), day("2026-11-01", 91, 0)},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantWindow: "2026-10-30..2026-11-01", wantMet: "YYY",
			wantCounted: []Resource{CPU}, wantReason: "cpu allocated 91.0% > 80% for 3 of 3 days", wantKey: "7:1:2:2026-11-02",
		},
		{
			name:     "New York fall back: cooldown is elapsed minutes, not wall clock (one minute short)",
			strategy: cpuEntry(), at: time.Date(2026, 11, 1, 23, 29, 0, 0, ny), loc: ny,
			lastOrder:  &LastOrder{CreatedAt: time.Date(2026, 11, 1, 0, 30, 0, 0, ny)}, // EDT; 24 h later is 23:30 EST
			wantResult: ResultCooldown, wantReq: 3,
			wantReason: "in cooldown until 2026-11-01 23:30 (last order 2026-11-01 00:30)",
		},
		{
			name:     "New York fall back: cooldown over after 1440 real minutes",
			strategy: cpuEntry(), at: time.Date(2026, 11, 1, 23, 30, 0, 0, ny), loc: ny,
			lastOrder:  &LastOrder{CreatedAt: time.Date(2026, 11, 1, 0, 30, 0, 0, ny)},
			days:       []DailySnapshot{day("2026-10-29", 91, 0), day("2026-10-30", 91, 0), day("2026-10-31", 91, 0)},
			wantResult: ResultTriggered, wantStreak: 3, wantReq: 3, wantWindow: "2026-10-29..2026-10-31", wantMet: "YYY",
			wantCounted: []Resource{CPU}, wantReason: "cpu allocated 91.0% > 80% for 3 of 3 days",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(EvalInput{
				Strategy: tt.strategy, ClusterID: 1, PoolID: 2,
				At: tt.at, Location: tt.loc, LastOrder: tt.lastOrder, Days: tt.days,
			})
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if got.Result != tt.wantResult {
				t.Errorf("got result %s, want %s", got.Result, tt.wantResult)
			}
			if got.StreakDays != tt.wantStreak {
				t.Errorf("got streak %d, want %d", got.StreakDays, tt.wantStreak)
			}
			if got.RequiredDays != tt.wantReq {
				t.Errorf("got required days %d, want %d", got.RequiredDays, tt.wantReq)
			}
			if tt.wantWindow != "" {
				if w := got.WindowStart.String() + ".." + got.WindowEnd.String(); w != tt.wantWindow {
					t.Errorf("got window %s, want %s", w, tt.wantWindow)
				}
			}
			if m := metString(got); m != tt.wantMet {
				t.Errorf("got days %q, want %q", m, tt.wantMet)
			}
			if !slices.Equal(got.Counted, tt.wantCounted) {
				t.Errorf("got counted %v, want %v", got.Counted, tt.wantCounted)
			}
			if got.Reason != tt.wantReason {
				t.Errorf("got reason %q\nwant          %q", got.Reason, tt.wantReason)
			}
			if tt.wantKey != "" && got.IdempotencyKey != tt.wantKey {
				t.Errorf("got key %s, want %s", got.IdempotencyKey, tt.wantKey)
			}
			if (got.Result == ResultCooldown) != (got.CooldownUntil != nil) {
				t.Errorf("got cooldownUntil %v with result %s", got.CooldownUntil, got.Result)
			}
		})
	}
}

func TestEvaluateObservations(t *testing.T) {
	sh := loadLoc(t, "Asia/Shanghai")
	s := cpuEntry()
	s.MemoryThresholdValue, s.MemoryThresholdType, s.MemoryTargetValue = f64(80), ThresholdUsage, f64(60)
	d1, d2 := day("2026-11-27", 91, 0), day("2026-11-28", 92, 0)
	d2.MemUsage = i64(d2.MemCapacity / 100 * 85)
	ev, err := Evaluate(EvalInput{
		Strategy: s, ClusterID: 1, PoolID: 2, At: time.Date(2026, 11, 29, 6, 0, 0, 0, sh), Location: sh,
		Days: []DailySnapshot{d2, d1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Last == nil || ev.Last.Day.String() != "2026-11-28" || ev.Last.CPUAllocated != 92_000 {
		t.Errorf("got last %+v, want the 2026-11-28 snapshot", ev.Last)
	}
	last := ev.LastDay()
	if last == nil || len(last.Resources) != 2 {
		t.Fatalf("got last day %+v", last)
	}
	cpu, mem := last.Resources[0], last.Resources[1]
	if cpu.Resource != CPU || cpu.Rate == nil || *cpu.Rate != 92 || !cpu.Met || *cpu.Value != 92_000 || cpu.Capacity != 100_000 {
		t.Errorf("got cpu %+v", cpu)
	}
	if mem.Resource != Memory || mem.Rate == nil || *mem.Rate != 85 || !mem.Met || mem.Type != ThresholdUsage {
		t.Errorf("got memory %+v", mem)
	}
	middle := ev.Days[1]
	if middle.Resources[1].Unjudged != UnjudgedNoUsage || middle.Resources[1].Value != nil || middle.Met {
		t.Errorf("got 2026-11-27 memory %+v, want unjudged no_usage", middle.Resources[1])
	}
	if len(ev.Rules) != 2 || ev.Rules[1] != (Rule{Memory, ThresholdUsage, 80, 60}) {
		t.Errorf("got rules %+v", ev.Rules)
	}
}

func TestEvaluateRejectsBadInput(t *testing.T) {
	at := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	bad := cpuEntry()
	bad.CPUTargetValue = f64(95)
	for name, in := range map[string]EvalInput{
		"nil location":     {Strategy: cpuEntry(), At: at},
		"zero time":        {Strategy: cpuEntry(), Location: time.UTC},
		"invalid strategy": {Strategy: bad, At: at, Location: time.UTC},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Evaluate(in); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("got %v, want ErrInvalidInput", err)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	sh := loadLoc(t, "Asia/Shanghai")
	at := time.Date(2026, 11, 28, 22, 30, 0, 0, time.UTC)
	if got := IdempotencyKey(12, 3, 45, at, sh); got != "12:3:45:2026-11-29" {
		t.Errorf("got %s", got)
	}
	if got := IdempotencyKey(12, 3, 45, at, time.UTC); got != "12:3:45:2026-11-28" {
		t.Errorf("got %s", got)
	}
}
