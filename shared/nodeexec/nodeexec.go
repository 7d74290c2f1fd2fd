// Package nodeexec runs an order's node operations in its cluster (issue 9,
// docs/clusters.md "Executing orders"): pool_entry labels, untaints and
// uncordons each device's node, pool_exit cordons, drains and unlabels it,
// maintenance cordons and drains it, uncordon uncordons it. Each device's
// progress is recorded on its order_devices row; a device already done is
// not touched again, so re-executing continues where a failure stopped. At
// the end one transaction fails the order with the reasons or completes it.
// Preview runs the same operations with server-side dry run and writes
// nothing. No HTTP: functions/nodeops and the API call it.
package nodeexec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gocloud.dev/secrets"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Actor is the executor recorded on the transitions and audit rows the
// executor writes.
const Actor = "system"

// Deps are what the executor needs.
type Deps struct {
	DB *pgxpool.Pool
	// Keeper decrypts clusters.credentials (SECRETS_KEEPER_URL).
	Keeper *secrets.Keeper
	// Locks take the per-order lock; nil runs without one (the database
	// rows stay consistent, two runs would only repeat each other's checks).
	Locks *lock.Client
	// Emitter announces the order's transition (order.status.changed) after
	// commit; nil sends nothing.
	Emitter events.Emitter
	// Options: NODE_NOT_READY_TAINT, NODE_DRAIN_TIMEOUT (DryRun is ignored).
	Options kube.OpOptions
	// Parallel is how many devices are operated at once (NODE_OPS_PARALLEL, default 4).
	Parallel int
}

// Executor runs and previews orders' node operations.
type Executor struct {
	d Deps
}

// New builds an executor.
func New(d Deps) *Executor {
	if d.Parallel <= 0 {
		d.Parallel = DefaultParallel
	}
	if d.Options.NotReadyTaint == "" {
		d.Options.NotReadyTaint = kube.DefaultNotReadyTaint
	}
	if d.Options.DrainTimeout <= 0 {
		d.Options.DrainTimeout = DefaultDrainTimeout
	}
	d.Options.DryRun = false
	return &Executor{d: d}
}

// Execute runs the node operations of order id, records each device's
// progress and moves the order (see Decide). Per-device failures are in the
// result, not the error; the error is for an order that cannot run
// (postgres.ErrNotFound, nodeplan.ErrNotExecutable, nodeplan.ErrBusy), the
// database, or an interrupted run (ctx ended: the order is left open).
func (x *Executor) Execute(ctx context.Context, id int64) (nodeplan.NodeOperations, error) {
	n, err := x.countDevices(ctx, id)
	if err != nil {
		return nodeplan.NodeOperations{}, err
	}
	ttl := x.lockTTL(n)
	unlock, err := x.lock(ctx, id, ttl)
	if err != nil {
		return nodeplan.NodeOperations{}, err
	}
	defer unlock()
	// Stop before the lock can expire under a run that is still going.
	ctx, cancel := context.WithTimeout(ctx, ttl-time.Minute)
	defer cancel()
	for {
		res, err := x.run(ctx, id, false)
		// A person moved the order out and back into its executable status
		// (fail, retry) during the run: the retry's own event found this run
		// holding the lock and was dropped as busy, so this run does it.
		if !errors.Is(err, errRequeued) {
			return res, err
		}
	}
}

// errRequeued: the order was moved while its nodes were operated and is
// executable again (a newer version), so the run must start over.
var errRequeued = errors.New("order re-queued during the run")

// Preview computes order id's operations with server-side dry run: the API
// server validates every write and evaluates PodDisruptionBudgets without
// persisting anything, and nothing is written to the database. Any open
// order can be previewed.
func (x *Executor) Preview(ctx context.Context, id int64) (nodeplan.NodeOperations, error) {
	return x.run(ctx, id, true)
}

// lockTTL: see Limits.LockTTL.
func (x *Executor) lockTTL(devices int) time.Duration {
	return Limits{DrainTimeout: x.d.Options.DrainTimeout, Parallel: x.d.Parallel}.LockTTL(devices)
}

// lock takes nodeops:order:{id}. Redis being down does not stop the run: the
// lock is advisory (operations are idempotent and rows are per device).
func (x *Executor) lock(ctx context.Context, id int64, ttl time.Duration) (func(), error) {
	if x.d.Locks == nil {
		return func() {}, nil
	}
	l, err := x.d.Locks.Obtain(ctx, LockKey(id), ttl)
	switch {
	case errors.Is(err, lock.ErrNotObtained):
		return nil, fmt.Errorf("order %d: %w", id, nodeplan.ErrBusy)
	case err != nil:
		slog.WarnContext(ctx, "nodeexec: running without the order lock", "order", id, "err", err)
		return func() {}, nil
	}
	return func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := l.Release(rctx); err != nil {
			slog.WarnContext(ctx, "nodeexec: release the order lock", "order", id, "err", err)
		}
	}, nil
}

func (x *Executor) countDevices(ctx context.Context, id int64) (int, error) {
	var n int
	err := x.d.DB.QueryRow(ctx, "SELECT count(*) FROM order_devices WHERE order_id = $1 AND active", id).Scan(&n)
	return n, postgres.Translate(err)
}

// executable says whether order o's operations may run now.
func executable(o postgres.Order, dry bool) error {
	status := orderflow.Status(o.Status)
	want := orderflow.StatusProcessing
	if orderflow.ActionType(o.ActionType) == orderflow.TypeMaintenance {
		want = orderflow.StatusMaintenanceInProgress
	}
	switch {
	case dry && orderflow.IsOpen(status):
		return nil
	case dry:
		return fmt.Errorf("%w: order %s is %s, a closed order has nothing to preview", nodeplan.ErrNotExecutable, o.OrderNumber, o.Status)
	case status != want:
		return fmt.Errorf("%w: order %s is %s; its node operations run in %s", nodeplan.ErrNotExecutable, o.OrderNumber, o.Status, want)
	}
	return nil
}

// operation names what is done to a device's node per order type.
func operation(actionType string) string {
	switch orderflow.ActionType(actionType) {
	case orderflow.TypeMaintenance:
		return "maintain"
	default:
		return actionType // pool_entry, pool_exit, uncordon
	}
}

// device is one held order_devices row with its device.
type device struct {
	id        int64
	hostname  string
	node      string
	clusterID *int64
	status    string
	err       string
}

// target is one cluster the devices are in.
type target struct {
	name    string
	client  *kube.Cluster
	manual  bool
	problem string // the client could not be built
}

func (x *Executor) run(ctx context.Context, id int64, dry bool) (nodeplan.NodeOperations, error) {
	o, err := postgres.GetOrder(ctx, x.d.DB, id)
	if err != nil {
		return nodeplan.NodeOperations{}, fmt.Errorf("order %d: %w", id, err)
	}
	res := nodeplan.NodeOperations{OrderID: o.ID, OrderNumber: o.OrderNumber, ActionType: o.ActionType, OrderStatus: o.Status,
		DryRun: dry, Notes: []string{}, Devices: []nodeplan.DeviceOperations{}}
	if err := executable(o, dry); err != nil {
		return res, err
	}
	devs, err := x.loadDevices(ctx, id)
	if err != nil {
		return res, err
	}
	// An order-wide problem fails every device with it, so the order fails
	// with a reason a person can act on.
	var poolLabels map[string]string
	problem := ""
	if t := orderflow.ActionType(o.ActionType); t == orderflow.TypePoolEntry || t == orderflow.TypePoolExit {
		if o.PoolID == nil {
			problem = "the order has no pool, so there are no pool labels to apply or remove"
		} else if poolLabels, err = x.poolLabels(ctx, *o.PoolID); err != nil {
			if !errors.Is(err, errPoolLabels) {
				return res, err
			}
			problem = err.Error()
		}
	}
	targets, err := x.targets(ctx, devs)
	if err != nil {
		return res, err
	}
	manual := len(devs) > 0
	for _, d := range devs {
		if t := targets[derefID(d.clusterID)]; t == nil || !t.manual {
			manual = false
		}
	}
	if manual {
		// Nothing to do in any cluster: people act and complete the order.
		res.Manual = true
		for _, d := range devs {
			res.Devices = append(res.Devices, nodeplan.DeviceOperations{DeviceID: d.id, Hostname: d.hostname, Node: nodeName(d),
				ClusterID: d.clusterID, Operation: operation(o.ActionType), Status: d.status, Error: d.err, Steps: []nodeplan.NodeStep{}})
		}
		res.Notes = append(res.Notes, "the cluster has no credentials (manual mode): nothing is done in it; act in the cluster and complete the order by hand")
		return res, nil
	}

	opts := x.d.Options
	opts.DryRun = dry
	res.Devices = make([]nodeplan.DeviceOperations, len(devs))
	sem := make(chan struct{}, x.d.Parallel)
	var wg sync.WaitGroup
	for i := range devs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res.Devices[i] = x.device(ctx, o, devs[i], targets[derefID(devs[i].clusterID)], poolLabels, problem, opts)
		}()
	}
	wg.Wait()

	dec := Decide(o.ActionType, res.Devices)
	res.Notes = append(res.Notes, dec.Notes...)
	if dry {
		if dec.Target != "" {
			res.Notes = append(res.Notes, "dry run: executing would move the order to "+dec.Target)
		}
		return res, nil
	}
	if ctx.Err() != nil {
		// Interrupted (shutdown, or the run outlived its lock): the devices
		// that did not finish stay processing; a re-execution continues.
		return res, fmt.Errorf("order %s: node operations interrupted: %w", o.OrderNumber, ctx.Err())
	}
	return x.finish(ctx, o, res, dec)
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func nodeName(d device) string {
	if d.node != "" {
		return d.node
	}
	return d.hostname
}

// device runs one device's operation and records its outcome.
func (x *Executor) device(ctx context.Context, o postgres.Order, d device, t *target, poolLabels map[string]string, problem string, opts kube.OpOptions) nodeplan.DeviceOperations {
	out := nodeplan.DeviceOperations{DeviceID: d.id, Hostname: d.hostname, Node: nodeName(d), ClusterID: d.clusterID,
		Operation: operation(o.ActionType), Status: d.status, Error: d.err, Steps: []nodeplan.NodeStep{}}
	if d.status == "done" {
		return out // done by an earlier run: not touched again
	}
	set := func(status, msg string) nodeplan.DeviceOperations {
		out.Status, out.Error = status, msg
		if !opts.DryRun {
			x.record(ctx, o.ID, d.id, status, msg)
		}
		return out
	}
	switch {
	case problem != "":
		return set("failed", problem)
	case t == nil:
		return set("skipped", "the device is in no cluster: nothing to do in Kubernetes")
	case t.manual:
		return set("pending", fmt.Sprintf("cluster %s has no credentials (manual mode): nothing done; act by hand", t.name))
	case t.problem != "":
		return set("failed", fmt.Sprintf("cluster %s: %s", t.name, t.problem))
	}
	if !opts.DryRun {
		x.record(ctx, o.ID, d.id, "processing", "")
	}
	if _, err := t.client.GetNode(ctx, out.Node); err != nil {
		switch {
		case apierrors.IsNotFound(err) && o.ActionType == string(orderflow.TypePoolEntry):
			return set("pending", fmt.Sprintf("node %s has not joined cluster %s yet; re-execute once it has", out.Node, t.name))
		case apierrors.IsNotFound(err):
			return set("skipped", fmt.Sprintf("node %s is not in cluster %s: nothing to do", out.Node, t.name))
		case ctx.Err() != nil:
			return set("processing", "interrupted before it started; re-execute to continue")
		}
		return set("failed", fmt.Sprintf("read node %s: %v", out.Node, err))
	}
	var steps []kube.Step
	var err error
	switch orderflow.ActionType(o.ActionType) {
	case orderflow.TypePoolEntry:
		steps, err = t.client.PoolEntry(ctx, out.Node, poolLabels, opts)
	case orderflow.TypePoolExit:
		steps, err = t.client.PoolExit(ctx, out.Node, poolLabels, opts)
	case orderflow.TypeMaintenance:
		steps, err = t.client.Maintain(ctx, out.Node, opts)
	case orderflow.TypeUncordon:
		steps, err = t.client.Uncordon(ctx, out.Node, opts)
	default:
		err = fmt.Errorf("no node operation for order type %s", o.ActionType)
	}
	for _, s := range steps {
		out.Steps = append(out.Steps, nodeplan.NodeStep{Node: s.Node, Action: s.Action, Detail: s.Detail})
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// The run was cut short (its drain too: kube.Drain then reports a
		// block "after DrainTimeout" that never elapsed): not the device's failure.
		return set("processing", fmt.Sprintf("interrupted: %v; re-execute to continue", err))
	case err != nil:
		return set("failed", err.Error())
	}
	return set("done", "")
}

// record writes one device's progress at once (visible while the run goes
// on), even when ctx has ended, so an interrupted run leaves true rows.
func (x *Executor) record(ctx context.Context, orderID, deviceID int64, status, msg string) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := x.d.DB.Exec(wctx, `UPDATE order_devices SET status = $3, error = $4, updated_at = now()
		WHERE order_id = $1 AND device_id = $2 AND active`, orderID, deviceID, status, msg)
	if err != nil {
		slog.ErrorContext(ctx, "nodeexec: record device progress", "order", orderID, "device", deviceID, "status", status, "err", err)
	}
}

func (x *Executor) loadDevices(ctx context.Context, id int64) ([]device, error) {
	rows, err := x.d.DB.Query(ctx, `SELECT od.device_id, d.hostname, d.node_name, coalesce(o.cluster_id, d.cluster_id), od.status, od.error
		FROM order_devices od
			JOIN devices d ON d.id = od.device_id
			JOIN elastic_scaling_orders o ON o.id = od.order_id
		WHERE od.order_id = $1 AND od.active ORDER BY od.id`, id)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	devs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (device, error) {
		var d device
		err := r.Scan(&d.id, &d.hostname, &d.node, &d.clusterID, &d.status, &d.err)
		return d, err
	})
	return devs, postgres.Translate(err)
}

var errPoolLabels = errors.New("pool labels")

func (x *Executor) poolLabels(ctx context.Context, poolID int64) (map[string]string, error) {
	var selector string
	var nodeLabels map[string]string
	err := x.d.DB.QueryRow(ctx, "SELECT node_selector, node_labels FROM resource_pools WHERE id = $1", poolID).Scan(&selector, &nodeLabels)
	if err != nil {
		return nil, fmt.Errorf("pool %d: %w", poolID, postgres.Translate(err))
	}
	l, err := PoolLabels(selector, nodeLabels)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPoolLabels, err)
	}
	return l, nil
}

// targets builds one client per cluster the devices are in. A cluster
// without credentials is manual; one whose client cannot be built carries
// the problem (its devices fail with it).
func (x *Executor) targets(ctx context.Context, devs []device) (map[int64]*target, error) {
	var ids []int64
	seen := map[int64]bool{}
	for _, d := range devs {
		if d.clusterID != nil && !seen[*d.clusterID] {
			seen[*d.clusterID] = true
			ids = append(ids, *d.clusterID)
		}
	}
	out := map[int64]*target{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := x.d.DB.Query(ctx, "SELECT id, name, api_endpoint, credentials FROM clusters WHERE id = ANY($1)", ids)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	type row struct {
		id             int64
		name, endpoint string
		sealed         []byte
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var c row
		err := r.Scan(&c.id, &c.name, &c.endpoint, &c.sealed)
		return c, err
	})
	if err != nil {
		return nil, postgres.Translate(err)
	}
	for _, c := range list {
		t := &target{name: c.name}
		out[c.id] = t
		if c.sealed == nil {
			t.manual = true
			continue
		}
		if x.d.Keeper == nil {
			t.problem = "no secrets keeper configured (SECRETS_KEEPER_URL)"
			continue
		}
		creds, err := clustercred.Open(ctx, x.d.Keeper, c.sealed)
		if err != nil {
			t.problem = err.Error()
			continue
		}
		cfg, err := kube.RESTConfig(c.endpoint, creds)
		if err != nil {
			t.problem = err.Error()
			continue
		}
		if t.client, err = kube.NewCluster(cfg); err != nil {
			t.problem = err.Error()
		}
	}
	return out, nil
}

// operationsAudit is what the audit log keeps of a run.
type operationsAudit struct {
	Devices    []nodeplan.DeviceOperations `json:"devices"`
	Notes      []string                    `json:"notes"`
	Transition string                      `json:"transition,omitempty"`
}

// finish records the run in the audit log and moves the order as dec says,
// in one transaction; then announces the transition.
func (x *Executor) finish(ctx context.Context, o postgres.Order, res nodeplan.NodeOperations, dec Decision) (nodeplan.NodeOperations, error) {
	ctx = context.WithoutCancel(ctx) // the devices' rows are written: the order must follow
	var after postgres.Order
	moved := false
	err := postgres.InTx(ctx, x.d.DB, func(tx pgx.Tx) error {
		if dec.Target != "" {
			// The version read at the start: an order a person moved meanwhile
			// (cancelled, failed by hand, retried) is left alone.
			_, a, err := postgres.TransitionOrderTx(ctx, tx, o.ID, dec.Target, o.Version, Actor, dec.Reason)
			var refused *postgres.TransitionRefusedError
			switch {
			case errors.Is(err, postgres.ErrStale) || errors.As(err, &refused):
				res.Notes = append(res.Notes, "the order changed while its nodes were operated; its status was left alone")
			case err != nil:
				return err
			default:
				after, moved = a, true
			}
		}
		audit := operationsAudit{Devices: res.Devices, Notes: res.Notes}
		if moved {
			audit.Transition = after.Status
		}
		return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: Actor, Action: "order.operations", TargetType: "order",
			TargetID: o.ID, After: audit})
	})
	if err != nil {
		return res, fmt.Errorf("order %s: record the outcome: %w", o.OrderNumber, err)
	}
	if !moved {
		cur, err := postgres.GetOrder(ctx, x.d.DB, o.ID)
		if err == nil {
			res.OrderStatus = cur.Status
			if cur.Version != o.Version && executable(cur, false) == nil {
				return res, errRequeued
			}
		}
		return res, nil
	}
	res.OrderStatus = after.Status
	if x.d.Emitter != nil {
		ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		err := x.d.Emitter.Emit(ectx, events.Outgoing{
			ID: fmt.Sprintf("order-%d-v%d", after.ID, after.Version), Type: events.TypeOrderStatusChanged, Source: events.SourceNodeOps,
			Subject: fmt.Sprintf("order/%d", after.ID),
			Data: events.OrderStatusChanged{OrderID: after.ID, OrderNumber: after.OrderNumber, Action: after.ActionType,
				From: o.Status, To: after.Status, Actor: Actor, Reason: dec.Reason},
		})
		if err != nil {
			slog.WarnContext(ctx, "nodeexec: emit failed after commit", "order", after.ID, "err", err)
		}
	}
	return res, nil
}
