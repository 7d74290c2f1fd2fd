package collect

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// resumeActor is the requestedBy of the executions the collector queues:
// nobody asked, the system noticed (the same actor nodeexec records).
const resumeActor = "system"

// resumeTimeout bounds the lookup and the emits after one cluster's
// collection (the emitter retries each event on its own).
const resumeTimeout = 30 * time.Second

// Why an order is resumed.
const (
	reasonNodeJoined = "node joined"
	reasonStalled    = "stalled"
)

// waitingOrder is an executable order of the cluster that needs another run.
type waitingOrder struct {
	id         int64
	number     string
	actionType string
	reason     string
}

// resume queues another run (order.execute) of the executable orders of
// cluster c (processing; maintenance_in_progress for maintenance) that need
// one:
//   - node joined: a pool_entry order with a device still pending whose node
//     is among the nodes just listed (nodeexec left it pending because its
//     node had not joined yet);
//   - stalled: an order with a device of this cluster still processing (or
//     pending, other than pool_entry's wait for a node) whose rows have all
//     been unchanged for longer than any run can last
//     (nodeexec.Limits.StallAfter): its execute event was lost or its run was
//     killed, and nothing else would run it again.
//
// An order whose run lock is held is left alone (a run is going on; the
// event would be answered busy). Called after the collection committed;
// failures are logged, never the collection's: the next collection looks
// again.
func (f *Function) resume(ctx context.Context, c *cluster, at time.Time, nodes []kube.NodeTotals) {
	if f.d.Emitter == nil {
		f.noEmitter.Do(func() {
			slog.WarnContext(ctx, "collect: no event sink (K_SINK): orders waiting for a node or stalled are not resumed")
		})
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
		slog.ErrorContext(ctx, "collect: find orders to resume", "cluster", c.name, "err", err)
		return
	}
	for i, o := range orders {
		if f.running(ctx, o) {
			continue
		}
		ev := resumeEvent(o, at)
		if err := f.d.Emitter.Emit(ctx, ev); err != nil {
			// The sink is down after the emitter's own retries: the rest
			// would fail the same way. The next collection queues them.
			left := make([]string, 0, len(orders)-i)
			for _, o := range orders[i:] {
				left = append(left, o.number)
			}
			slog.ErrorContext(ctx, "collect: could not queue the execution of orders", "cluster", c.name,
				"orders", left, "err", err)
			return
		}
		slog.InfoContext(ctx, "collect: order execution queued", "cluster", c.name, "order", o.number, "reason", o.reason, "event", ev.ID)
	}
}

// running says whether a run holds order o's lock. Unknown (no lock client,
// Redis down) is false: the event is sent and nodeops, which takes the lock,
// decides.
func (f *Function) running(ctx context.Context, o waitingOrder) bool {
	if f.d.Locks == nil {
		return false
	}
	held, err := f.d.Locks.Held(ctx, nodeexec.LockKey(o.id))
	if err != nil {
		slog.WarnContext(ctx, "collect: cannot tell whether the order is running; queueing it anyway", "order", o.number, "err", err)
		return false
	}
	if held {
		slog.InfoContext(ctx, "collect: order not queued: a run holds its lock", "order", o.number, "reason", o.reason)
	}
	return held
}

// waitingOrders reads the orders to resume. A device's node and cluster are
// what nodeexec uses: its node_name, else its hostname; the order's cluster,
// else the device's. Ages are measured on the database's clock, the one
// that wrote updated_at.
func (f *Function) waitingOrders(ctx context.Context, clusterID int64, nodes []string) ([]waitingOrder, error) {
	// joined: the node joined rule. stuck: a device of this cluster a run
	// has not finished; a pool_entry device left pending waits for its node
	// (joined), a re-run before it joins would only leave it pending again.
	rows, err := f.d.DB.Query(ctx, `SELECT o.id, o.order_number, o.action_type,
			o.action_type = $3 AND EXISTS (
				SELECT 1 FROM order_devices od JOIN devices d ON d.id = od.device_id
				WHERE od.order_id = o.id AND od.active AND od.status = 'pending'
					AND coalesce(o.cluster_id, d.cluster_id) = $5
					AND (CASE WHEN d.node_name <> '' THEN d.node_name ELSE d.hostname END) = ANY ($6::text[])) AS joined,
			EXISTS (
				SELECT 1 FROM order_devices od JOIN devices d ON d.id = od.device_id
				WHERE od.order_id = o.id AND od.active AND coalesce(o.cluster_id, d.cluster_id) = $5
					AND (od.status = 'processing' OR (od.status = 'pending' AND o.action_type <> $3))) AS stuck,
			a.devices, extract(epoch FROM now() - a.last)::float8
		FROM elastic_scaling_orders o
			CROSS JOIN LATERAL (SELECT count(*) AS devices, max(updated_at) AS last
				FROM order_devices WHERE order_id = o.id AND active) a
		WHERE ((o.status = $1 AND o.action_type <> $4) OR (o.status = $2 AND o.action_type = $4)) AND a.devices > 0
		ORDER BY o.id`,
		string(orderflow.StatusProcessing), string(orderflow.StatusMaintenanceInProgress),
		string(orderflow.TypePoolEntry), string(orderflow.TypeMaintenance), clusterID, nodes)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	type row struct {
		waitingOrder
		joined, stuck bool
		devices       int
		idle          float64 // seconds since any of its rows last changed
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var o row
		err := r.Scan(&o.id, &o.number, &o.actionType, &o.joined, &o.stuck, &o.devices, &o.idle)
		return o, err
	})
	if err != nil {
		return nil, postgres.Translate(err)
	}
	var out []waitingOrder
	for _, o := range list {
		switch {
		case o.joined:
			o.reason = reasonNodeJoined
		case o.stuck && time.Duration(o.idle*float64(time.Second)) > f.d.NodeOps.StallAfter(o.devices):
			// Quiet for longer than a run of its size can last: no run is
			// going on (a live one writes a row at least every device).
			o.reason = reasonStalled
		default:
			continue
		}
		out = append(out, o.waitingOrder)
	}
	return out, nil
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
