package match_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/elasticpool/elasticpool/functions/match"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/pipeline"
	pt "github.com/elasticpool/elasticpool/shared/pipeline/pipelinetest"
)

var T = time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)

func breachEvent(t *testing.T, data any) cloudevents.Event {
	t.Helper()
	e := cloudevents.NewEvent()
	e.SetID("b1")
	e.SetType(events.TypePoolThresholdBreached)
	e.SetSource(events.SourceEvaluate)
	if data != nil {
		if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestHandle(t *testing.T) {
	db := pgtest.NewPool(t)
	fx := pt.New(t, db, time.UTC)
	c := fx.Cluster("c1", "bj1", "")
	p := fx.Pool(c, "general", "general", 1, nil)
	fx.Days(c, p, T, 2, pt.Uniform(2, 16, 64, 95, 50))
	fx.AddDevice(pt.Device{Hostname: "d1", IDC: "bj1", Cores: 16, MemGiB: 64})
	fx.Policy("entry", "general", "pool_entry", fx.Template("any", `{"groups":[{"blocks":[{"type":"device","key":"cpuCores","op":"gte","value":"1"}]}]}`))
	s := fx.AddStrategy(pt.Strategy{Name: "s", Action: "pool_entry", CPUThreshold: pt.P(90.0), CPUType: "allocated", CPUTarget: pt.P(70.0),
		DurationMinutes: 1440, Clusters: []int64{c}})
	ev := &pipeline.Evaluator{DB: db, Location: time.UTC, Now: func() time.Time { return T }}
	run, err := ev.Evaluate(context.Background(), s, T, pipeline.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	breach := run.BreachEvents()[0].Data.(events.PoolThresholdBreached)

	rec := &events.Recorder{}
	f := match.New(match.Deps{DB: db, Emitter: rec, Location: time.UTC, Now: func() time.Time { return T }})
	ctx := context.Background()

	bad := breach
	bad.PoolID = 999
	missing := breach
	missing.HistoryID = 999
	tests := []struct {
		name   string
		event  cloudevents.Event
		status int
	}{
		{"wrong type", func() cloudevents.Event { e := breachEvent(t, breach); e.SetType(events.TypeOrderCreated); return e }(), 422},
		{"no data", breachEvent(t, nil), 400},
		{"bad data", breachEvent(t, map[string]string{"historyId": "x"}), 400},
		{"contradicts its history row", breachEvent(t, bad), 422},
		{"history row gone", breachEvent(t, missing), 422},
		{"creates the order", breachEvent(t, breach), 200},
		{"redelivery", breachEvent(t, breach), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := events.StatusCode(f.Handle(ctx, tt.event)); got != tt.status {
				t.Fatalf("got status %d, want %d", got, tt.status)
			}
		})
	}
	sent := rec.OfType(events.TypeOrderCreated)
	if len(sent) != 2 || sent[0].ID != sent[1].ID {
		t.Fatalf("order.created sent %+v, want the same event twice", sent)
	}
	if os := fx.Orders(); len(os) != 1 || strings.Join(os[0].Devices, ",") != "d1" {
		t.Fatalf("orders %+v", os)
	}

	// Emitting fails after the commit: retryable, and the redelivery emits.
	rec.Err = errors.New("sink down")
	if got := events.StatusCode(f.Handle(ctx, breachEvent(t, breach))); got != 503 {
		t.Fatalf("emit failure got %d, want 503", got)
	}
	// Database gone: retryable.
	db.Close()
	if got := events.StatusCode(f.Handle(ctx, breachEvent(t, breach))); got != 503 {
		t.Fatalf("database down got %d, want 503", got)
	}
}
