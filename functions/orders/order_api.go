package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// OrderView is an order as the API shows it: the row, the names of what it
// refers to, and what the state machine lets a person do next.
type OrderView struct {
	postgres.Order
	ClusterName    *string                `json:"clusterName"`
	PoolName       *string                `json:"poolName"`
	StrategyName   *string                `json:"strategyName"`
	AllowedActions []postgres.AllowedStep `json:"allowedActions" doc:"Transitions available now; PUT one's status to …/status."`
}

// orderViewColumns reads an order (alias o) plus the names; scalar subqueries
// keep the outer query a single-table scan that the list indexes serve.
const orderViewColumns = postgres.OrderColumns + `,
	(SELECT name FROM clusters WHERE id = o.cluster_id),
	(SELECT name FROM resource_pools WHERE id = o.pool_id),
	(SELECT name FROM elastic_scaling_strategies WHERE id = o.strategy_id)`

func scanOrderView(row pgx.Row) (OrderView, error) {
	var v OrderView
	err := row.Scan(append(postgres.OrderScanTargets(&v.Order), &v.ClusterName, &v.PoolName, &v.StrategyName)...)
	if err != nil {
		return v, postgres.Translate(err)
	}
	v.AllowedActions = postgres.AllowedSteps(v.ActionType, v.Status)
	return v, nil
}

func (f *Function) getOrderView(ctx context.Context, q postgres.Querier, id int64) (OrderView, error) {
	return scanOrderView(q.QueryRow(ctx, "SELECT "+orderViewColumns+" FROM elastic_scaling_orders o WHERE o.id = $1", id))
}

// OrderCreateInput is a manual order. Maintenance and uncordon orders come
// only from the maintenance function (they need an external ticket and a
// cordoned device), so the API creates pool_entry and pool_exit orders.
type OrderCreateInput struct {
	ActionType  string  `json:"actionType" enum:"pool_entry,pool_exit"`
	ClusterID   int64   `json:"clusterId" minimum:"1"`
	PoolID      int64   `json:"poolId" minimum:"1" doc:"Must belong to clusterId."`
	DeviceCount int     `json:"deviceCount,omitempty" minimum:"0" maximum:"10000" doc:"How many devices; defaults to the number of deviceIds, required without them."`
	DeviceIDs   []int64 `json:"deviceIds,omitempty" maxItems:"10000" doc:"Devices the order holds: idle ones (same idc/zone as the cluster) for pool_entry, ones in_pool in this pool for pool_exit. Omitted: the operator picks them while processing."`
	Reason      string  `json:"reason" minLength:"1" maxLength:"2000" doc:"Why the order is needed (kept on the order and in the audit log)."`
}

func (in OrderCreateInput) validate() error {
	var errs []*httpapi.FieldError
	if len(in.DeviceIDs) == 0 && in.DeviceCount == 0 {
		errs = append(errs, &httpapi.FieldError{Location: "body.deviceCount", Message: "must be ≥ 1 when no deviceIds are given", Value: in.DeviceCount})
	}
	if len(in.DeviceIDs) > 0 && in.DeviceCount != 0 && in.DeviceCount != len(in.DeviceIDs) {
		errs = append(errs, &httpapi.FieldError{Location: "body.deviceCount",
			Message: fmt.Sprintf("must equal the number of deviceIds (%d) or be omitted", len(in.DeviceIDs)), Value: in.DeviceCount})
	}
	for i, id := range in.DeviceIDs {
		if id < 1 {
			errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("body.deviceIds[%d]", i), Message: "must be ≥ 1", Value: id})
		}
	}
	if strings.TrimSpace(in.Reason) == "" && in.Reason != "" {
		errs = append(errs, &httpapi.FieldError{Location: "body.reason", Message: "must not be blank", Value: in.Reason})
	}
	if len(errs) > 0 {
		return httpapi.Invalid("bad order", errs...)
	}
	return nil
}

// OrderStatusInput asks for a transition to status; the server finds the
// action that leads there from the current status.
type OrderStatusInput struct {
	Status  string `json:"status" enum:"pending,processing,completed,failed,cancelled,ignored,maintenance_in_progress" doc:"The target status (see allowedActions of the order)."`
	Reason  string `json:"reason,omitempty" maxLength:"2000" doc:"Required to fail an order (kept as failureReason); recorded in the audit log and the event otherwise."`
	Version int    `json:"version,omitempty" minimum:"1" doc:"Current version (or send If-Match)."`
}

// OrderDevice is a device an order holds or held.
type OrderDevice struct {
	DeviceID     int64     `json:"deviceId"`
	Hostname     string    `json:"hostname"`
	IP           string    `json:"ip"`
	IDC          string    `json:"idc"`
	Zone         string    `json:"zone"`
	DeviceStatus string    `json:"deviceStatus" enum:"idle,in_pool,cordoned,maintenance,retired"`
	ClusterID    *int64    `json:"clusterId"`
	PoolID       *int64    `json:"poolId"`
	CPUCores     int       `json:"cpuCores"`
	MemoryBytes  int64     `json:"memoryBytes"`
	Role         string    `json:"role" enum:"add,remove,maintain,uncordon"`
	Status       string    `json:"status" enum:"pending,processing,done,failed,skipped" doc:"This device's progress within the order."`
	Error        string    `json:"error"`
	Active       bool      `json:"active" doc:"True while the order is open and holds the device."`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// AuditEntry is one audit_log row.
type AuditEntry struct {
	ID         int64     `json:"id"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	TargetType string    `json:"targetType"`
	TargetID   string    `json:"targetId"`
	Before     any       `json:"before"`
	After      any       `json:"after"`
	RequestID  string    `json:"requestId"`
	At         time.Time `json:"at"`
}

const auditColumns = "id, actor, action, target_type, target_id, before, after, request_id, at"

func scanAudit(row pgx.Row) (AuditEntry, error) {
	var a AuditEntry
	err := row.Scan(&a.ID, &a.Actor, &a.Action, &a.TargetType, &a.TargetID, &a.Before, &a.After, &a.RequestID, &a.At)
	return a, postgres.Translate(err)
}

func auditCursor(s httpapi.Sort) func(AuditEntry) httpapi.Cursor {
	return func(a AuditEntry) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: a.ID}
		if s.Key == "at" {
			c.Value = a.At
		}
		return c
	}
}

var auditSorts = map[string]string{"at": "at", "id": "id"}

// WorkbenchSummary feeds the workbench cards.
type WorkbenchSummary struct {
	PendingOrders         int       `json:"pendingOrders"`
	ProcessingOrders      int       `json:"processingOrders"`
	FailedOrders          int       `json:"failedOrders" doc:"Failed orders waiting for retry or cancel (they still hold their devices)."`
	MaintenanceInProgress int       `json:"maintenanceInProgress" doc:"Maintenance orders in maintenance_in_progress."`
	TriggeredPools        int       `json:"triggeredPools" doc:"Cluster+pools whose latest evaluation (by any strategy, within the last 7 days) was triggered."`
	ShortagesLast7Days    int       `json:"shortagesLast7Days" doc:"inventory.shortage events of the last 7 days, counted once each from the notification log."`
	GeneratedAt           time.Time `json:"generatedAt"`
}

type orderOutput struct {
	ETag string `header:"ETag"`
	Body OrderView
}

var orderSorts = map[string]string{"createdAt": "created_at", "updatedAt": "updated_at", "id": "id"}

type listOrdersInput struct {
	Status     []string  `query:"status,explode" enum:"pending,processing,completed,failed,cancelled,ignored,maintenance_in_progress" doc:"Repeat for several (any of them)."`
	ClusterID  int64     `query:"clusterId" minimum:"0"`
	PoolID     int64     `query:"poolId" minimum:"0"`
	StrategyID int64     `query:"strategyId" minimum:"0"`
	ActionType string    `query:"actionType" enum:"pool_entry,pool_exit,maintenance,uncordon"`
	From       time.Time `query:"from" doc:"createdAt ≥ from (RFC 3339)."`
	To         time.Time `query:"to" doc:"createdAt < to (RFC 3339)."`
	Q          string    `query:"q" maxLength:"64" doc:"Start of the order number (EP-20261129-000123, also without EP-) or of its sequence part (000123)."`
	ListParams
}

func (f *Function) registerOrderAPI() {
	huma.Register(f.api, huma.Operation{
		OperationID: "list-orders", Method: http.MethodGet, Path: httpapi.Prefix + "/elastic-scaling/orders",
		Summary: "List orders", Tags: []string{"orders"},
		Description: "Sort by createdAt (default -createdAt), updatedAt or id. Every filter combination is served by an index.",
	}, func(ctx context.Context, in *listOrdersInput) (*struct{ Body List[OrderView] }, error) {
		l, err := f.listOrders(ctx, in)
		if err != nil {
			return nil, err
		}
		return &struct{ Body List[OrderView] }{Body: l}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-order", Method: http.MethodGet, Path: httpapi.Prefix + "/elastic-scaling/orders/{id}",
		Summary: "Get an order", Tags: []string{"orders"},
	}, func(ctx context.Context, in *idPath) (*orderOutput, error) {
		v, err := f.getOrderView(ctx, f.db, in.ID)
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("order %d", in.ID))
		}
		return &orderOutput{ETag: httpapi.ETag(v.Version), Body: v}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "create-order", Method: http.MethodPost, Path: httpapi.Prefix + "/elastic-scaling/orders",
		Summary: "Create a manual order", Tags: []string{"orders"}, DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *struct{ Body OrderCreateInput }) (*orderOutput, error) {
		b := in.Body
		if err := b.validate(); err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		clusterID, poolID := b.ClusterID, b.PoolID
		o, names, err := postgres.CreateOrderInPool(postgres.WithRequestID(ctx, httpapi.RequestID(ctx)), f.db, postgres.NewOrder{
			ActionType: b.ActionType, ClusterID: &clusterID, PoolID: &poolID, DeviceCount: b.DeviceCount,
			DeviceIDs: b.DeviceIDs, Reason: strings.TrimSpace(b.Reason), CreatedBy: actor, Now: f.now().In(f.loc),
		})
		if err != nil {
			return nil, orderError(err, "order")
		}
		v := OrderView{Order: o, ClusterName: names.Cluster, PoolName: names.Pool, StrategyName: names.Strategy,
			AllowedActions: postgres.AllowedSteps(o.ActionType, o.Status)}
		f.emitOrderEvent(ctx, events.Outgoing{
			ID: fmt.Sprintf("order-%d-created", v.ID), Type: events.TypeOrderCreated, Source: events.SourceOrders,
			Subject: fmt.Sprintf("order/%d", v.ID),
			Data: events.OrderCreated{OrderID: v.ID, OrderNumber: v.OrderNumber, Action: v.ActionType, ClusterID: v.ClusterID,
				PoolID: v.PoolID, DeviceCount: v.DeviceCount, StrategyID: v.StrategyID, CreatedBy: v.CreatedBy},
		})
		return &orderOutput{ETag: httpapi.ETag(v.Version), Body: v}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-order-status", Method: http.MethodPut, Path: httpapi.Prefix + "/elastic-scaling/orders/{id}/status",
		Summary: "Move an order to another status", Tags: []string{"orders"},
		Description: "The server finds the action leading from the current status to the requested one. " +
			"A transition the state machine refuses answers 409 listing the allowed target statuses; " +
			"a stale version answers 412.",
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    OrderStatusInput
	}) (*orderOutput, error) {
		version, err := httpapi.ExpectedVersion(in.IfMatch, in.Body.Version)
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var before postgres.Order
		var v OrderView
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			var err error
			before, _, err = postgres.TransitionOrderTx(postgres.WithRequestID(ctx, httpapi.RequestID(ctx)), tx,
				in.ID, in.Body.Status, version, actor, in.Body.Reason)
			if err != nil {
				return err
			}
			v, err = f.getOrderView(ctx, tx, in.ID)
			return err
		})
		if err != nil {
			return nil, orderError(err, fmt.Sprintf("order %d", in.ID))
		}
		f.emitOrderEvent(ctx, events.Outgoing{
			ID: fmt.Sprintf("order-%d-v%d", v.ID, v.Version), Type: events.TypeOrderStatusChanged, Source: events.SourceOrders,
			Subject: fmt.Sprintf("order/%d", v.ID),
			Data: events.OrderStatusChanged{OrderID: v.ID, OrderNumber: v.OrderNumber, Action: v.ActionType,
				From: before.Status, To: v.Status, Actor: actor, Reason: strings.TrimSpace(in.Body.Reason)},
		})
		f.emitExecuteAfterTransition(ctx, before.Status, v)
		return &orderOutput{ETag: httpapi.ETag(v.Version), Body: v}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "list-order-devices", Method: http.MethodGet, Path: httpapi.Prefix + "/elastic-scaling/orders/{id}/devices",
		Summary: "Devices of an order", Tags: []string{"orders"},
	}, func(ctx context.Context, in *idPath) (*struct{ Body List[OrderDevice] }, error) {
		items, err := f.orderDevices(ctx, in.ID)
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("order %d", in.ID))
		}
		return &struct{ Body List[OrderDevice] }{Body: List[OrderDevice]{Items: items}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "list-order-audit", Method: http.MethodGet, Path: httpapi.Prefix + "/elastic-scaling/orders/{id}/audit",
		Summary: "Audit trail of an order (newest first)", Tags: []string{"orders"},
	}, func(ctx context.Context, in *struct {
		ID int64 `path:"id" minimum:"1"`
		ListParams
	}) (*struct{ Body List[AuditEntry] }, error) {
		var exists bool
		if err := f.db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM elastic_scaling_orders WHERE id = $1)", in.ID).Scan(&exists); err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("order %d", in.ID))
		}
		if !exists {
			return nil, huma.Error404NotFound(fmt.Sprintf("order %d not found", in.ID))
		}
		w := newWhere()
		w.add("target_type = 'order'")
		w.add("target_id = " + w.arg(fmt.Sprint(in.ID)))
		l, err := f.listAudit(ctx, w, in.ListParams)
		if err != nil {
			return nil, err
		}
		return &struct{ Body List[AuditEntry] }{Body: l}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "list-audit-log", Method: http.MethodGet, Path: httpapi.Prefix + "/audit-log",
		Summary: "Audit log (newest first by default)", Tags: []string{"audit"},
	}, func(ctx context.Context, in *struct {
		TargetType string    `query:"targetType" maxLength:"50" doc:"e.g. order, cluster, pool, device."`
		TargetID   string    `query:"targetId" maxLength:"100"`
		Actor      string    `query:"actor" maxLength:"200"`
		From       time.Time `query:"from" doc:"at ≥ from (RFC 3339)."`
		To         time.Time `query:"to" doc:"at < to (RFC 3339)."`
		ListParams
	}) (*struct{ Body List[AuditEntry] }, error) {
		w := newWhere()
		if in.TargetType != "" {
			w.add("target_type = " + w.arg(in.TargetType))
		}
		if in.TargetID != "" {
			if in.TargetType == "" {
				return nil, httpapi.Invalid("bad filter", &httpapi.FieldError{Location: "query.targetId", Message: "needs targetType", Value: in.TargetID})
			}
			w.add("target_id = " + w.arg(in.TargetID))
		}
		if in.Actor != "" {
			w.add("actor = " + w.arg(in.Actor))
		}
		if !in.From.IsZero() {
			w.add("at >= " + w.arg(in.From))
		}
		if !in.To.IsZero() {
			w.add("at < " + w.arg(in.To))
		}
		l, err := f.listAudit(ctx, w, in.ListParams)
		if err != nil {
			return nil, err
		}
		return &struct{ Body List[AuditEntry] }{Body: l}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-workbench-summary", Method: http.MethodGet, Path: httpapi.Prefix + "/workbench/summary",
		Summary: "Counts for the workbench cards", Tags: []string{"workbench"},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body WorkbenchSummary }, error) {
		s, err := f.workbenchSummary(ctx)
		if err != nil {
			return nil, httpapi.StoreError(err, "workbench summary")
		}
		return &struct{ Body WorkbenchSummary }{Body: s}, nil
	})
}

// listOrders pages orders. With several statuses it reads one keyset page per
// status (each an index range scan on (status, <sort>, id)) and merges them,
// instead of filtering one long scan of the sort index.
func (f *Function) listOrders(ctx context.Context, in *listOrdersInput) (List[OrderView], error) {
	sort, err := httpapi.ParseSort(in.Sort, "-createdAt", orderSorts)
	if err != nil {
		return List[OrderView]{}, err
	}
	cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
	if err != nil {
		return List[OrderView]{}, err
	}
	if !in.From.IsZero() && !in.To.IsZero() && !in.To.After(in.From) {
		return List[OrderView]{}, httpapi.Invalid("bad range", &httpapi.FieldError{Location: "query.to", Message: "must be after from", Value: in.To})
	}
	w := newWhere()
	if in.ClusterID > 0 {
		w.add("cluster_id = " + w.arg(in.ClusterID))
	}
	if in.PoolID > 0 {
		p := w.arg(in.PoolID)
		w.add("pool_id = " + p)
		if in.ClusterID == 0 {
			// the (cluster_id, pool_id, created_at, id) index needs the cluster
			w.add("cluster_id = (SELECT cluster_id FROM resource_pools WHERE id = " + p + ")")
		}
	}
	if in.StrategyID > 0 {
		w.add("strategy_id = " + w.arg(in.StrategyID))
	}
	if in.ActionType != "" {
		w.add("action_type = " + w.arg(in.ActionType))
	}
	if !in.From.IsZero() {
		w.add("created_at >= " + w.arg(in.From))
	}
	if !in.To.IsZero() {
		w.add("created_at < " + w.arg(in.To))
	}
	if q := strings.TrimSpace(in.Q); q != "" {
		w.add(numberSearch(w, q))
	}
	cond, kargs, orderBy := sort.Keyset(cur, len(w.args)+1)
	if cond != "TRUE" {
		w.add(cond)
		w.args = append(w.args, kargs...)
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 50
	}
	statuses := slices.Compact(slices.Sorted(slices.Values(in.Status)))
	var inner string
	switch len(statuses) {
	case 0:
		inner = fmt.Sprintf("SELECT * FROM elastic_scaling_orders%s %s LIMIT %d", w.sql(), orderBy, limit+1)
	case 1:
		w.add("status = " + w.arg(statuses[0]))
		inner = fmt.Sprintf("SELECT * FROM elastic_scaling_orders%s %s LIMIT %d", w.sql(), orderBy, limit+1)
	default:
		base := w.conds
		branches := make([]string, len(statuses))
		for i, s := range statuses {
			bw := &where{conds: append(slices.Clone(base), "status = "+w.arg(s))}
			branches[i] = fmt.Sprintf("(SELECT * FROM elastic_scaling_orders%s %s LIMIT %d)", bw.sql(), orderBy, limit+1)
		}
		inner = strings.Join(branches, " UNION ALL ")
	}
	sql := fmt.Sprintf("SELECT %s FROM (%s) o %s LIMIT %d", orderViewColumns, inner, orderBy, limit+1)
	rows, err := customPlans{f.db}.Query(ctx, sql, w.args...)
	if err != nil {
		return List[OrderView]{}, httpapi.StoreError(postgres.Translate(err), "orders")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrderView, error) { return scanOrderView(r) })
	if err != nil {
		return List[OrderView]{}, httpapi.StoreError(err, "orders")
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		c := httpapi.Cursor{Sort: sort.String(), ID: last.ID}
		switch sort.Key {
		case "createdAt":
			c.Value = last.CreatedAt
		case "updatedAt":
			c.Value = last.UpdatedAt
		}
		next = c.Encode()
	}
	return List[OrderView]{Items: items, NextCursor: next}, nil
}

// numberSearch is the condition of q: the start of an order number
// (EP-YYYYMMDD-NNNNNN), also without its "EP-", or the start of its sequence
// part ("000123", "-000123"). Each alternative is a btree prefix range
// (orders_number_prefix, orders_number_seq_prefix) — a trigram index would
// serve any substring but costs every order insert ≈ 15 times as much.
// Numbers are upper case, so upper-casing q keeps the search case-insensitive.
func numberSearch(w *where, q string) string {
	q = strings.ToUpper(q)
	alts := []string{"order_number LIKE " + w.arg(escapeLike(q)+"%")}
	if !strings.HasPrefix("EP-", q) && !strings.HasPrefix(q, "EP-") {
		alts = append(alts, "order_number LIKE "+w.arg(escapeLike("EP-"+q)+"%"))
	}
	if seq := strings.TrimPrefix(q, "-"); seq != "" && !strings.Contains(seq, "-") {
		alts = append(alts, "split_part(order_number, '-', 3) LIKE "+w.arg(escapeLike(seq)+"%"))
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

func (f *Function) orderDevices(ctx context.Context, orderID int64) ([]OrderDevice, error) {
	rows, err := f.db.Query(ctx, `SELECT od.device_id, d.hostname, d.ip, d.idc, d.zone, d.status, d.cluster_id, d.pool_id,
			d.cpu_cores, d.memory_bytes, od.role, od.status, od.error, od.active, od.updated_at
		FROM order_devices od JOIN devices d ON d.id = od.device_id
		WHERE od.order_id = $1 ORDER BY od.id`, orderID)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrderDevice, error) {
		var d OrderDevice
		err := r.Scan(&d.DeviceID, &d.Hostname, &d.IP, &d.IDC, &d.Zone, &d.DeviceStatus, &d.ClusterID, &d.PoolID,
			&d.CPUCores, &d.MemoryBytes, &d.Role, &d.Status, &d.Error, &d.Active, &d.UpdatedAt)
		return d, err
	})
	if err != nil {
		return nil, postgres.Translate(err)
	}
	if len(items) == 0 {
		if _, err := postgres.GetOrder(ctx, f.db, orderID); err != nil {
			return nil, err
		}
	}
	return items, nil
}

func (f *Function) listAudit(ctx context.Context, w *where, p ListParams) (List[AuditEntry], error) {
	sort, err := httpapi.ParseSort(p.Sort, "-at", auditSorts)
	if err != nil {
		return List[AuditEntry]{}, err
	}
	cur, err := httpapi.DecodeCursor(p.Cursor, sort.String())
	if err != nil {
		return List[AuditEntry]{}, err
	}
	items, next, err := listPage(ctx, customPlans{f.db}, "SELECT "+auditColumns+" FROM audit_log", w, sort, cur, p.Limit, scanAudit, auditCursor(sort))
	if err != nil {
		return List[AuditEntry]{}, httpapi.StoreError(err, "audit log")
	}
	return List[AuditEntry]{Items: items, NextCursor: next}, nil
}

// workbenchSummary counts in one round trip. Open-status counts use the
// (status, created_at) index; triggered pools look at the last 7 days of
// history only (evaluation is daily, so an older "latest" is stale);
// shortages count distinct inventory.shortage events that notify logged.
func (f *Function) workbenchSummary(ctx context.Context) (WorkbenchSummary, error) {
	s := WorkbenchSummary{GeneratedAt: f.now()}
	err := f.db.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM elastic_scaling_orders WHERE status = 'pending'),
			(SELECT count(*) FROM elastic_scaling_orders WHERE status = 'processing'),
			(SELECT count(*) FROM elastic_scaling_orders WHERE status = 'failed'),
			(SELECT count(*) FROM elastic_scaling_orders WHERE status = 'maintenance_in_progress'),
			(SELECT count(DISTINCT (cluster_id, pool_id)) FROM (
				SELECT DISTINCT ON (strategy_id, cluster_id, pool_id) cluster_id, pool_id, result
				FROM strategy_execution_history WHERE evaluated_at >= $1
				ORDER BY strategy_id, cluster_id, pool_id, evaluated_at DESC) latest
			 WHERE result = 'triggered'),
			(SELECT count(DISTINCT event_id) FROM notification_log WHERE event_type = $2 AND created_at >= $1)`,
		s.GeneratedAt.Add(-7*24*time.Hour), events.TypeInventoryShortage).
		Scan(&s.PendingOrders, &s.ProcessingOrders, &s.FailedOrders, &s.MaintenanceInProgress, &s.TriggeredPools, &s.ShortagesLast7Days)
	return s, postgres.Translate(err)
}

// customPlans plans every query with its actual parameters. pgx's default
// caches a named prepared statement, and after five executions Postgres may
// switch it to a generic plan that cannot see the values: for a list that
// picks the time index and filters a rare status (or an ILIKE pattern) over
// a million rows. The unnamed statement of QueryExecModeCacheDescribe is
// planned per call (~0.1 ms) and still one round trip.
type customPlans struct{ postgres.Querier }

func (c customPlans) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.Querier.Query(ctx, sql, append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
}

// orderError maps the order store's errors to problems.
func orderError(err error, what string) error {
	var inv *postgres.InvalidOrderError
	var held *postgres.DevicesHeldError
	var refused *postgres.TransitionRefusedError
	switch {
	case errors.As(err, &inv):
		fes := make([]*httpapi.FieldError, len(inv.Problems))
		for i, p := range inv.Problems {
			fes[i] = &httpapi.FieldError{Location: "body." + p.Field, Message: p.Message, Value: p.Value}
		}
		return httpapi.Invalid("bad order", fes...)
	case errors.As(err, &held):
		errs := make([]error, len(held.Devices))
		for i, d := range held.Devices {
			errs[i] = &httpapi.FieldError{Location: fmt.Sprintf("body.deviceIds[%d]", d.Index),
				Message: fmt.Sprintf("%s is held by open order %s (id %d)", d.Hostname, d.OrderNumber, d.OrderID), Value: d.DeviceID}
		}
		return huma.Error409Conflict("devices are held by other open orders: "+held.Error(), errs...)
	case errors.As(err, &refused):
		allowed := "none (final status)"
		if len(refused.Allowed) > 0 {
			allowed = strings.Join(refused.Allowed, ", ")
		}
		return huma.Error409Conflict(refused.Error(), &httpapi.FieldError{Location: "body.status",
			Message: "allowed target statuses: " + allowed, Value: refused.To})
	case errors.Is(err, postgres.ErrReasonRequired):
		return httpapi.Invalid("a reason is required", &httpapi.FieldError{Location: "body.reason", Message: "is required to fail an order"})
	case errors.Is(err, orderflow.ErrUnknown):
		return huma.Error422UnprocessableEntity(err.Error())
	}
	return httpapi.StoreError(err, what)
}

// emit sends an event after the caller's commit. The write already happened,
// so a failed emit is logged, not turned into an error response.
func (f *Function) emitOrderEvent(ctx context.Context, ev events.Outgoing) {
	if f.emitter == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := f.emitter.Emit(ctx, ev); err != nil {
		slog.WarnContext(ctx, "emit failed after commit", "type", ev.Type, "id", ev.ID, "err", err)
	}
}
