// Package evaluate is the CloudEvent function that starts the decision
// pipeline (DESIGN §2, §5):
//
//   - dev.knative.sources.ping (the daily PingSource, or the local cron):
//     one fan-out per tick, even with many replicas or a redelivered ping —
//     a Redis tick key — emitting one strategy.evaluate per enabled strategy
//     carrying the tick time T;
//   - io.elasticpool.strategy.evaluate.v1: evaluates one strategy at T over
//     its clusters+pools (shared/pipeline), writes the execution history and
//     emits pool.threshold.breached for every triggered cluster+pool.
package evaluate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/pipeline"
)

// Deps are what the function needs; main builds them from configuration.
type Deps struct {
	DB *pgxpool.Pool
	// Locks takes the tick key and the cooldown locks; nil runs without Redis.
	Locks    *lock.Client
	Emitter  events.Emitter
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Function is the evaluate function.
type Function struct {
	db      *pgxpool.Pool
	locks   *lock.Client
	emitter events.Emitter
	eval    *pipeline.Evaluator
	now     func() time.Time
}

// New builds the function.
func New(d Deps) *Function {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	return &Function{
		db: d.DB, locks: d.Locks, emitter: d.Emitter, now: d.Now,
		eval: &pipeline.Evaluator{DB: d.DB, Locks: d.Locks, Location: d.Location, Now: d.Now},
	}
}

// TickKeyTTL is how long a tick's fan-out key lives: long enough to absorb
// any redelivery of the ping, short enough to clean itself up.
const TickKeyTTL = 48 * time.Hour

// Handle is the CloudEvent entry point.
func (f *Function) Handle(ctx context.Context, e cloudevents.Event) error {
	switch e.Type() {
	case events.TypePing:
		return f.fanOut(ctx, e)
	case events.TypeStrategyEvaluate:
		return f.evaluate(ctx, e)
	}
	return events.Permanent(fmt.Errorf("evaluate does not handle events of type %q", e.Type()))
}

// fanOut emits one strategy.evaluate per enabled strategy for the tick T
// (the ping's time). The tick key evaluate:tick:{T} is set once and kept, so
// a second replica or a redelivered ping finds it and does nothing; it is
// released if the fan-out fails, so the redelivery redoes it. Redis down:
// the fan-out proceeds — duplicates downstream are harmless (history and
// order keys are unique).
func (f *Function) fanOut(ctx context.Context, e cloudevents.Event) error {
	at := e.Time()
	if at.IsZero() {
		at = f.now()
	}
	at = at.Truncate(time.Microsecond)
	var tick *lock.Lock
	if f.locks != nil {
		key := "evaluate:tick:" + at.UTC().Format(time.RFC3339Nano)
		l, err := f.locks.Obtain(ctx, key, TickKeyTTL)
		switch {
		case errors.Is(err, lock.ErrNotObtained):
			slog.InfoContext(ctx, "evaluate: tick already fanned out", "tick", at, "key", key)
			return nil
		case err != nil:
			slog.WarnContext(ctx, "evaluate: Redis unavailable, fanning out without the tick key", "tick", at, "err", err)
		default:
			tick = l
		}
	}
	err := f.emitEvaluations(ctx, at)
	if err != nil && tick != nil {
		if rerr := tick.Release(context.WithoutCancel(ctx)); rerr != nil {
			slog.WarnContext(ctx, "evaluate: could not release the tick key", "key", tick.Key(), "err", rerr)
		}
	}
	return err
}

func (f *Function) emitEvaluations(ctx context.Context, at time.Time) error {
	ids, err := pipeline.EnabledStrategies(ctx, f.db)
	if err != nil {
		return events.Retryable(err)
	}
	for _, id := range ids {
		err := f.emitter.Emit(ctx, events.Outgoing{
			ID:      fmt.Sprintf("strategy.evaluate:%d:%s", id, at.UTC().Format(time.RFC3339Nano)),
			Type:    events.TypeStrategyEvaluate,
			Source:  events.SourceEvaluate,
			Subject: fmt.Sprintf("strategy/%d", id),
			Data:    events.StrategyEvaluate{StrategyID: id, EvaluationTime: at},
		})
		if err != nil {
			return events.Retryable(err)
		}
	}
	slog.InfoContext(ctx, "evaluate: fanned out", "tick", at, "strategies", len(ids))
	return nil
}

func (f *Function) evaluate(ctx context.Context, e cloudevents.Event) error {
	var p events.StrategyEvaluate
	if err := events.Decode(e, &p); err != nil {
		return err
	}
	if p.StrategyID <= 0 || p.EvaluationTime.IsZero() {
		return events.Malformed(fmt.Errorf("event %s: strategyId and evaluationTime are required", e.ID()))
	}
	run, err := f.eval.Evaluate(ctx, p.StrategyID, p.EvaluationTime, pipeline.EvalOptions{DryRun: p.DryRun, IncludeDisabled: p.DryRun})
	switch {
	case errors.Is(err, pipeline.ErrStrategyNotFound):
		return events.Permanent(err)
	case errors.Is(err, pipeline.ErrStrategyDisabled):
		// Disabled between the fan-out and now: nothing to do.
		slog.InfoContext(ctx, "evaluate: strategy disabled, skipped", "strategy", p.StrategyID)
		return nil
	case err != nil:
		return events.Retryable(err)
	}
	if err := events.EmitAll(ctx, f.emitter, run.BreachEvents()); err != nil {
		// The rows are committed: the redelivery reuses them and emits again.
		return events.Retryable(err)
	}
	slog.InfoContext(ctx, "evaluate: strategy evaluated", "strategy", run.StrategyID, "at", run.At,
		"pools", len(run.Decisions), "triggered", len(run.Triggered()), "reused", run.Reused, "dryRun", run.DryRun)
	return nil
}
