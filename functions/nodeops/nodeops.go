// Package nodeops is the CloudEvent function that executes orders' node
// operations (docs/clusters.md, "Executing orders"): on
// io.elasticpool.order.execute.v1 (the orders API, after an order entered
// processing or on request) and on io.elasticpool.maintenance.confirmed.v1
// (cordon and drain for maintenance) it runs shared/nodeexec for the order.
//
// Redelivery is normal and harmless: the executor runs only orders in
// processing (maintenance_in_progress), skips devices already done and
// holds a per-order lock, so the same event three times operates the nodes
// once. The answer is the retry policy: a device that fails is the order's
// outcome (recorded, 200); only the database, or a run cut short, is retried.
package nodeops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Executor runs one order's node operations (shared/nodeexec.Executor).
type Executor interface {
	Execute(ctx context.Context, orderID int64) (nodeplan.NodeOperations, error)
}

// Function is the nodeops function.
type Function struct {
	x Executor
}

// New builds the function.
func New(x Executor) *Function { return &Function{x: x} }

// Handle executes the order an event names.
func (f *Function) Handle(ctx context.Context, e cloudevents.Event) error {
	var id int64
	switch e.Type() {
	case events.TypeOrderExecute:
		var d events.OrderExecute
		if err := events.Decode(e, &d); err != nil {
			return err
		}
		id = d.OrderID
	case events.TypeMaintenanceConfirmed:
		var d events.Maintenance
		if err := events.Decode(e, &d); err != nil {
			return err
		}
		id = d.OrderID
	default:
		return events.Permanent(fmt.Errorf("nodeops does not handle events of type %q", e.Type()))
	}
	if id <= 0 {
		return events.Malformed(fmt.Errorf("event %s (%s) names no order", e.ID(), e.Type()))
	}
	res, err := f.x.Execute(ctx, id)
	switch {
	case errors.Is(err, nodeplan.ErrNotExecutable), errors.Is(err, nodeplan.ErrBusy):
		// Already executed (a redelivery), moved on by a person, or running
		// right now elsewhere: handled.
		slog.InfoContext(ctx, "nodeops: nothing to run", "event", e.ID(), "order", id, "reason", err)
		return nil
	case errors.Is(err, postgres.ErrNotFound):
		return events.Permanent(err)
	case err != nil:
		return events.Retryable(err)
	}
	counts := map[string]int{}
	for _, d := range res.Devices {
		counts[d.Status]++
	}
	slog.InfoContext(ctx, "nodeops: order executed", "event", e.ID(), "order", res.OrderNumber, "status", res.OrderStatus,
		"manual", res.Manual, "devices", counts, "notes", res.Notes)
	return nil
}
