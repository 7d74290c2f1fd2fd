package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/orderflow"
)

// Device effects of maintenance and uncordon orders (docs/maintenance.md).
// TransitionOrderTx calls them, whoever moves the order (the maintenance
// function or the orders API), so device status and order status agree on
// every path:
//
//	maintenance pending → maintenance_in_progress (confirm): idle, in_pool or cordoned → maintenance
//	                      (cluster and pool are kept, so uncordon knows where the device returns);
//	                      a retired device refuses the step (cancel the order instead)
//	maintenance … → completed (complete): maintenance → cordoned, and an uncordon order
//	                      (the follow-up) takes the device in the same transaction
//	uncordon    … → completed (complete): cordoned → in_pool (it has a cluster and pool) or idle
//
// Cancelling a pending maintenance order leaves the device as it was (it was
// never cordoned); cancelling or failing an uncordon order leaves it
// cordoned for a person to decide.

// UncordonKey is the idempotency key of the uncordon order that follows
// maintenance order id: at most one per maintenance order, and the way to
// find it.
func UncordonKey(maintenanceOrderID int64) string {
	return fmt.Sprintf("uncordon:maintenance:%d", maintenanceOrderID)
}

// maintenanceDeviceEffects applies a maintenance order's step to its held devices.
func maintenanceDeviceEffects(ctx context.Context, tx pgx.Tx, o Order, tr orderflow.Transition, actor string) error {
	switch tr.To {
	case orderflow.StatusMaintenanceInProgress:
		rows, err := tx.Query(ctx, `SELECT d.hostname FROM order_devices od JOIN devices d ON d.id = od.device_id
			WHERE od.order_id = $1 AND od.active AND d.status = 'retired' ORDER BY d.id FOR UPDATE OF d`, o.ID)
		if err != nil {
			return Translate(err)
		}
		retired, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return Translate(err)
		}
		if len(retired) > 0 {
			return refusedByDevices(o, tr, strings.Join(retired, ", ")+" retired since the request; cancel the order")
		}
		// A device already in maintenance (set by hand) is taken as it is.
		_, err = tx.Exec(ctx, `UPDATE devices d SET status = 'maintenance', version = d.version + 1, updated_by = $2, updated_at = now()
			FROM order_devices od
			WHERE od.order_id = $1 AND od.active AND d.id = od.device_id AND d.status IN ('idle', 'in_pool', 'cordoned')`, o.ID, actor)
		return Translate(err)
	case orderflow.StatusCompleted:
		// Back from maintenance but still cordoned: the uncordon order the
		// follow-up creates returns it to work. Already cordoned (by hand) is
		// done too; anything else was changed by hand and is left alone.
		return settleDevices(ctx, tx, o.ID, `UPDATE devices d SET status = 'cordoned', version = d.version + 1, updated_by = $2, updated_at = now()
				FROM held WHERE d.id = held.device_id AND d.status = 'maintenance' RETURNING d.id`,
			[]string{"cordoned"}, "was not in maintenance when the maintenance completed (changed by hand); no uncordon", actor)
	}
	return nil
}

// uncordonDeviceEffects applies an uncordon order's step to its held devices.
func uncordonDeviceEffects(ctx context.Context, tx pgx.Tx, o Order, tr orderflow.Transition, actor string) error {
	if tr.To != orderflow.StatusCompleted {
		return nil
	}
	// Back to work: into the pool it came from, or idle when it had none.
	// A device someone already returned by hand counts as done.
	return settleDevices(ctx, tx, o.ID, `UPDATE devices d SET
				status = CASE WHEN d.cluster_id IS NOT NULL AND d.pool_id IS NOT NULL THEN 'in_pool' ELSE 'idle' END,
				version = d.version + 1, updated_by = $2, updated_at = now()
			FROM held WHERE d.id = held.device_id AND d.status = 'cordoned' RETURNING d.id`,
		[]string{"in_pool", "idle"}, "was not cordoned when the uncordon order completed (changed by hand)", actor)
}

// settleDevices runs update (which may read the CTE held(device_id) and $2
// the actor, and returns the moved ids) and marks the held rows done when the
// device moved or already was in one of the statuses doneAlready, skipped
// with reason otherwise.
func settleDevices(ctx context.Context, tx pgx.Tx, orderID int64, update string, doneAlready []string, reason, actor string) error {
	// Every sub-statement sees the same snapshot: "already" reads the statuses
	// before the update, so a device counts once.
	_, err := tx.Exec(ctx, `WITH held AS (
			SELECT device_id FROM order_devices WHERE order_id = $1 AND active
		), moved AS (`+update+`
		), already AS (
			SELECT d.id FROM devices d JOIN held ON held.device_id = d.id WHERE d.status = ANY($4)
		), ok AS (SELECT id FROM moved UNION SELECT id FROM already)
		UPDATE order_devices od SET
			status = CASE WHEN od.device_id IN (SELECT id FROM ok) THEN 'done' ELSE 'skipped' END,
			error = CASE WHEN od.device_id IN (SELECT id FROM ok) THEN '' ELSE $3 END,
			updated_at = now()
		WHERE od.order_id = $1 AND od.active`, orderID, actor, reason, doneAlready)
	return Translate(err)
}

// refusedByDevices is the 409 of a step the state machine allows but the
// order's devices do not; Allowed lists the other steps.
func refusedByDevices(o Order, tr orderflow.Transition, why string) error {
	var allowed []string
	for _, s := range AllowedSteps(o.ActionType, string(tr.From)) {
		if s.Status != string(tr.To) {
			allowed = append(allowed, s.Status)
		}
	}
	return &TransitionRefusedError{OrderID: o.ID, ActionType: o.ActionType, From: string(tr.From), To: string(tr.To),
		Allowed: allowed, Why: why}
}

// createFollowUp opens the order a transition calls for (tr.FollowUp), after
// the transitioned order released its devices: completed maintenance opens
// the uncordon order for the devices it left cordoned.
func createFollowUp(ctx context.Context, tx pgx.Tx, o Order, tr orderflow.Transition, actor string) error {
	if tr.FollowUp != orderflow.TypeUncordon {
		return fmt.Errorf("postgres: no follow-up order for %s", tr.FollowUp)
	}
	// The pool only when it belongs to the device's cluster (CreateOrder's rule).
	rows, err := tx.Query(ctx, `SELECT d.id, d.cluster_id, p.id FROM order_devices od
			JOIN devices d ON d.id = od.device_id
			LEFT JOIN resource_pools p ON p.id = d.pool_id AND p.cluster_id = d.cluster_id
		WHERE od.order_id = $1 AND od.status = 'done' AND d.status = 'cordoned' ORDER BY d.id`, o.ID)
	if err != nil {
		return Translate(err)
	}
	type dev struct{ id, cluster, pool *int64 }
	devs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dev, error) {
		var d dev
		err := r.Scan(&d.id, &d.cluster, &d.pool)
		return d, err
	})
	if err != nil {
		return Translate(err)
	}
	if len(devs) == 0 {
		return nil // nothing was left cordoned: nothing to uncordon
	}
	key := UncordonKey(o.ID)
	n := NewOrder{ActionType: string(orderflow.TypeUncordon), DeviceID: o.DeviceID, CreatedBy: actor,
		Reason:         "uncordon after maintenance " + o.OrderNumber,
		IdempotencyKey: &key, ExternalSystem: o.ExternalSystem, ExternalTicketID: o.ExternalTicketID}
	for _, d := range devs {
		n.DeviceIDs = append(n.DeviceIDs, *d.id)
	}
	if len(devs) == 1 { // where the device returns, shown on the order
		n.ClusterID, n.PoolID = devs[0].cluster, devs[0].pool
	}
	if n.DeviceID == nil {
		n.DeviceID = devs[0].id
	}
	if _, err := CreateOrder(ctx, tx, n); err != nil {
		return fmt.Errorf("uncordon order after maintenance %s: %w", o.OrderNumber, err)
	}
	return nil
}
