package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/devicequery/pgquery"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// Match statuses.
const (
	MatchCreated     = "created"      // a new order
	MatchExisting    = "existing"     // the order of this idempotency key already existed
	MatchShortage    = "shortage"     // no candidate: inventory.shortage only, no order
	MatchNothing     = "nothing"      // nothing to add or remove (see the reason)
	MatchNoTemplate  = "no_template"  // neither the strategy nor a matching policy names a template
	MatchBadTemplate = "bad_template" // the template (or nodeSelector) no longer compiles
	MatchSkipped     = "skipped"      // the history row is not triggered (any more)
	MatchWouldCreate = "would_create" // dry run: an order would be created
)

// OrderCreatedBy is the actor of orders the pipeline creates.
const OrderCreatedBy = "system"

// Matcher turns a breach into an order (DESIGN §6).
type Matcher struct {
	DB *pgxpool.Pool
	// Location is TIMEZONE: it dates the order number.
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxCandidates bounds the devices read per match (default 5000): random
	// and exit selection rank them all; entry by size orders them in SQL first.
	MaxCandidates int
}

// TemplateRef names the query template a match used.
type TemplateRef struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Source string `json:"source"` // strategy | policy
	Policy string `json:"policy,omitempty"`
}

// DeviceRef is a chosen device.
type DeviceRef struct {
	ID          int64  `json:"id"`
	Hostname    string `json:"hostname"`
	CPUCores    int    `json:"cpuCores"`
	MemoryBytes int64  `json:"memoryBytes"`
}

// Outcome is what one match decided.
type Outcome struct {
	Status         string        `json:"status"`
	HistoryID      int64         `json:"historyId,omitempty"`
	IdempotencyKey string        `json:"idempotencyKey"`
	Template       *TemplateRef  `json:"template,omitempty"`
	Plan           *scaling.Plan `json:"plan,omitempty"`
	OrderID        *int64        `json:"orderId,omitempty"`
	OrderNumber    string        `json:"orderNumber,omitempty"`
	Devices        []DeviceRef   `json:"devices"`
	Shortage       bool          `json:"shortage"`
	Needed         int           `json:"needed"`
	Found          int           `json:"found"`
	Reason         string        `json:"reason"`
	// Events are to be emitted after Match returned (none for a preview).
	Events []events.Outgoing `json:"-"`
}

func (m *Matcher) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Matcher) loc() *time.Location {
	if m.Location != nil {
		return m.Location
	}
	return time.UTC
}

// historyRow is what Match reads of the breach's history row.
type historyRow struct {
	StrategyID, ClusterID, PoolID int64
	At                            time.Time
	Result                        string
	OrderID                       *int64
	Observed                      Observed
}

func readHistoryRow(ctx context.Context, q postgres.Querier, id int64, forUpdate bool) (historyRow, error) {
	var h historyRow
	var observed []byte
	sql := `SELECT strategy_id, cluster_id, pool_id, evaluated_at, result, order_id, observed
		FROM strategy_execution_history WHERE id = $1`
	if forUpdate {
		sql += " FOR UPDATE"
	}
	err := q.QueryRow(ctx, sql, id).Scan(&h.StrategyID, &h.ClusterID, &h.PoolID, &h.At, &h.Result, &h.OrderID, &observed)
	if err != nil {
		return h, fmt.Errorf("history %d: %w", id, postgres.Translate(err))
	}
	if err := json.Unmarshal(observed, &h.Observed); err != nil {
		return h, fmt.Errorf("history %d: observed: %w", id, err)
	}
	return h, nil
}

// Match handles one pool.threshold.breached: it plans the devices and
// creates the order, its order_devices and the history link in one
// transaction guarded by the unique idempotency key. Every redelivery ends
// in the same order (MatchExisting) and the same events. Errors wrapping
// postgres.ErrNotFound or ErrBadBreach are permanent.
func (m *Matcher) Match(ctx context.Context, b events.PoolThresholdBreached) (Outcome, error) {
	if b.HistoryID <= 0 || b.StrategyID <= 0 || b.ClusterID <= 0 || b.PoolID <= 0 {
		return Outcome{}, fmt.Errorf("%w: historyId, strategyId, clusterId and poolId are required", ErrBadBreach)
	}
	var out Outcome
	var err error
	// A device taken by a concurrent order between planning and insert is
	// refused by the one-open-order index; plan again without it.
	for attempt := 1; ; attempt++ {
		out, err = m.matchOnce(ctx, b)
		if !errors.Is(err, errDevicesTaken) || attempt == 3 {
			break
		}
	}
	return out, err
}

var errDevicesTaken = errors.New("a chosen device was taken by another open order")

func (m *Matcher) matchOnce(ctx context.Context, b events.PoolThresholdBreached) (Outcome, error) {
	var out Outcome
	err := postgres.InTx(ctx, m.DB, func(tx pgx.Tx) error {
		out = Outcome{HistoryID: b.HistoryID, Devices: []DeviceRef{}}
		h, err := readHistoryRow(ctx, tx, b.HistoryID, true)
		if err != nil {
			return err
		}
		if h.StrategyID != b.StrategyID || h.ClusterID != b.ClusterID || h.PoolID != b.PoolID {
			return fmt.Errorf("%w: history %d is strategy %d cluster %d pool %d", ErrBadBreach, b.HistoryID, h.StrategyID, h.ClusterID, h.PoolID)
		}
		out.IdempotencyKey = h.Observed.IdempotencyKey
		if h.Result != string(scaling.ResultTriggered) {
			out.Status, out.Reason = MatchSkipped, "history row is "+h.Result+", not triggered"
			return nil
		}
		if h.OrderID != nil {
			return m.existing(ctx, tx, &out, *h.OrderID, h)
		}
		s, err := LoadStrategy(ctx, tx, h.StrategyID)
		if err != nil {
			return err
		}
		t, err := loadTarget(ctx, tx, h.ClusterID, h.PoolID)
		if err != nil {
			return err
		}
		key := scaling.IdempotencyKey(s.ID, t.ClusterID, t.PoolID, h.At, m.loc())
		out.IdempotencyKey = key
		// An order of this key may exist from another history row of the
		// same day (a run-now after the tick): link it.
		var existingID int64
		switch err := tx.QueryRow(ctx, "SELECT id FROM elastic_scaling_orders WHERE idempotency_key = $1", key).Scan(&existingID); {
		case err == nil:
			return m.existing(ctx, tx, &out, existingID, h)
		case !errors.Is(err, pgx.ErrNoRows):
			return postgres.Translate(err)
		}

		if err := m.plan(ctx, tx, &out, s, t, h.At, h.Observed.Counted); err != nil {
			return err
		}
		if out.Plan == nil || len(out.Plan.Devices) == 0 {
			m.finishWithoutOrder(&out, s, t, key)
			return linkHistory(ctx, tx, b.HistoryID, nil, &out, h.Observed)
		}
		return m.createOrder(ctx, tx, &out, s, t, h, key)
	})
	return out, err
}

// existing is the "already done" path: the order of the key exists; link it
// and re-emit what its creation emitted (same ids, consumers dedupe).
func (m *Matcher) existing(ctx context.Context, tx pgx.Tx, out *Outcome, orderID int64, h historyRow) error {
	o, err := postgres.GetOrder(ctx, tx, orderID)
	if err != nil {
		return err
	}
	out.Status, out.OrderID, out.OrderNumber = MatchExisting, &o.ID, o.OrderNumber
	devs, err := orderDevices(ctx, tx, o.ID)
	if err != nil {
		return err
	}
	out.Devices = devs
	out.Reason = fmt.Sprintf("order %s (%s) already exists for %s", o.OrderNumber, o.Status, out.IdempotencyKey)
	prior := h.Observed.Match
	if prior == nil || prior.OrderID == nil || *prior.OrderID != o.ID {
		// This row is not the one that created the order: record the link.
		if err := linkHistory(ctx, tx, out.HistoryID, &o.ID, out, h.Observed); err != nil {
			return err
		}
	} else {
		out.Shortage, out.Needed, out.Found = prior.Shortage, prior.Needed, prior.Found
	}
	out.Events = append(out.Events, orderCreatedEvent(o))
	if out.Shortage {
		out.Events = append(out.Events, shortageEvent(out, o.StrategyID, o.ClusterID, o.PoolID, o.ActionType, &o.ID))
	}
	return nil
}

// plan resolves the template, queries the candidates and sizes the plan.
// It writes nothing; out.Status is set when no plan could be made.
func (m *Matcher) plan(ctx context.Context, q postgres.Querier, out *Outcome, s Strategy, t Target, at time.Time, counted []scaling.Resource) error {
	raw, ref, err := resolveTemplate(ctx, q, s, t)
	if err != nil {
		return err
	}
	out.Template = ref
	if ref == nil {
		out.Status = MatchNoTemplate
		out.Reason = fmt.Sprintf("no query template: set the strategy's %s or enable a matching policy for pool type %q and %s",
			templateField(s.ThresholdTriggerAction), t.PoolType, s.ThresholdTriggerAction)
		return nil
	}
	tmpl, err := devicequery.Parse(raw)
	if err != nil {
		out.Status, out.Reason = MatchBadTemplate, fmt.Sprintf("template %q (id %d) does not parse: %v", ref.Name, ref.ID, err)
		return nil
	}
	extra, err := additionCond(s, t)
	if err != nil {
		out.Status, out.Reason = MatchBadTemplate, "nodeSelector: "+err.Error()
		return nil
	}
	p, err := pgquery.Compile(tmpl, extra)
	if err != nil {
		out.Status, out.Reason = MatchBadTemplate, fmt.Sprintf("template %q (id %d) does not compile: %v", ref.Name, ref.ID, err)
		return nil
	}
	orderBy := "ORDER BY d.id"
	if s.ThresholdTriggerAction == scaling.ActionPoolEntry {
		switch s.Policy() {
		case scaling.SelectLargestFirst:
			orderBy = "ORDER BY d.cpu_cores DESC, d.memory_bytes DESC, d.id"
		case scaling.SelectSmallestFirst:
			orderBy = "ORDER BY d.cpu_cores, d.memory_bytes, d.id"
		}
	}
	limit := m.MaxCandidates
	if limit <= 0 {
		limit = 5000
	}
	cands, err := pgquery.Candidates(ctx, q, p.And(pgquery.NotHeld), orderBy, limit)
	if err != nil {
		return fmt.Errorf("candidates: %w", err)
	}
	snap, err := latestSnapshot(ctx, q, t.PoolID, at)
	if err != nil {
		return err
	}
	pool := scaling.Pool{Snapshot: snap, MinNodes: &t.MinNodes, MaxNodes: t.MaxNodes}
	key := scaling.IdempotencyKey(s.ID, t.ClusterID, t.PoolID, at, m.loc())
	plan, err := scaling.PlanDevices(scaling.PlanInput{Strategy: s.Strategy, Pool: pool, Counted: counted, Candidates: cands, Seed: key})
	if err != nil {
		out.Status, out.Reason = MatchBadTemplate, "cannot size the order: "+err.Error()
		return nil
	}
	out.Plan = &plan
	out.Shortage, out.Needed, out.Found = plan.Shortage, plan.Needed, plan.Found
	for _, c := range plan.Devices {
		out.Devices = append(out.Devices, DeviceRef{ID: c.ID, Hostname: c.Hostname, CPUCores: c.CPUCores, MemoryBytes: c.MemoryBytes})
	}
	out.Reason = plan.Reason
	return nil
}

func templateField(a scaling.Action) string {
	if a == scaling.ActionPoolExit {
		return "exitQueryTemplateId"
	}
	return "entryQueryTemplateId"
}

// resolveTemplate: the strategy's own template wins, else the enabled
// matching policy for (pool type, action); neither → nil ref. The template
// JSON is returned raw: a stored template that no longer parses is the
// caller's "bad template", not an I/O error.
func resolveTemplate(ctx context.Context, q postgres.Querier, s Strategy, t Target) ([]byte, *TemplateRef, error) {
	id := s.EntryTemplateID
	if s.ThresholdTriggerAction == scaling.ActionPoolExit {
		id = s.ExitTemplateID
	}
	var (
		raw []byte
		ref TemplateRef
		err error
	)
	if id != nil {
		ref.Source = "strategy"
		err = q.QueryRow(ctx, "SELECT id, name, groups FROM query_templates WHERE id = $1", *id).Scan(&ref.ID, &ref.Name, &raw)
	} else {
		ref.Source = "policy"
		err = q.QueryRow(ctx, `SELECT qt.id, qt.name, qt.groups, m.name FROM resource_pool_device_matching_policies m
			JOIN query_templates qt ON qt.id = m.query_template_id
			WHERE m.resource_pool_type = $1 AND m.action_type = $2 AND m.status = 'enabled'`,
			t.PoolType, string(s.ThresholdTriggerAction)).Scan(&ref.ID, &ref.Name, &raw, &ref.Policy)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("query template: %w", postgres.Translate(err))
	}
	return raw, &ref, nil
}

// additionCond is DESIGN §6's additionCond. Entry: idle, the cluster's idc
// (and zone) when the cluster has one — as manual orders require — and the
// strategy's nodeSelector as nodeLabel blocks. Exit: in_pool in this very
// cluster+pool.
func additionCond(s Strategy, t Target) (devicequery.Template, error) {
	var blocks []devicequery.Block
	if s.ThresholdTriggerAction == scaling.ActionPoolExit {
		blocks = append(blocks,
			devicequery.Block{Type: devicequery.TypeDevice, Key: "status", Op: devicequery.OpEq, Value: "in_pool"},
			devicequery.Block{Type: devicequery.TypeDevice, Key: "clusterId", Op: devicequery.OpEq, Value: strconv.FormatInt(t.ClusterID, 10)},
			devicequery.Block{Type: devicequery.TypeDevice, Key: "poolId", Op: devicequery.OpEq, Value: strconv.FormatInt(t.PoolID, 10)})
		return devicequery.AllOf(blocks...), nil
	}
	blocks = append(blocks, devicequery.Block{Type: devicequery.TypeDevice, Key: "status", Op: devicequery.OpEq, Value: "idle"})
	if t.IDC != "" {
		blocks = append(blocks, devicequery.Block{Type: devicequery.TypeDevice, Key: "idc", Op: devicequery.OpEq, Value: t.IDC})
	}
	if t.Zone != "" {
		blocks = append(blocks, devicequery.Block{Type: devicequery.TypeDevice, Key: "zone", Op: devicequery.OpEq, Value: t.Zone})
	}
	sel, err := devicequery.SelectorBlocks(s.NodeSelector)
	if err != nil {
		return devicequery.Template{}, err
	}
	return devicequery.AllOf(append(blocks, sel...)...), nil
}

// latestSnapshot is the pool's newest daily snapshot as of T ("how many"
// reads the latest snapshot; as of T so a redelivery sizes the same way).
func latestSnapshot(ctx context.Context, q postgres.Querier, poolID int64, at time.Time) (scaling.Snapshot, error) {
	var s scaling.Snapshot
	err := q.QueryRow(ctx, `SELECT captured_at, cpu_capacity, cpu_allocated, cpu_usage, mem_capacity, mem_allocated, mem_usage, node_count
		FROM pool_daily_snapshots WHERE pool_id = $1 AND captured_at <= $2 ORDER BY day DESC LIMIT 1`, poolID, at).Scan(
		&s.CapturedAt, &s.CPUCapacity, &s.CPUAllocated, &s.CPUUsage, &s.MemCapacity, &s.MemAllocated, &s.MemUsage, &s.NodeCount)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("latest snapshot of pool %d: %w", poolID, postgres.Translate(err))
	}
	return s, nil
}

func (m *Matcher) finishWithoutOrder(out *Outcome, s Strategy, t Target, key string) {
	if out.Status != "" { // no_template, bad_template
		return
	}
	if out.Shortage {
		out.Status = MatchShortage
		out.Events = append(out.Events, shortageEvent(out, &s.ID, &t.ClusterID, &t.PoolID, string(s.ThresholdTriggerAction), nil))
		return
	}
	out.Status = MatchNothing
}

// createOrder inserts the order through the shared order store (its numbers,
// device checks and audit) in a savepoint: a unique violation of the
// idempotency key there means a concurrent match won — take its order.
func (m *Matcher) createOrder(ctx context.Context, tx pgx.Tx, out *Outcome, s Strategy, t Target, h historyRow, key string) error {
	ids := make([]int64, len(out.Plan.Devices))
	for i, c := range out.Plan.Devices {
		ids[i] = c.ID
	}
	reason := fmt.Sprintf("strategy %q: %s; %s", s.Name, h.Observed.EvaluationReason, out.Plan.Reason)
	sp, err := tx.Begin(ctx)
	if err != nil {
		return postgres.Translate(err)
	}
	o, err := postgres.CreateOrder(ctx, sp, postgres.NewOrder{
		ActionType: string(s.ThresholdTriggerAction), ClusterID: &t.ClusterID, PoolID: &t.PoolID, StrategyID: &s.ID,
		DeviceIDs: ids, Reason: reason, CreatedBy: OrderCreatedBy, IdempotencyKey: &key, EvaluationID: &out.HistoryID,
		StrategyTriggeredValue: triggeredValue(h.Observed), StrategyThresholdValue: thresholdValue(s),
		Now: m.now().In(m.loc()),
	})
	if err != nil {
		_ = sp.Rollback(ctx)
		var ce *postgres.ConstraintError
		var held *postgres.DevicesHeldError
		switch {
		case errors.As(err, &held), errors.As(err, &ce) && ce.Constraint == "order_devices_one_open_order":
			return errDevicesTaken
		case errors.As(err, &ce) && errors.Is(ce.Kind, postgres.ErrConflict) && strings.Contains(ce.Constraint, "idempotency_key"):
			var id int64
			if err := tx.QueryRow(ctx, "SELECT id FROM elastic_scaling_orders WHERE idempotency_key = $1", key).Scan(&id); err != nil {
				return postgres.Translate(err)
			}
			out.Plan, out.Devices, out.Shortage = nil, nil, false
			return m.existing(ctx, tx, out, id, h)
		}
		return fmt.Errorf("create order: %w", err)
	}
	if err := sp.Commit(ctx); err != nil {
		return postgres.Translate(err)
	}
	out.Status, out.OrderID, out.OrderNumber = MatchCreated, &o.ID, o.OrderNumber
	out.Reason = fmt.Sprintf("order %s: %s", o.OrderNumber, out.Plan.Reason)
	if err := linkHistory(ctx, tx, out.HistoryID, &o.ID, out, h.Observed); err != nil {
		return err
	}
	out.Events = append(out.Events, orderCreatedEvent(o))
	if out.Shortage {
		out.Events = append(out.Events, shortageEvent(out, &s.ID, &t.ClusterID, &t.PoolID, string(s.ThresholdTriggerAction), &o.ID))
	}
	return nil
}

// linkHistory records the match on its history row: order_id, the match
// summary in observed and reason = evaluation reason → match outcome
// (recomputed from the stored evaluation reason, so a redelivery does not
// append twice). Configuration problems also go to the error column.
func linkHistory(ctx context.Context, tx pgx.Tx, historyID int64, orderID *int64, out *Outcome, obs Observed) error {
	sum := MatchSummary{Status: out.Status, OrderID: orderID, OrderNumber: out.OrderNumber, Template: out.Template,
		Needed: out.Needed, Found: out.Found, Chosen: len(out.Devices), Shortage: out.Shortage, Reason: out.Reason}
	b, err := json.Marshal(sum)
	if err != nil {
		return err
	}
	reason := obs.EvaluationReason + " → " + matchSentence(out)
	var errText string
	switch out.Status {
	case MatchNoTemplate, MatchBadTemplate:
		errText = out.Reason
	}
	_, err = tx.Exec(ctx, `UPDATE strategy_execution_history
		SET order_id = coalesce($2, order_id), observed = jsonb_set(observed, '{match}', $3::jsonb), reason = $4,
			error = CASE WHEN $5 = '' THEN error ELSE $5 END, updated_at = now()
		WHERE id = $1`, historyID, orderID, string(b), reason, errText)
	if err != nil {
		return fmt.Errorf("link history %d: %w", historyID, postgres.Translate(err))
	}
	return nil
}

func matchSentence(out *Outcome) string {
	switch out.Status {
	case MatchCreated:
		s := out.Reason
		if out.Shortage {
			s += fmt.Sprintf(" (short of devices: needed %d, found %d)", out.Needed, out.Found)
		}
		return s
	case MatchExisting:
		return out.Reason
	case MatchShortage:
		return fmt.Sprintf("no order: no matching device available (needed %d, found %d); inventory shortage reported", out.Needed, out.Found)
	case MatchNothing:
		return "no order: " + out.Reason
	}
	return "no order: " + out.Reason
}

func triggeredValue(o Observed) string {
	var parts []string
	for _, r := range []string{"cpu", "memory"} {
		if rd, ok := o.Resources[r]; ok {
			parts = append(parts, fmt.Sprintf("%s %s %.1f%%", r, rd.Type, rd.Rate))
		}
	}
	return strings.Join(parts, ", ")
}

func thresholdValue(s Strategy) string {
	cmp := ">"
	if s.ThresholdTriggerAction == scaling.ActionPoolExit {
		cmp = "<"
	}
	var parts []string
	for _, r := range s.Rules() {
		parts = append(parts, fmt.Sprintf("%s %s %s %s%% (target %s%%)", r.Resource, r.Type, cmp,
			strconv.FormatFloat(r.Threshold, 'f', -1, 64), strconv.FormatFloat(r.Target, 'f', -1, 64)))
	}
	sep := " and "
	if s.Logic() == scaling.LogicOR {
		sep = " or "
	}
	return strings.Join(parts, sep)
}

func orderDevices(ctx context.Context, q postgres.Querier, orderID int64) ([]DeviceRef, error) {
	rows, err := q.Query(ctx, `SELECT d.id, d.hostname, d.cpu_cores, d.memory_bytes FROM order_devices od
		JOIN devices d ON d.id = od.device_id WHERE od.order_id = $1 ORDER BY od.id`, orderID)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	devs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeviceRef, error) {
		var d DeviceRef
		return d, r.Scan(&d.ID, &d.Hostname, &d.CPUCores, &d.MemoryBytes)
	})
	if devs == nil {
		devs = []DeviceRef{}
	}
	return devs, postgres.Translate(err)
}

func orderCreatedEvent(o postgres.Order) events.Outgoing {
	return events.Outgoing{
		ID: fmt.Sprintf("order.created:%d", o.ID), Type: events.TypeOrderCreated, Source: events.SourceMatch,
		Subject: fmt.Sprintf("order/%d", o.ID),
		Data: events.OrderCreated{OrderID: o.ID, OrderNumber: o.OrderNumber, Action: o.ActionType, ClusterID: o.ClusterID,
			PoolID: o.PoolID, DeviceCount: o.DeviceCount, StrategyID: o.StrategyID, CreatedBy: o.CreatedBy},
	}
}

func shortageEvent(out *Outcome, strategyID, clusterID, poolID *int64, action string, orderID *int64) events.Outgoing {
	d := events.InventoryShortage{Action: action, Needed: out.Needed, Found: out.Found, OrderID: orderID,
		Reason: out.Reason}
	if strategyID != nil {
		d.StrategyID = *strategyID
	}
	if clusterID != nil {
		d.ClusterID = *clusterID
	}
	if poolID != nil {
		d.PoolID = *poolID
	}
	return events.Outgoing{
		ID: "inventory.shortage:" + out.IdempotencyKey, Type: events.TypeInventoryShortage, Source: events.SourceMatch,
		Subject: fmt.Sprintf("pool/%d", d.PoolID), Data: d,
	}
}

// Preview is a dry run of matching for one triggered decision: the same
// template, query and plan as Match, nothing written, no event.
func (m *Matcher) Preview(ctx context.Context, strategyID int64, d Decision, at time.Time) (Outcome, error) {
	out := Outcome{Devices: []DeviceRef{}}
	s, err := LoadStrategy(ctx, m.DB, strategyID)
	if err != nil {
		return out, err
	}
	t, err := loadTarget(ctx, m.DB, d.ClusterID, d.PoolID)
	if err != nil {
		return out, err
	}
	key := scaling.IdempotencyKey(s.ID, t.ClusterID, t.PoolID, at, m.loc())
	out.IdempotencyKey = key
	var o postgres.Order
	err = m.DB.QueryRow(ctx, "SELECT "+postgres.OrderColumns+" FROM elastic_scaling_orders o WHERE o.idempotency_key = $1", key).Scan(postgres.OrderScanTargets(&o)...)
	switch {
	case err == nil:
		out.Status, out.OrderID, out.OrderNumber = MatchExisting, &o.ID, o.OrderNumber
		out.Reason = fmt.Sprintf("order %s (%s) already exists for %s", o.OrderNumber, o.Status, key)
		out.Devices, err = orderDevices(ctx, m.DB, o.ID)
		return out, err
	case !errors.Is(err, pgx.ErrNoRows):
		return out, postgres.Translate(err)
	}
	if err := m.plan(ctx, m.DB, &out, s, t, at, d.Observed.Counted); err != nil {
		return out, err
	}
	switch {
	case out.Status != "":
	case len(out.Devices) > 0:
		out.Status = MatchWouldCreate
	case out.Shortage:
		out.Status = MatchShortage
	default:
		out.Status = MatchNothing
	}
	return out, nil
}
