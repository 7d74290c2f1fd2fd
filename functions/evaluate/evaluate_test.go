package evaluate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/elasticpool/elasticpool/functions/evaluate"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	pt "github.com/elasticpool/elasticpool/shared/pipeline/pipelinetest"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

func ce(t *testing.T, typ string, at time.Time, data any) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID(fmt.Sprintf("%s-%d", typ, at.UnixNano()))
	e.SetType(typ)
	e.SetSource("/test")
	e.SetTime(at)
	if data != nil {
		if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestHandle(t *testing.T) {
	t.Parallel()
	db := pgtest.NewPool(t)
	r := redistest.New(t)
	fx := pt.New(t, db, shanghai)
	c := fx.Cluster("c1", "bj1", "a")
	p := fx.Pool(c, "general", "general", 1, nil)
	fx.Days(c, p, T, 2, pt.Uniform(2, 16, 64, 95, 50))
	strategy := pt.Strategy{Action: "pool_entry", CPUThreshold: pt.P(90.0), CPUType: "allocated", CPUTarget: pt.P(70.0),
		DurationMinutes: 1440, Clusters: []int64{c}}
	strategy.Name = "one"
	s1 := fx.AddStrategy(strategy)
	strategy.Name = "two"
	s2 := fx.AddStrategy(strategy)
	strategy.Name, strategy.Disabled = "off", true
	off := fx.AddStrategy(strategy)

	rec := &events.Recorder{}
	f := evaluate.New(evaluate.Deps{DB: db, Locks: lock.New(r.Client, r.Prefix), Emitter: rec, Location: shanghai,
		Now: func() time.Time { return T.Add(time.Second) }})
	ctx := context.Background()
	status := func(e cloudevents.Event) int { return events.StatusCode(f.Handle(ctx, e)) }

	// One fan-out per tick: the second ping of T (another replica, a
	// redelivery) emits nothing; the next tick does.
	if got := status(ce(t, events.TypePing, T, nil)); got != 200 {
		t.Fatalf("ping got %d", got)
	}
	if got := status(ce(t, events.TypePing, T, nil)); got != 200 {
		t.Fatalf("second ping got %d", got)
	}
	sent := rec.OfType(events.TypeStrategyEvaluate)
	if len(sent) != 2 {
		t.Fatalf("got %d strategy.evaluate events, want 2 (enabled strategies, once)", len(sent))
	}
	for i, want := range []int64{s1, s2} {
		d := sent[i].Data.(events.StrategyEvaluate)
		if d.StrategyID != want || !d.EvaluationTime.Equal(T) || sent[i].ID != fmt.Sprintf("strategy.evaluate:%d:2026-11-28T22:00:00Z", want) {
			t.Fatalf("event %d: %+v %+v", i, sent[i], d)
		}
	}

	// A failed fan-out releases the tick key, so the redelivery redoes it.
	next := T.Add(24 * time.Hour)
	rec.Err = errors.New("broker down")
	if got := status(ce(t, events.TypePing, next, nil)); got != 503 {
		t.Fatalf("ping with the sink down got %d, want 503", got)
	}
	rec.Err = nil
	if got := status(ce(t, events.TypePing, next, nil)); got != 200 || len(rec.OfType(events.TypeStrategyEvaluate)) != 4 {
		t.Fatalf("redelivered ping got %d, %d events; want the fan-out redone", got, len(rec.OfType(events.TypeStrategyEvaluate)))
	}

	tests := []struct {
		name   string
		event  cloudevents.Event
		status int
	}{
		{"unknown type", ce(t, events.TypeOrderCreated, T, map[string]int{}), 422},
		{"no data", ce(t, events.TypeStrategyEvaluate, T, nil), 400},
		{"bad data", ce(t, events.TypeStrategyEvaluate, T, map[string]string{"strategyId": "x"}), 400},
		{"missing time", ce(t, events.TypeStrategyEvaluate, T, events.StrategyEvaluate{StrategyID: s1}), 400},
		{"unknown strategy", ce(t, events.TypeStrategyEvaluate, T, events.StrategyEvaluate{StrategyID: 999, EvaluationTime: T}), 422},
		{"disabled since the fan-out", ce(t, events.TypeStrategyEvaluate, T, events.StrategyEvaluate{StrategyID: off, EvaluationTime: T}), 200},
		{"evaluates", ce(t, events.TypeStrategyEvaluate, T, events.StrategyEvaluate{StrategyID: s1, EvaluationTime: T}), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := status(tt.event); got != tt.status {
				t.Fatalf("got status %d, want %d", got, tt.status)
			}
		})
	}
	if b := rec.OfType(events.TypePoolThresholdBreached); len(b) != 1 {
		t.Fatalf("got %d breach events, want 1", len(b))
	}
	db.Close()
	if got := status(ce(t, events.TypeStrategyEvaluate, T, events.StrategyEvaluate{StrategyID: s2, EvaluationTime: T})); got != 503 {
		t.Fatalf("database down got %d, want 503", got)
	}
}
