package postgres

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/orderflow"
)

// Order is one elastic_scaling_orders row (seed §6.2 plus pool, action type,
// idempotency key and evaluation). Its JSON is the API's and the audit log's.
type Order struct {
	ID                     int64      `json:"id"`
	OrderNumber            string     `json:"orderNumber"`
	ClusterID              *int64     `json:"clusterId"`
	PoolID                 *int64     `json:"poolId"`
	StrategyID             *int64     `json:"strategyId" doc:"Null for manual and maintenance orders."`
	ActionType             string     `json:"actionType" enum:"pool_entry,pool_exit,maintenance,uncordon"`
	Status                 string     `json:"status" enum:"pending,processing,completed,failed,cancelled,ignored,maintenance_in_progress"`
	DeviceCount            int        `json:"deviceCount"`
	DeviceID               *int64     `json:"deviceId" doc:"The device of a maintenance or uncordon order."`
	Reason                 string     `json:"reason"`
	CreatedBy              string     `json:"createdBy"`
	UpdatedBy              string     `json:"updatedBy"`
	Executor               string     `json:"executor" doc:"Who made the last transition."`
	ExecutionTime          *time.Time `json:"executionTime" doc:"When processing (or maintenance) last started."`
	CompletionTime         *time.Time `json:"completionTime" doc:"When the order last reached completed, failed, cancelled or ignored."`
	FailureReason          string     `json:"failureReason"`
	MaintenanceStartTime   *time.Time `json:"maintenanceStartTime"`
	MaintenanceEndTime     *time.Time `json:"maintenanceEndTime"`
	ExternalSystem         string     `json:"externalSystem"`
	ExternalTicketID       string     `json:"externalTicketId"`
	StrategyTriggeredValue string     `json:"strategyTriggeredValue"`
	StrategyThresholdValue string     `json:"strategyThresholdValue"`
	IdempotencyKey         *string    `json:"idempotencyKey"`
	EvaluationID           *int64     `json:"evaluationId"`
	Version                int        `json:"version"`
	CreatedAt              time.Time  `json:"createdAt"`
	UpdatedAt              time.Time  `json:"updatedAt"`
}

// OrderColumns lists the columns ScanOrder reads, qualified by the alias o
// (FROM elastic_scaling_orders o).
const OrderColumns = `o.id, o.order_number, o.cluster_id, o.pool_id, o.strategy_id, o.action_type, o.status,
	o.device_count, o.device_id, o.reason, o.created_by, o.updated_by, o.executor, o.execution_time,
	o.completion_time, o.failure_reason, o.maintenance_start_time, o.maintenance_end_time, o.external_system,
	o.external_ticket_id, o.strategy_triggered_value, o.strategy_threshold_value, o.idempotency_key,
	o.evaluation_id, o.version, o.created_at, o.updated_at`

// OrderScanTargets returns pointers to o's fields in OrderColumns order, so a
// caller selecting more columns can append its own.
func OrderScanTargets(o *Order) []any {
	return []any{&o.ID, &o.OrderNumber, &o.ClusterID, &o.PoolID, &o.StrategyID, &o.ActionType, &o.Status,
		&o.DeviceCount, &o.DeviceID, &o.Reason, &o.CreatedBy, &o.UpdatedBy, &o.Executor, &o.ExecutionTime,
		&o.CompletionTime, &o.FailureReason, &o.MaintenanceStartTime, &o.MaintenanceEndTime, &o.ExternalSystem,
		&o.ExternalTicketID, &o.StrategyTriggeredValue, &o.StrategyThresholdValue, &o.IdempotencyKey,
		&o.EvaluationID, &o.Version, &o.CreatedAt, &o.UpdatedAt}
}

// ScanOrder reads one row of OrderColumns.
func ScanOrder(row pgx.Row) (Order, error) {
	var o Order
	err := row.Scan(OrderScanTargets(&o)...)
	return o, Translate(err)
}

// GetOrder reads one order.
func GetOrder(ctx context.Context, q Querier, id int64) (Order, error) {
	return ScanOrder(q.QueryRow(ctx, "SELECT "+OrderColumns+" FROM elastic_scaling_orders o WHERE o.id = $1", id))
}

type requestIDKey struct{}

// WithRequestID attaches the request id that the order store writes into
// the audit rows it creates.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewOrder is what CreateOrder writes.
type NewOrder struct {
	ActionType  string // pool_entry | pool_exit | maintenance | uncordon
	ClusterID   *int64
	PoolID      *int64 // must belong to ClusterID
	StrategyID  *int64
	DeviceCount int     // 0 means len(DeviceIDs)
	DeviceID    *int64  // the maintained device (maintenance, uncordon)
	DeviceIDs   []int64 // devices the order holds (order_devices); may be empty
	Reason      string
	CreatedBy   string
	// IdempotencyKey makes a duplicate impossible (strategy orders: {strategy}:{cluster}:{pool}:{date}).
	IdempotencyKey         *string
	EvaluationID           *int64
	StrategyTriggeredValue string
	StrategyThresholdValue string
	ExternalSystem         string
	ExternalTicketID       string
	MaintenanceStartTime   *time.Time
	MaintenanceEndTime     *time.Time
	// Now dates the order number and should be in the configured TIMEZONE;
	// zero means time.Now() (in its own location).
	Now time.Time
}

// Problem is one bad input of an order write, named by its field path
// relative to the request body (e.g. "poolId", "deviceIds[2]").
type Problem struct {
	Field   string
	Message string
	Value   any
}

// InvalidOrderError lists what is wrong with a NewOrder (the API's 422).
type InvalidOrderError struct{ Problems []Problem }

func (e *InvalidOrderError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return "invalid order: " + strings.Join(parts, "; ")
}

// HeldDevice is a device another open order holds.
type HeldDevice struct {
	Index       int // position in NewOrder.DeviceIDs
	DeviceID    int64
	Hostname    string
	OrderID     int64
	OrderNumber string
}

// DevicesHeldError refuses devices that open orders hold (the API's 409).
type DevicesHeldError struct{ Devices []HeldDevice }

func (e *DevicesHeldError) Error() string {
	parts := make([]string, len(e.Devices))
	for i, d := range e.Devices {
		parts[i] = fmt.Sprintf("%s (device %d) is held by order %s", d.Hostname, d.DeviceID, d.OrderNumber)
	}
	return strings.Join(parts, "; ")
}

// Unwrap makes the error match ErrConflict.
func (e *DevicesHeldError) Unwrap() error { return ErrConflict }

// deviceRole is order_devices.role per action type.
func deviceRole(actionType string) (string, error) {
	switch orderflow.ActionType(actionType) {
	case orderflow.TypePoolEntry:
		return "add", nil
	case orderflow.TypePoolExit:
		return "remove", nil
	case orderflow.TypeMaintenance:
		return "maintain", nil
	case orderflow.TypeUncordon:
		return "uncordon", nil
	}
	return "", &InvalidOrderError{Problems: []Problem{{Field: "actionType", Message: "unknown action type", Value: actionType}}}
}

// OrderNames are the names of what an order refers to (nil: none).
type OrderNames struct {
	Cluster, Pool, Strategy *string
}

// orderNamesColumns reads OrderNames for the alias o.
const orderNamesColumns = `(SELECT name FROM clusters WHERE id = o.cluster_id),
	(SELECT name FROM resource_pools WHERE id = o.pool_id),
	(SELECT name FROM elastic_scaling_strategies WHERE id = o.strategy_id)`

// CreateOrder inserts an order, its order_devices rows and its audit row
// through tx, after checking that the pool belongs to the cluster and that
// every device suits the action and is not held by another open order
// (locking those devices until tx ends). Callers emit order.created after
// their commit.
func CreateOrder(ctx context.Context, tx pgx.Tx, n NewOrder) (Order, error) {
	o, _, err := CreateOrderNamed(ctx, tx, n)
	return o, err
}

// orderInsert is the INSERT of CreateOrder up to its source: either VALUES
// or a SELECT that checks the pool in the same statement. Parameters are
// cast because an INSERT … SELECT does not type them from the columns.
const orderInsert = `INSERT INTO elastic_scaling_orders AS o (order_number, cluster_id, pool_id, strategy_id,
		action_type, device_count, device_id, reason, created_by, updated_by, idempotency_key, evaluation_id,
		strategy_triggered_value, strategy_threshold_value, external_system, external_ticket_id,
		maintenance_start_time, maintenance_end_time)
	SELECT 'EP-' || $1::text || '-' || (SELECT lpad(n, greatest(6, length(n)), '0') FROM (SELECT nextval('order_number_seq')::text AS n) seq),
		$2::bigint, $3::bigint, $4::bigint, $5::text, $6::integer, $7::bigint, $8::text, $9::text, $9::text, $10::text, $11::bigint,
		$12::text, $13::text, $14::text, $15::text, $16::timestamptz, $17::timestamptz`

// CreateOrderNamed is CreateOrder that also returns the names of the
// order's cluster, pool and strategy (for an API answer without another
// query). An order of a pool without devices — the common manual case — is
// checked and inserted by one statement.
func CreateOrderNamed(ctx context.Context, tx pgx.Tx, n NewOrder) (Order, OrderNames, error) {
	role, err := deviceRole(n.ActionType)
	if err != nil {
		return Order{}, OrderNames{}, err
	}
	n = n.withDefaults()
	args := orderArgs(n)
	insert := func(source string) (Order, OrderNames, error) {
		var o Order
		var names OrderNames
		err := tx.QueryRow(ctx, orderInsert+source+" RETURNING "+OrderColumns+", "+orderNamesColumns, args...).
			Scan(append(OrderScanTargets(&o), &names.Cluster, &names.Pool, &names.Strategy)...)
		return o, names, Translate(err)
	}
	finish := func(o Order, names OrderNames) (Order, OrderNames, error) {
		if len(n.DeviceIDs) > 0 {
			// The unique index order_devices_one_open_order is the last line against
			// a concurrent order taking the same device.
			if _, err := tx.Exec(ctx, `INSERT INTO order_devices (order_id, device_id, role)
				SELECT $1, d, $3 FROM unnest($2::bigint[]) AS d`, o.ID, n.DeviceIDs, role); err != nil {
				return Order{}, OrderNames{}, Translate(err)
			}
		}
		err := WriteAudit(ctx, tx, Audit{Actor: n.CreatedBy, Action: "order.create", TargetType: "order", TargetID: o.ID,
			After: orderAudit{Order: o, DeviceIDs: n.DeviceIDs}, RequestID: requestIDOf(ctx)})
		return o, names, err
	}

	if oneStatement(n) {
		o, names, err := insertOrderAudited(ctx, tx, n)
		if !errors.Is(err, ErrNotFound) {
			return o, names, err
		}
		// no such pool in that cluster: the checks below say which
	}

	var (
		problems     []Problem
		clusterIDC   string
		clusterZone  string
		poolResolved bool
	)
	if n.PoolID != nil {
		if n.ClusterID == nil {
			problems = append(problems, Problem{Field: "clusterId", Message: "is required with poolId"})
		} else {
			var poolCluster int64
			err := tx.QueryRow(ctx, `SELECT p.cluster_id, c.idc, c.zone FROM resource_pools p JOIN clusters c ON c.id = p.cluster_id
				WHERE p.id = $1`, *n.PoolID).Scan(&poolCluster, &clusterIDC, &clusterZone)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				problems = append(problems, Problem{Field: "poolId", Message: "no such pool", Value: *n.PoolID})
			case err != nil:
				return Order{}, OrderNames{}, Translate(err)
			case poolCluster != *n.ClusterID:
				problems = append(problems, Problem{Field: "poolId",
					Message: fmt.Sprintf("pool %d belongs to cluster %d, not %d", *n.PoolID, poolCluster, *n.ClusterID), Value: *n.PoolID})
			default:
				poolResolved = true
			}
		}
	} else if n.ClusterID != nil {
		err := tx.QueryRow(ctx, "SELECT idc, zone FROM clusters WHERE id = $1", *n.ClusterID).Scan(&clusterIDC, &clusterZone)
		if errors.Is(err, pgx.ErrNoRows) {
			problems = append(problems, Problem{Field: "clusterId", Message: "no such cluster", Value: *n.ClusterID})
		} else if err != nil {
			return Order{}, OrderNames{}, Translate(err)
		}
	}
	if len(problems) > 0 {
		return Order{}, OrderNames{}, &InvalidOrderError{Problems: problems}
	}
	if len(n.DeviceIDs) > 0 {
		if err := checkOrderDevices(ctx, tx, n, poolResolved, clusterIDC, clusterZone); err != nil {
			return Order{}, OrderNames{}, err
		}
	}
	o, names, err := insert("")
	if err != nil {
		return Order{}, OrderNames{}, err
	}
	return finish(o, names)
}

func (n NewOrder) withDefaults() NewOrder {
	if n.DeviceCount == 0 {
		n.DeviceCount = len(n.DeviceIDs)
	}
	if n.Now.IsZero() {
		n.Now = time.Now()
	}
	return n
}

func orderArgs(n NewOrder) []any {
	return []any{n.Now.Format("20060102"), n.ClusterID, n.PoolID, n.StrategyID, n.ActionType, n.DeviceCount, n.DeviceID, n.Reason,
		n.CreatedBy, n.IdempotencyKey, n.EvaluationID, n.StrategyTriggeredValue, n.StrategyThresholdValue,
		n.ExternalSystem, n.ExternalTicketID, n.MaintenanceStartTime, n.MaintenanceEndTime}
}

// oneStatement: an order of a cluster's pool that holds no devices needs no
// device checks, so checking the pool, inserting and auditing are one statement.
func oneStatement(n NewOrder) bool {
	return n.PoolID != nil && n.ClusterID != nil && len(n.DeviceIDs) == 0
}

// orderJSON is a jsonb_build_object of the row o with Order's JSON keys, for
// audit rows written inside the INSERT statement. It is derived from Order's
// fields, which OrderColumns lists in the same order, so the keys cannot drift.
var orderJSON = func() string {
	cols := strings.Split(OrderColumns, ",")
	t := reflect.TypeFor[Order]()
	if len(cols) != t.NumField() {
		panic("postgres: OrderColumns and Order disagree")
	}
	pairs := make([]string, len(cols))
	for i, c := range cols {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		pairs[i] = fmt.Sprintf("'%s', %s", name, strings.TrimSpace(c))
	}
	return "jsonb_build_object(" + strings.Join(pairs, ", ") + ")"
}()

// insertOrderAudited checks the pool, inserts the order and writes its
// order.create audit row in one statement (ErrNotFound: the pool is not in
// that cluster, nothing written). Through a pool it is one autocommit round
// trip: the statement is atomic on its own.
func insertOrderAudited(ctx context.Context, q Querier, n NewOrder) (Order, OrderNames, error) {
	var o Order
	var names OrderNames
	args := append(orderArgs(n), requestIDOf(ctx))
	err := q.QueryRow(ctx, insertOrderAuditedSQL, args...).
		Scan(append(OrderScanTargets(&o), &names.Cluster, &names.Pool, &names.Strategy)...)
	return o, names, Translate(err)
}

// insertOrderAuditedSQL is built once: pgx looks its prepared statement up
// by this text on every call.
var insertOrderAuditedSQL = `WITH o AS (` + orderInsert + ` FROM resource_pools p WHERE p.id = $3 AND p.cluster_id = $2 RETURNING *
		), audit AS (
			INSERT INTO audit_log (actor, action, target_type, target_id, after, request_id)
			SELECT $9, 'order.create', 'order', o.id::text, ` + orderJSON + `, $18 FROM o
		)
		SELECT ` + OrderColumns + ", " + orderNamesColumns + " FROM o"

// CreateOrderInPool creates an order in a transaction of its own (the API's
// manual orders). An order of a pool without devices is one autocommit
// statement — check, insert and audit together — which keeps a manual
// order close to the cost of a single-row INSERT; anything else, or a pool
// that does not check out (for the precise 422), goes through
// CreateOrderNamed in a transaction.
func CreateOrderInPool(ctx context.Context, pool *pgxpool.Pool, n NewOrder) (Order, OrderNames, error) {
	n = n.withDefaults()
	if oneStatement(n) {
		if _, err := deviceRole(n.ActionType); err != nil {
			return Order{}, OrderNames{}, err
		}
		o, names, err := insertOrderAudited(ctx, pool, n)
		if !errors.Is(err, ErrNotFound) {
			return o, names, err
		}
	}
	var o Order
	var names OrderNames
	err := InTx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		o, names, err = CreateOrderNamed(ctx, tx, n)
		return err
	})
	return o, names, err
}

// orderAudit is what the audit log keeps of an order write.
type orderAudit struct {
	Order
	DeviceIDs  []int64          `json:"deviceIds,omitempty"`
	Transition *transitionAudit `json:"transition,omitempty"`
}

type transitionAudit struct {
	Action string `json:"action"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
}

// checkOrderDevices locks the requested devices and refuses missing,
// duplicate or unsuitable ones (InvalidOrderError) and ones held by another
// open order (DevicesHeldError).
func checkOrderDevices(ctx context.Context, tx pgx.Tx, n NewOrder, poolResolved bool, clusterIDC, clusterZone string) error {
	type dev struct {
		hostname, status, idc, zone string
		clusterID, poolID           *int64
		heldBy                      *int64
		heldNumber                  *string
	}
	rows, err := tx.Query(ctx, `SELECT d.id, d.hostname, d.status, d.idc, d.zone, d.cluster_id, d.pool_id, o.id, o.order_number
		FROM devices d
		LEFT JOIN order_devices od ON od.device_id = d.id AND od.active
		LEFT JOIN elastic_scaling_orders o ON o.id = od.order_id
		WHERE d.id = ANY($1)
		FOR UPDATE OF d`, n.DeviceIDs)
	if err != nil {
		return Translate(err)
	}
	found := map[int64]dev{}
	for rows.Next() {
		var id int64
		var d dev
		if err := rows.Scan(&id, &d.hostname, &d.status, &d.idc, &d.zone, &d.clusterID, &d.poolID, &d.heldBy, &d.heldNumber); err != nil {
			rows.Close()
			return Translate(err)
		}
		found[id] = d
	}
	if err := rows.Err(); err != nil {
		return Translate(err)
	}
	var problems []Problem
	var held []HeldDevice
	seen := map[int64]int{}
	for i, id := range n.DeviceIDs {
		field := fmt.Sprintf("deviceIds[%d]", i)
		if j, dup := seen[id]; dup {
			problems = append(problems, Problem{Field: field, Message: fmt.Sprintf("device %d is listed twice (also deviceIds[%d])", id, j), Value: id})
			continue
		}
		seen[id] = i
		d, ok := found[id]
		if !ok {
			problems = append(problems, Problem{Field: field, Message: "no such device", Value: id})
			continue
		}
		if msg := unsuitable(n, d.hostname, d.status, d.idc, d.zone, d.clusterID, d.poolID, poolResolved, clusterIDC, clusterZone); msg != "" {
			problems = append(problems, Problem{Field: field, Message: msg, Value: id})
			continue
		}
		if d.heldBy != nil {
			held = append(held, HeldDevice{Index: i, DeviceID: id, Hostname: d.hostname, OrderID: *d.heldBy, OrderNumber: *d.heldNumber})
		}
	}
	if len(problems) > 0 {
		return &InvalidOrderError{Problems: problems}
	}
	if len(held) > 0 {
		return &DevicesHeldError{Devices: held}
	}
	return nil
}

// unsuitable says why a device cannot take part in the order ("" when it can):
// entry takes idle devices of the cluster's idc (and zone, when the cluster
// has one) — the same additionCond as automatic matching; exit takes devices
// in_pool in that very pool; maintenance and uncordon take any device that is
// not retired.
func unsuitable(n NewOrder, hostname, status, idc, zone string, clusterID, poolID *int64, poolResolved bool, clusterIDC, clusterZone string) string {
	switch orderflow.ActionType(n.ActionType) {
	case orderflow.TypePoolEntry:
		if status != "idle" {
			return fmt.Sprintf("%s is %s; pool_entry takes idle devices", hostname, status)
		}
		if poolResolved && clusterIDC != "" && idc != clusterIDC {
			return fmt.Sprintf("%s is in idc %q; the cluster is in %q", hostname, idc, clusterIDC)
		}
		if poolResolved && clusterZone != "" && zone != clusterZone {
			return fmt.Sprintf("%s is in zone %q; the cluster is in %q", hostname, zone, clusterZone)
		}
	case orderflow.TypePoolExit:
		if status != "in_pool" || poolID == nil || n.PoolID == nil || *poolID != *n.PoolID || clusterID == nil || n.ClusterID == nil || *clusterID != *n.ClusterID {
			return fmt.Sprintf("%s is not in_pool in pool %s (status %s, pool %s); pool_exit takes devices of that pool",
				hostname, idString(n.PoolID), status, idString(poolID))
		}
	default:
		if status == "retired" {
			return hostname + " is retired"
		}
	}
	return ""
}

func idString(p *int64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// TransitionRefusedError is a target status the order's current status cannot
// reach (the API's 409). Allowed lists the statuses it can reach.
type TransitionRefusedError struct {
	OrderID    int64
	ActionType string
	From       string
	To         string
	Allowed    []string
	// Why is set when the state machine allows the step but the order's
	// devices do not (e.g. confirming maintenance of a retired device).
	Why string
}

func (e *TransitionRefusedError) Error() string {
	if e.Why != "" {
		return fmt.Sprintf("order %d (%s) cannot go from %s to %s: %s; allowed: %s", e.OrderID, e.ActionType, e.From, e.To, e.Why, strings.Join(e.Allowed, ", "))
	}
	if len(e.Allowed) == 0 {
		return fmt.Sprintf("order %d (%s) is %s, a final status; it cannot become %s", e.OrderID, e.ActionType, e.From, e.To)
	}
	return fmt.Sprintf("order %d (%s) cannot go from %s to %s; allowed: %s", e.OrderID, e.ActionType, e.From, e.To, strings.Join(e.Allowed, ", "))
}

// Unwrap makes the error match orderflow.ErrNotAllowed.
func (e *TransitionRefusedError) Unwrap() error { return orderflow.ErrNotAllowed }

// ErrReasonRequired refuses a transition that needs a reason (fail) without one.
var ErrReasonRequired = errors.New("a reason is required for this transition")

// AllowedStep is one transition available from an order's status.
type AllowedStep struct {
	Action string `json:"action" enum:"execute,complete,fail,retry,ignore,cancel,confirm"`
	Status string `json:"status" doc:"The status the action leads to; PUT it to …/status." enum:"pending,processing,completed,failed,cancelled,ignored,maintenance_in_progress"`
	// NeedsReason: the request must carry a reason.
	NeedsReason bool `json:"needsReason"`
}

// AllowedSteps lists what the state machine lets an order of actionType in
// status do next, in orderflow's order.
func AllowedSteps(actionType, status string) []AllowedStep {
	t, from := orderflow.ActionType(actionType), orderflow.Status(status)
	actions := orderflow.Allowed(t, from)
	out := make([]AllowedStep, 0, len(actions))
	for _, a := range actions {
		tr, err := orderflow.Lookup(t, from, a)
		if err != nil {
			continue // Allowed and Lookup agree; nothing to add
		}
		out = append(out, AllowedStep{Action: string(a), Status: string(tr.To), NeedsReason: tr.NeedsReason})
	}
	return out
}

// findTransition is the orderflow step that takes an order of type t from
// status from to status to.
func findTransition(id int64, t, from, to string) (orderflow.Transition, error) {
	steps := AllowedSteps(t, from)
	allowed := make([]string, 0, len(steps))
	for _, s := range steps {
		if s.Status == to {
			return orderflow.Lookup(orderflow.ActionType(t), orderflow.Status(from), orderflow.Action(s.Action))
		}
		if !slices.Contains(allowed, s.Status) {
			allowed = append(allowed, s.Status)
		}
	}
	return orderflow.Transition{}, &TransitionRefusedError{OrderID: id, ActionType: t, From: from, To: to, Allowed: allowed}
}

// TransitionOrder moves order id to status target in one transaction: it
// locks the order (SELECT … FOR UPDATE), checks expectedVersion (≤ 0 skips
// the check, for system callers; a mismatch is ErrStale), finds the
// orderflow action that leads to target (none: *TransitionRefusedError),
// requires a reason where the action needs one (ErrReasonRequired), records
// executor and times, applies the action type's device effects, releases the
// devices when the order closes, and writes the audit row. The caller emits
// order.status.changed after it returns.
func TransitionOrder(ctx context.Context, pool *pgxpool.Pool, id int64, target string, expectedVersion int, actor, reason string) (before, after Order, err error) {
	err = InTx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		before, after, err = TransitionOrderTx(ctx, tx, id, target, expectedVersion, actor, reason)
		return err
	})
	return before, after, err
}

// TransitionOrderTx is TransitionOrder inside the caller's transaction (for
// callers that write more in the same transaction, e.g. the uncordon order
// that follows completed maintenance).
func TransitionOrderTx(ctx context.Context, tx pgx.Tx, id int64, target string, expectedVersion int, actor, reason string) (before, after Order, err error) {
	before, err = ScanOrder(tx.QueryRow(ctx, "SELECT "+OrderColumns+" FROM elastic_scaling_orders o WHERE o.id = $1 FOR UPDATE", id))
	if err != nil {
		return before, after, err
	}
	if expectedVersion > 0 && before.Version != expectedVersion {
		return before, after, ErrStale
	}
	tr, err := findTransition(id, before.ActionType, before.Status, target)
	if err != nil {
		return before, after, err
	}
	reason = strings.TrimSpace(reason)
	if tr.NeedsReason && reason == "" {
		return before, after, ErrReasonRequired
	}
	to := string(tr.To)
	closed := !orderflow.IsOpen(tr.To)
	after, err = ScanOrder(tx.QueryRow(ctx, `UPDATE elastic_scaling_orders o SET status = $2, executor = $3, updated_by = $3,
			execution_time = CASE WHEN $2 IN ('processing', 'maintenance_in_progress') THEN now() ELSE execution_time END,
			completion_time = CASE WHEN $4 OR $2 = 'failed' THEN now() WHEN $2 = 'processing' THEN NULL ELSE completion_time END,
			failure_reason = CASE WHEN $2 = 'failed' THEN $5 ELSE failure_reason END,
			version = version + 1, updated_at = now()
		WHERE id = $1 RETURNING `+OrderColumns, id, to, actor, closed, reason))
	if err != nil {
		return before, after, err
	}
	if err := applyDeviceEffects(ctx, tx, after, tr, actor); err != nil {
		return before, after, err
	}
	if err := updateOrderDevices(ctx, tx, id, tr); err != nil {
		return before, after, err
	}
	// Completed maintenance opens its uncordon order in this same transaction,
	// once the maintenance order has released the device (maintenance.go).
	if tr.FollowUp != "" {
		if err := createFollowUp(ctx, tx, after, tr, actor); err != nil {
			return before, after, err
		}
	}
	err = WriteAudit(ctx, tx, Audit{Actor: actor, Action: "order.status", TargetType: "order", TargetID: id,
		Before: before, RequestID: requestIDOf(ctx),
		After: orderAudit{Order: after, Transition: &transitionAudit{Action: string(tr.Action), From: before.Status, To: to, Reason: reason}}})
	return before, after, err
}

// applyDeviceEffects changes the devices an order holds when a transition
// means something for them, per action type. Only held devices (active
// order_devices rows) are touched; each row ends done, or skipped with the
// reason when the device is no longer in the state the action expects.
func applyDeviceEffects(ctx context.Context, tx pgx.Tx, o Order, tr orderflow.Transition, actor string) error {
	switch orderflow.ActionType(o.ActionType) {
	case orderflow.TypePoolEntry:
		if tr.To != orderflow.StatusCompleted {
			return nil
		}
		// Completed entry: the devices join the order's cluster+pool. A device
		// already in_pool there (someone did it by hand) counts as done.
		return moveDevices(ctx, tx, o.ID, `UPDATE devices d SET status = 'in_pool', cluster_id = $2, pool_id = $3,
				version = d.version + 1, updated_by = $4, updated_at = now()
			FROM held WHERE d.id = held.device_id AND (d.status = 'idle' OR (d.status = 'in_pool' AND d.pool_id = $3))
			RETURNING d.id`, "no longer idle when the order completed", o.ClusterID, o.PoolID, actor)
	case orderflow.TypePoolExit:
		if tr.To != orderflow.StatusCompleted {
			return nil
		}
		// Completed exit: the devices leave the pool and become idle spares;
		// their node data goes with the node.
		return moveDevices(ctx, tx, o.ID, `UPDATE devices d SET status = 'idle', cluster_id = NULL, pool_id = NULL,
				node_cpu_allocated = NULL, node_mem_allocated = NULL,
				version = d.version + 1, updated_by = $4, updated_at = now()
			FROM held WHERE d.id = held.device_id AND ((d.status = 'in_pool' AND d.cluster_id = $2 AND d.pool_id = $3) OR d.status = 'idle')
			RETURNING d.id`, "no longer in_pool in the order's pool when the order completed", o.ClusterID, o.PoolID, actor)
	case orderflow.TypeMaintenance:
		// confirm: → maintenance; complete: → cordoned (maintenance.go).
		return maintenanceDeviceEffects(ctx, tx, o, tr, actor)
	case orderflow.TypeUncordon:
		// complete: cordoned → in_pool or idle (maintenance.go).
		return uncordonDeviceEffects(ctx, tx, o, tr, actor)
	}
	return nil
}

// moveDevices runs update (which may read the CTE held(device_id) and the
// parameters $2 cluster, $3 pool, $4 actor, and returns the moved device ids)
// and marks the held rows done or skipped.
func moveDevices(ctx context.Context, tx pgx.Tx, orderID int64, update, skipped string, clusterID, poolID *int64, actor string) error {
	_, err := tx.Exec(ctx, `WITH held AS (
			SELECT device_id FROM order_devices WHERE order_id = $1 AND active
		), moved AS (`+update+`)
		UPDATE order_devices od SET
			status = CASE WHEN od.device_id IN (SELECT id FROM moved) THEN 'done' ELSE 'skipped' END,
			error = CASE WHEN od.device_id IN (SELECT id FROM moved) THEN '' ELSE $5 END,
			updated_at = now()
		WHERE od.order_id = $1 AND od.active`, orderID, clusterID, poolID, actor, skipped)
	return Translate(err)
}

// updateOrderDevices follows the order's status on its held rows and
// releases them when the order closes.
func updateOrderDevices(ctx context.Context, tx pgx.Tx, orderID int64, tr orderflow.Transition) error {
	var set string
	switch tr.To {
	// A device whose node operations are done stays done through a failure
	// and the retry: re-executing continues where it stopped (shared/nodeexec).
	case orderflow.StatusProcessing, orderflow.StatusMaintenanceInProgress:
		set = "error = CASE WHEN status = 'done' THEN error ELSE '' END, status = CASE WHEN status = 'done' THEN status ELSE 'processing' END"
	case orderflow.StatusFailed:
		set = "status = CASE WHEN status IN ('done', 'skipped') THEN status ELSE 'failed' END"
	case orderflow.StatusCancelled, orderflow.StatusIgnored:
		set = "status = 'skipped'"
	case orderflow.StatusCompleted:
		set = "status = CASE WHEN status IN ('pending', 'processing') THEN 'done' ELSE status END" // rows the effects did not decide
	}
	if tr.Releases {
		if set != "" {
			set += ", "
		}
		set += "active = false"
	}
	if set == "" {
		return nil
	}
	_, err := tx.Exec(ctx, "UPDATE order_devices SET "+set+", updated_at = now() WHERE order_id = $1 AND active", orderID)
	return Translate(err)
}
