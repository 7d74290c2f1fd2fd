package collect

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// resumeActor is the requestedBy of the executions the collector queues:
// nobody asked, the system noticed (the same actor nodeexec records).
const resumeActor = "system"

// resumeTimeout bounds the lookup and the emits after one cluster's
// collection (the emitter retries each event on its own).
const resumeTimeout = 30 * time.Second

// waitingOrder is a processing pool_entry order a node it waits for has joined.
type waitingOrder struct {
	id         int64
	number     string
	actionType string
}

// resume queues another run (order.execute) of every processing pool_entry
// order of cluster c that has a device still pending whose node is among the
// nodes just listed: nodeexec left it pending because its node had not
// joined yet. Called after the collection committed; failures are logged,
// never the collection's: the next collection looks again.
func (f *Function) resume(ctx context.Context, c *cluster, at time.Time, nodes []kube.NodeTotals) {
	if f.d.Emitter == nil {
		f.noEmitter.Do(func() {
			slog.WarnContext(ctx, "collect: no event sink (K_SINK): pool_entry orders waiting for a node are not resumed when it joins")
		})
		return
	}
	if len(nodes) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, resumeTimeout)
	defer cancel()
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	orders, err := f.waitingOrders(ctx, c.id, names)
	if err != nil {
		slog.ErrorContext(ctx, "collect: find orders waiting for a node", "cluster", c.name, "err", err)
		return
	}
	for i, o := range orders {
		ev := resumeEvent(o, at)
		if err := f.d.Emitter.Emit(ctx, ev); err != nil {
			// The sink is down after the emitter's own retries: the rest
			// would fail the same way. The next collection queues them.
			left := make([]string, 0, len(orders)-i)
			for _, o := range orders[i:] {
				left = append(left, o.number)
			}
			slog.ErrorContext(ctx, "collect: could not queue the execution of orders whose node joined", "cluster", c.name,
				"orders", left, "err", err)
			return
		}
		slog.InfoContext(ctx, "collect: node joined, order execution queued", "cluster", c.name, "order", o.number, "event", ev.ID)
	}
}

// waitingOrders reads the orders to resume. A device's node and cluster are
// what nodeexec uses: its node_name, else its hostname; the order's cluster,
// else the device's.
func (f *Function) waitingOrders(ctx context.Context, clusterID int64, nodes []string) ([]waitingOrder, error) {
	rows, err := f.d.DB.Query(ctx, `SELECT o.id, o.order_number, o.action_type
		FROM elastic_scaling_orders o
		WHERE o.status = $1 AND o.action_type = $2 AND EXISTS (
			SELECT 1 FROM order_devices od JOIN devices d ON d.id = od.device_id
			WHERE od.order_id = o.id AND od.active AND od.status = 'pending'
				AND coalesce(o.cluster_id, d.cluster_id) = $3
				AND (CASE WHEN d.node_name <> '' THEN d.node_name ELSE d.hostname END) = ANY ($4::text[]))
		ORDER BY o.id`,
		string(orderflow.StatusProcessing), string(orderflow.TypePoolEntry), clusterID, nodes)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (waitingOrder, error) {
		var o waitingOrder
		err := r.Scan(&o.id, &o.number, &o.actionType)
		return o, err
	})
	return out, postgres.Translate(err)
}

// resumeEvent is the order.execute the API sends, with an id per order and
// collection time: a redelivered ping (same time) queues the same event.
func resumeEvent(o waitingOrder, at time.Time) events.Outgoing {
	return events.Outgoing{
		ID:      fmt.Sprintf("order-%d-collect-%s", o.id, at.UTC().Format("20060102T150405Z")),
		Type:    events.TypeOrderExecute,
		Source:  events.SourceCollect,
		Subject: fmt.Sprintf("order/%d", o.id),
		Data:    events.OrderExecute{OrderID: o.id, OrderNumber: o.number, Action: o.actionType, RequestedBy: resumeActor},
		Time:    at,
	}
}
