// Package match is the CloudEvent function that turns a
// pool.threshold.breached event into an order (DESIGN §6): it assembles the
// device query (the strategy's template or the matching policy's, plus the
// additionCond), runs it through the device query engine, sizes and selects
// the devices with shared/scaling, and creates the order, its order_devices
// and the history link in one transaction guarded by the unique idempotency
// key; then it emits order.created and/or inventory.shortage.
package match

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/pipeline"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Deps are what the function needs; main builds them from configuration.
type Deps struct {
	DB       *pgxpool.Pool
	Emitter  events.Emitter
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Function is the match function.
type Function struct {
	matcher *pipeline.Matcher
	emitter events.Emitter
}

// New builds the function.
func New(d Deps) *Function {
	return &Function{
		matcher: &pipeline.Matcher{DB: d.DB, Location: d.Location, Now: d.Now},
		emitter: d.Emitter,
	}
}

// Handle is the CloudEvent entry point.
func (f *Function) Handle(ctx context.Context, e cloudevents.Event) error {
	if e.Type() != events.TypePoolThresholdBreached {
		return events.Permanent(fmt.Errorf("match does not handle events of type %q", e.Type()))
	}
	var b events.PoolThresholdBreached
	if err := events.Decode(e, &b); err != nil {
		return err
	}
	if b.HistoryID <= 0 || b.StrategyID <= 0 || b.ClusterID <= 0 || b.PoolID <= 0 {
		return events.Malformed(fmt.Errorf("event %s: historyId, strategyId, clusterId and poolId are required", e.ID()))
	}
	out, err := f.matcher.Match(ctx, b)
	switch {
	case errors.Is(err, pipeline.ErrBadBreach), errors.Is(err, postgres.ErrNotFound), errors.Is(err, pipeline.ErrStrategyNotFound):
		// The history row, strategy or pool is gone (deleted since), or the
		// event contradicts its row: no redelivery changes that.
		return events.Permanent(err)
	case err != nil:
		return events.Retryable(err)
	}
	if err := events.EmitAll(ctx, f.emitter, out.Events); err != nil {
		// The order is committed: the redelivery finds it and emits again.
		return events.Retryable(err)
	}
	slog.InfoContext(ctx, "match: breach handled", "history", b.HistoryID, "status", out.Status,
		"order", out.OrderNumber, "devices", len(out.Devices), "shortage", out.Shortage, "reason", out.Reason)
	return nil
}
