package maintenance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// View is a maintenance order as the API shows it: the order, its device,
// the uncordon order that followed it (once completed) and what may happen next.
type View struct {
	postgres.Order
	Hostname            string                 `json:"hostname"`
	Serial              string                 `json:"serial"`
	DeviceStatus        string                 `json:"deviceStatus" doc:"The device's status now: idle, in_pool, cordoned, maintenance or retired."`
	UncordonOrderID     *int64                 `json:"uncordonOrderId" doc:"The uncordon order opened when the maintenance completed."`
	UncordonOrderNumber *string                `json:"uncordonOrderNumber"`
	UncordonOrderStatus *string                `json:"uncordonOrderStatus"`
	AllowedActions      []postgres.AllowedStep `json:"allowedActions" doc:"What may happen next: POST …/{id}/<action>."`
}

// viewSelect reads a View from alias o; the uncordon order is found by its
// idempotency key (postgres.UncordonKey), a unique index lookup.
const viewSelect = "SELECT " + postgres.OrderColumns + `, coalesce(d.hostname, ''), coalesce(d.serial, ''), coalesce(d.status, ''),
	u.id, u.order_number, u.status`

const viewJoins = ` LEFT JOIN devices d ON d.id = o.device_id
	LEFT JOIN elastic_scaling_orders u ON u.idempotency_key = 'uncordon:maintenance:' || o.id::text`

func scanView(row pgx.Row) (View, error) {
	var v View
	err := row.Scan(append(postgres.OrderScanTargets(&v.Order), &v.Hostname, &v.Serial, &v.DeviceStatus,
		&v.UncordonOrderID, &v.UncordonOrderNumber, &v.UncordonOrderStatus)...)
	if err != nil {
		return v, postgres.Translate(err)
	}
	v.AllowedActions = postgres.AllowedSteps(v.ActionType, v.Status)
	return v, nil
}

// getView reads maintenance order id; system, when not empty, limits it to
// that system's orders (an external system sees only its own).
func (f *Function) getView(ctx context.Context, q postgres.Querier, id int64, system string) (View, error) {
	return scanView(q.QueryRow(ctx, viewSelect+" FROM elastic_scaling_orders o"+viewJoins+`
		WHERE o.id = $1 AND o.action_type = 'maintenance' AND ($2 = '' OR o.external_system = $2)`, id, system))
}

// findByTicket reads the maintenance order of a system's ticket.
func (f *Function) findByTicket(ctx context.Context, q postgres.Querier, system, ticket string) (View, error) {
	return scanView(q.QueryRow(ctx, viewSelect+" FROM elastic_scaling_orders o"+viewJoins+`
		WHERE o.action_type = 'maintenance' AND o.external_system = $1 AND o.external_ticket_id = $2`, system, ticket))
}

// Limits of the request fields.
const (
	maxTicket = 200
	maxReason = 2000
)

// normalize trims and checks a request; systems name themselves through
// their credentials, so externalSystem may only repeat that name.
func normalize(c Caller, in events.Maintenance) (events.Maintenance, error) {
	in.Hostname, in.Serial = strings.TrimSpace(in.Hostname), strings.TrimSpace(in.Serial)
	in.ExternalTicketID, in.Reason = strings.TrimSpace(in.ExternalTicketID), strings.TrimSpace(in.Reason)
	in.ExternalSystem = strings.TrimSpace(in.ExternalSystem)
	var fs []fieldProblem
	if in.DeviceID < 0 {
		fs = append(fs, fieldProblem{"deviceId", "must be ≥ 1", in.DeviceID})
	}
	if in.DeviceID == 0 && in.Hostname == "" && in.Serial == "" {
		fs = append(fs, fieldProblem{"deviceId", "name the device by deviceId, hostname or serial", nil})
	}
	switch {
	case in.ExternalTicketID == "":
		fs = append(fs, fieldProblem{"externalTicketId", "is required: it makes the request idempotent", nil})
	case len(in.ExternalTicketID) > maxTicket:
		fs = append(fs, fieldProblem{"externalTicketId", fmt.Sprintf("at most %d characters", maxTicket), nil})
	}
	switch {
	case in.Reason == "":
		fs = append(fs, fieldProblem{"reason", "is required", nil})
	case len(in.Reason) > maxReason:
		fs = append(fs, fieldProblem{"reason", fmt.Sprintf("at most %d characters", maxReason), nil})
	}
	if (in.WindowStart == nil) != (in.WindowEnd == nil) {
		fs = append(fs, fieldProblem{"windowEnd", "give both windowStart and windowEnd, or neither", nil})
	} else if in.WindowStart != nil && !in.WindowEnd.After(*in.WindowStart) {
		fs = append(fs, fieldProblem{"windowEnd", "must be after windowStart", in.WindowEnd})
	}
	if in.ExternalSystem != "" && in.ExternalSystem != c.OrderSystem() {
		fs = append(fs, fieldProblem{"externalSystem", fmt.Sprintf("is taken from the credentials (%s); omit it or repeat it", c.OrderSystem()), in.ExternalSystem})
	}
	if len(fs) > 0 {
		return in, invalid("bad maintenance request", fs...)
	}
	in.ExternalSystem = c.OrderSystem()
	return in, nil
}

// device is the row a request names.
type device struct {
	id                int64
	hostname, serial  string
	status            string
	clusterID, poolID *int64 // pool only when it belongs to the cluster
}

// resolveDevice finds and locks the device that deviceId, hostname and
// serial name; all the given ones must name the same device.
func resolveDevice(ctx context.Context, tx pgx.Tx, in events.Maintenance) (device, error) {
	rows, err := tx.Query(ctx, `SELECT d.id, d.hostname, d.serial, d.status, d.cluster_id, p.id
		FROM devices d LEFT JOIN resource_pools p ON p.id = d.pool_id AND p.cluster_id = d.cluster_id
		WHERE d.id = $1 OR d.hostname = $2 OR (d.serial = $3 AND $3 <> '')
		ORDER BY d.id FOR UPDATE OF d`, in.DeviceID, in.Hostname, in.Serial)
	if err != nil {
		return device{}, postgres.Translate(err)
	}
	devs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (device, error) {
		var d device
		err := r.Scan(&d.id, &d.hostname, &d.serial, &d.status, &d.clusterID, &d.poolID)
		return d, err
	})
	if err != nil {
		return device{}, postgres.Translate(err)
	}
	if len(devs) == 0 {
		return device{}, &problem{status: http.StatusNotFound, ceStatus: http.StatusUnprocessableEntity,
			detail: "no such device: " + describe(in)}
	}
	d := devs[0]
	var fs []fieldProblem
	if in.DeviceID != 0 && in.DeviceID != d.id {
		fs = append(fs, fieldProblem{"deviceId", fmt.Sprintf("names another device than %s", d.hostname), in.DeviceID})
	}
	if in.Hostname != "" && in.Hostname != d.hostname {
		fs = append(fs, fieldProblem{"hostname", fmt.Sprintf("is not the hostname of device %d (%s)", d.id, d.hostname), in.Hostname})
	}
	if in.Serial != "" && in.Serial != d.serial {
		fs = append(fs, fieldProblem{"serial", fmt.Sprintf("is not the serial of device %d (%s)", d.id, d.hostname), in.Serial})
	}
	if len(fs) > 0 {
		return device{}, invalid("deviceId, hostname and serial do not name the same device", fs...)
	}
	return d, nil
}

func describe(in events.Maintenance) string {
	var parts []string
	if in.DeviceID != 0 {
		parts = append(parts, fmt.Sprintf("deviceId %d", in.DeviceID))
	}
	if in.Hostname != "" {
		parts = append(parts, fmt.Sprintf("hostname %q", in.Hostname))
	}
	if in.Serial != "" {
		parts = append(parts, fmt.Sprintf("serial %q", in.Serial))
	}
	return strings.Join(parts, ", ")
}

// request opens a maintenance order for a system's ticket, or returns the
// order the ticket already opened (created false). It refuses an unknown
// device (404), a retired one (422), and one already in maintenance or held
// by another open order (409).
func (f *Function) request(ctx context.Context, c Caller, in events.Maintenance) (View, bool, error) {
	in, err := normalize(c, in)
	if err != nil {
		return View{}, false, err
	}
	if v, err := f.findByTicket(ctx, f.db, in.ExternalSystem, in.ExternalTicketID); err == nil {
		return f.sameRequest(v, in)
	} else if !errors.Is(err, postgres.ErrNotFound) {
		return View{}, false, err
	}
	var id int64
	err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
		d, err := resolveDevice(ctx, tx, in)
		if err != nil {
			return err
		}
		switch d.status {
		case "retired":
			return &problem{status: http.StatusUnprocessableEntity, ceStatus: http.StatusUnprocessableEntity,
				detail: fmt.Sprintf("device %s is retired; retired devices are not maintained", d.hostname)}
		case "maintenance":
			return &problem{status: http.StatusConflict, ceStatus: http.StatusUnprocessableEntity,
				detail: fmt.Sprintf("device %s is already in maintenance%s", d.hostname, heldBy(ctx, tx, d.id))}
		}
		o, err := postgres.CreateOrder(ctx, tx, postgres.NewOrder{
			ActionType: string(orderflow.TypeMaintenance), ClusterID: d.clusterID, PoolID: d.poolID,
			DeviceID: &d.id, DeviceIDs: []int64{d.id}, Reason: in.Reason, CreatedBy: c.Actor(),
			ExternalSystem: in.ExternalSystem, ExternalTicketID: in.ExternalTicketID,
			MaintenanceStartTime: in.WindowStart, MaintenanceEndTime: in.WindowEnd, Now: f.now().In(f.loc),
		})
		if err != nil {
			var held *postgres.DevicesHeldError
			if errors.As(err, &held) {
				return &problem{status: http.StatusConflict, ceStatus: http.StatusUnprocessableEntity,
					detail: fmt.Sprintf("device %s is already taken%s", d.hostname, heldBy(ctx, tx, d.id))}
			}
			return err
		}
		id = o.ID
		return nil
	})
	if err != nil {
		// The same ticket may have won a concurrent race for the device (or
		// for the unique ticket index): that is the same request.
		if v, ferr := f.findByTicket(ctx, f.db, in.ExternalSystem, in.ExternalTicketID); ferr == nil {
			return f.sameRequest(v, in)
		}
		return View{}, false, err
	}
	v, err := f.getView(ctx, f.db, id, "")
	return v, true, err
}

// sameRequest answers a request whose ticket already opened order v: the
// same order when it names the same device, 409 when the ticket is reused
// for another device.
func (f *Function) sameRequest(v View, in events.Maintenance) (View, bool, error) {
	if (in.DeviceID != 0 && (v.DeviceID == nil || *v.DeviceID != in.DeviceID)) ||
		(in.Hostname != "" && in.Hostname != v.Hostname) || (in.Serial != "" && in.Serial != v.Serial) {
		return View{}, false, &problem{status: http.StatusConflict, ceStatus: http.StatusUnprocessableEntity,
			detail: fmt.Sprintf("ticket %s of %s already opened order %s for device %s; use a new ticket for another device",
				v.ExternalTicketID, v.ExternalSystem, v.OrderNumber, v.Hostname)}
	}
	return v, false, nil
}

// heldBy names the open order holding a device, for messages (" (order …)").
func heldBy(ctx context.Context, q postgres.Querier, deviceID int64) string {
	var number, action, status, ticket string
	err := q.QueryRow(ctx, `SELECT o.order_number, o.action_type, o.status, o.external_ticket_id
		FROM order_devices od JOIN elastic_scaling_orders o ON o.id = od.order_id
		WHERE od.device_id = $1 AND od.active`, deviceID).Scan(&number, &action, &status, &ticket)
	if err != nil {
		return ""
	}
	if ticket != "" && action == string(orderflow.TypeMaintenance) {
		return fmt.Sprintf(" (maintenance order %s, %s, ticket %s)", number, status, ticket)
	}
	return fmt.Sprintf(" (open %s order %s, %s)", action, number, status)
}

// orderRef names a maintenance order: by id, or by the caller's ticket.
type orderRef struct {
	id     int64
	ticket string
}

// find reads the order ref names, among the caller's own orders for an
// external system.
func (f *Function) find(ctx context.Context, c Caller, ref orderRef) (View, error) {
	var system string
	if c.System != "" {
		system = c.System
	}
	var v View
	var err error
	switch {
	case ref.id > 0:
		v, err = f.getView(ctx, f.db, ref.id, system)
		if err == nil && ref.ticket != "" && ref.ticket != v.ExternalTicketID {
			return View{}, invalid("orderId and externalTicketId name different orders",
				fieldProblem{"externalTicketId", fmt.Sprintf("order %d is ticket %s", v.ID, v.ExternalTicketID), ref.ticket})
		}
	case ref.ticket != "":
		v, err = f.findByTicket(ctx, f.db, c.OrderSystem(), ref.ticket)
	default:
		return View{}, invalid("name the maintenance order", fieldProblem{"orderId", "give orderId or externalTicketId", nil})
	}
	if errors.Is(err, postgres.ErrNotFound) {
		// A retry may find it: the request may still be on its way.
		what := fmt.Sprintf("maintenance order %d", ref.id)
		if ref.id == 0 {
			what = fmt.Sprintf("maintenance order for ticket %s of %s", ref.ticket, c.OrderSystem())
		}
		return View{}, &problem{status: http.StatusNotFound, ceStatus: http.StatusNotFound, detail: what + " not found"}
	}
	return v, err
}

// actionTarget is the status a maintenance action leads to.
func actionTarget(a orderflow.Action) (orderflow.Status, error) {
	for _, s := range orderflow.Statuses() {
		if tr, err := orderflow.Lookup(orderflow.TypeMaintenance, s, a); err == nil {
			return tr.To, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not a maintenance action", orderflow.ErrUnknown, a)
}

// reachable reports whether a maintenance order can get from one status to
// another (itself included).
func reachable(from, to orderflow.Status) bool {
	seen := map[orderflow.Status]bool{from: true}
	queue := []orderflow.Status{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s == to {
			return true
		}
		for _, a := range orderflow.Allowed(orderflow.TypeMaintenance, s) {
			if next, err := orderflow.Next(orderflow.TypeMaintenance, s, a); err == nil && !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	return false
}

// mayAllowLater reports whether action a, refused in status from, becomes
// possible in a status the order can still reach (complete before confirm).
func mayAllowLater(from orderflow.Status, a orderflow.Action) bool {
	for _, s := range orderflow.Statuses() {
		if s != from && reachable(from, s) {
			if _, err := orderflow.Lookup(orderflow.TypeMaintenance, s, a); err == nil {
				return true
			}
		}
	}
	return false
}

// transition applies action to a maintenance order. The order already in
// the action's status (a retry) answers that order with changed false;
// lenient (CloudEvents, delivered at least once and maybe out of order)
// also takes an order that went past that status as handled: a late
// duplicate "confirmed" after "completed". A refused action is 409; on the
// CloudEvents edge 409 only when it may become possible (complete before
// confirm), 422 when it never can (confirm after cancel).
func (f *Function) transition(ctx context.Context, c Caller, ref orderRef, a orderflow.Action, version int, reason string, lenient bool) (View, bool, error) {
	target, err := actionTarget(a)
	if err != nil {
		return View{}, false, err
	}
	v, err := f.find(ctx, c, ref)
	if err != nil {
		return View{}, false, err
	}
	done := func(v View) bool {
		cur := orderflow.Status(v.Status)
		return cur == target || (lenient && reachable(target, cur))
	}
	if done(v) {
		return v, false, nil
	}
	err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
		_, _, err := postgres.TransitionOrderTx(ctx, tx, v.ID, string(target), version, c.Actor(), reason)
		return err
	})
	var refused *postgres.TransitionRefusedError
	if errors.As(err, &refused) {
		cur, gerr := f.getView(ctx, f.db, v.ID, "")
		if gerr != nil {
			return View{}, false, gerr
		}
		if done(cur) { // a concurrent call did it first
			return cur, false, nil
		}
		ceStatus := http.StatusUnprocessableEntity
		if refused.Why == "" && mayAllowLater(orderflow.Status(cur.Status), a) {
			ceStatus = http.StatusConflict
		}
		return View{}, false, &problem{status: http.StatusConflict, ceStatus: ceStatus,
			detail: fmt.Sprintf("cannot %s maintenance order %s: it is %s%s; allowed now: %s",
				a, cur.OrderNumber, cur.Status, why(refused), allowedActions(refused))}
	}
	if err != nil {
		return View{}, false, err
	}
	v, err = f.getView(ctx, f.db, v.ID, "")
	return v, true, err
}

func why(r *postgres.TransitionRefusedError) string {
	if r.Why == "" {
		return ""
	}
	return " and " + r.Why
}

// verbs of the maintenance.* events per action.
var actionEvents = map[orderflow.Action]string{
	orderflow.ActionConfirm:  events.TypeMaintenanceConfirmed,
	orderflow.ActionComplete: events.TypeMaintenanceCompleted,
	orderflow.ActionCancel:   events.TypeMaintenanceCancelled,
}

// announce emits the maintenance event of v's step (and order.created for
// the uncordon order a completion opened) after the commit. Ids are
// deterministic, so announcing again on a retried call lets a lost event
// through while notify drops the duplicates.
func (f *Function) announce(ctx context.Context, v View, eventType string) {
	if f.emitter == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	verb := strings.TrimSuffix(strings.TrimPrefix(eventType, "io.elasticpool.maintenance."), ".v1")
	d := events.Maintenance{Hostname: v.Hostname, Serial: v.Serial, ExternalSystem: v.ExternalSystem,
		ExternalTicketID: v.ExternalTicketID, Reason: v.Reason, WindowStart: v.MaintenanceStartTime,
		WindowEnd: v.MaintenanceEndTime, OrderID: v.ID}
	if v.DeviceID != nil {
		d.DeviceID = *v.DeviceID
	}
	if v.UncordonOrderID != nil {
		d.UncordonOrderID = *v.UncordonOrderID
	}
	f.emit(ctx, events.Outgoing{ID: fmt.Sprintf("maintenance-%d-%s", v.ID, verb), Type: eventType,
		Source: events.SourceMaintenance, Subject: fmt.Sprintf("order/%d", v.ID), Data: d})
	if eventType != events.TypeMaintenanceCompleted || v.UncordonOrderID == nil {
		return
	}
	u, err := postgres.GetOrder(ctx, f.db, *v.UncordonOrderID)
	if err != nil {
		slog.WarnContext(ctx, "maintenance: read the uncordon order to announce it", "order", *v.UncordonOrderID, "err", err)
		return
	}
	f.emit(ctx, events.Outgoing{ID: fmt.Sprintf("order-%d-created", u.ID), Type: events.TypeOrderCreated,
		Source: events.SourceMaintenance, Subject: fmt.Sprintf("order/%d", u.ID),
		Data: events.OrderCreated{OrderID: u.ID, OrderNumber: u.OrderNumber, Action: u.ActionType, ClusterID: u.ClusterID,
			PoolID: u.PoolID, DeviceCount: u.DeviceCount, CreatedBy: u.CreatedBy}})
}

// emit sends one event; the write is committed, so a failure is logged and
// the call still succeeds (a retry of the call announces again).
func (f *Function) emit(ctx context.Context, o events.Outgoing) {
	if err := f.emitter.Emit(ctx, o); err != nil {
		slog.WarnContext(ctx, "maintenance: emit failed after commit", "type", o.Type, "id", o.ID, "err", err)
	}
}
