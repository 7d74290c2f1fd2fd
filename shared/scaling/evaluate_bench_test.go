package scaling

import (
	"testing"
	"time"
)

// benchInputs are pools shaped like bench/evaluate's (a 30-day window, cpu
// allocated > 80%): hot (triggered), cool (not met on the last day) and hot
// with a weekly dip (not met, streak broken mid-window), plus a pool with a
// missing day and a last order older than the cooldown. Inputs are built
// once; Evaluate must not modify them.
func benchInputs(b *testing.B, s Strategy) []EvalInput {
	b.Helper()
	sh := loadLoc(b, "Asia/Shanghai")
	at := time.Date(2026, 11, 29, 6, 0, 0, 0, sh)
	today := DateOf(at)
	d := s.RequiredDays()
	lastOrder := &LastOrder{ID: 1, OrderNumber: "EP-20260901-000001", Status: "completed",
		CreatedAt: at.Add(-60 * 24 * time.Hour)}
	var out []EvalInput
	for shape := range 4 {
		in := EvalInput{Strategy: s, ClusterID: 1, PoolID: int64(shape + 1), At: at, Location: sh}
		for i := d; i >= 1; i-- {
			date := today.AddDays(-i)
			pct := int64(90)
			switch {
			case shape == 1:
				pct = 50
			case shape == 2 && date.Day%7 == 0:
				pct = 30
			case shape == 3 && i == 5:
				continue // a day with no snapshot
			}
			in.Days = append(in.Days, day(date.String(), pct, pct))
		}
		if shape == 3 {
			in.LastOrder = lastOrder
		}
		out = append(out, in)
	}
	return out
}

// BenchmarkEvaluate is one pool's evaluation (run with -benchmem: the
// evaluation of 10,000 pools is bound by its allocations, DESIGN §10).
func BenchmarkEvaluate(b *testing.B) {
	cpu30 := cpuEntry()
	cpu30.DurationMinutes = 30 * 1440
	both30 := cpu30
	both30.MemoryThresholdValue, both30.MemoryThresholdType, both30.MemoryTargetValue = f64(80), ThresholdAllocated, f64(60)
	both30.ConditionLogic = LogicOR
	for _, bc := range []struct {
		name string
		s    Strategy
	}{
		{"cpu/30days", cpu30},
		{"cpu+memory-OR/30days", both30},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ins := benchInputs(b, bc.s)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := Evaluate(ins[i%len(ins)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What the pipeline does: one Buffers per worker.
		b.Run(bc.name+"/buffers", func(b *testing.B) {
			ins := benchInputs(b, bc.s)
			var buf Buffers
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := buf.Evaluate(ins[i%len(ins)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
