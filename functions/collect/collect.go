// Package collect is the snapshot collector (issue 9): on its own hourly
// PingSource (infra/base/functions/collect, sinking straight to this
// Service, so it never sees the daily evaluation ping) and on "collect now"
// from the API, it reads every active cluster's nodes, pods and node metrics,
// writes one snapshot per pool in one transaction per cluster, and
// reconciles the device inventory with the nodes; then it queues another
// run of the pool_entry orders waiting for a node that has now joined and of
// the orders whose run stalled (resume.go). One broken cluster does not stop the others: its error is
// kept in cluster_collections.
package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gocloud.dev/secrets"
	"k8s.io/client-go/rest"

	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Deps are what the function needs; main builds them from configuration.
type Deps struct {
	DB *pgxpool.Pool
	// Keeper decrypts clusters.credentials (SECRETS_KEEPER_URL).
	Keeper   *secrets.Keeper
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClusterTimeout bounds one cluster's collection (default 2 min).
	ClusterTimeout time.Duration
	// Parallel is how many clusters are collected at once (default 4).
	Parallel int
	// Emitter queues order.execute for processing pool_entry orders whose
	// waiting node has joined and for stalled orders (K_SINK); nil turns
	// that off.
	Emitter events.Emitter
	// NodeOps are nodeops' drain timeout and parallelism: how long a run can
	// last, so when an order is stalled (zero fields: nodeexec's defaults).
	NodeOps nodeexec.Limits
	// Locks tell whether a run holds an order's lock (nodeexec.LockKey); nil
	// does not look (the event is sent and answered busy).
	Locks *lock.Client
}

// Function is the collector.
type Function struct {
	d         Deps
	noEmitter sync.Once
}

// New builds the function.
func New(d Deps) *Function {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.ClusterTimeout <= 0 {
		d.ClusterTimeout = 2 * time.Minute
	}
	if d.Parallel <= 0 {
		d.Parallel = 4
	}
	return &Function{d: d}
}

// Handle is the CloudEvent entry point: a ping collects every cluster at the
// ping's time. Per-cluster failures are recorded, not returned: a retry
// would hammer the healthy clusters again for the broken one.
func (f *Function) Handle(ctx context.Context, e cloudevents.Event) error {
	if e.Type() != events.TypePing {
		return events.Permanent(fmt.Errorf("collect does not handle events of type %q", e.Type()))
	}
	at := e.Time()
	if at.IsZero() {
		at = f.d.Now()
	}
	_, err := f.CollectAll(ctx, at)
	return err
}

type cluster struct {
	id          int64
	name        string
	endpoint    string
	credentials []byte
	pools       []kube.Pool
}

// CollectAll collects every active cluster at time at. The error is only
// for the database being unreachable; cluster failures are in the results.
func (f *Function) CollectAll(ctx context.Context, at time.Time) ([]clustercred.CollectResult, error) {
	clusters, err := f.load(ctx, 0)
	if err != nil {
		return nil, err
	}
	results := make([]clustercred.CollectResult, len(clusters))
	sem := make(chan struct{}, f.d.Parallel)
	var wg sync.WaitGroup
	for i := range clusters {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = f.collect(ctx, clusters[i], at)
		}()
	}
	wg.Wait()
	var dbErrs []error
	for _, r := range results {
		slog.InfoContext(ctx, "cluster collected", "cluster", r.ClusterName, "status", r.Status, "snapshots", r.Snapshots, "err", r.Error)
		if r.Status == "" {
			dbErrs = append(dbErrs, errors.New(r.Error))
		}
	}
	return results, errors.Join(dbErrs...)
}

// CollectCluster collects one cluster now ("collect now").
func (f *Function) CollectCluster(ctx context.Context, clusterID int64) (clustercred.CollectResult, error) {
	clusters, err := f.load(ctx, clusterID)
	if err != nil {
		return clustercred.CollectResult{}, err
	}
	if len(clusters) == 0 {
		return clustercred.CollectResult{}, fmt.Errorf("cluster %d: %w", clusterID, postgres.ErrNotFound)
	}
	r := f.collect(ctx, clusters[0], f.d.Now())
	if r.Status == "" {
		return r, errors.New(r.Error)
	}
	return r, nil
}

// TestConnection checks that the stored credentials reach the cluster.
func (f *Function) TestConnection(ctx context.Context, clusterID int64) (clustercred.ConnectionResult, error) {
	clusters, err := f.load(ctx, clusterID)
	if err != nil {
		return clustercred.ConnectionResult{}, err
	}
	if len(clusters) == 0 {
		return clustercred.ConnectionResult{}, fmt.Errorf("cluster %d: %w", clusterID, postgres.ErrNotFound)
	}
	c := clusters[0]
	if c.credentials == nil {
		return clustercred.ConnectionResult{Error: "no credentials stored (manual mode)"}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	cfg, err := f.restConfig(ctx, c)
	if err != nil {
		return clustercred.ConnectionResult{Error: err.Error()}, nil
	}
	return kube.TestConnection(ctx, cfg), nil
}

// load reads active clusters (one, when id > 0; any status then) with their pools.
func (f *Function) load(ctx context.Context, id int64) ([]*cluster, error) {
	rows, err := f.d.DB.Query(ctx, `SELECT c.id, c.name, c.api_endpoint, c.credentials,
			coalesce(jsonb_agg(jsonb_build_array(p.id, p.name, p.node_selector) ORDER BY p.id) FILTER (WHERE p.id IS NOT NULL), '[]')
		FROM clusters c LEFT JOIN resource_pools p ON p.cluster_id = c.id
		WHERE ($1 = 0 AND c.status = 'active') OR c.id = $1
		GROUP BY c.id ORDER BY c.id`, id)
	if err != nil {
		return nil, fmt.Errorf("load clusters: %w", err)
	}
	defer rows.Close()
	var out []*cluster
	for rows.Next() {
		c := &cluster{}
		var pools [][]any
		if err := rows.Scan(&c.id, &c.name, &c.endpoint, &c.credentials, &pools); err != nil {
			return nil, fmt.Errorf("load clusters: %w", err)
		}
		for _, p := range pools {
			pid, _ := p[0].(float64)
			name, _ := p[1].(string)
			sel, _ := p[2].(string)
			c.pools = append(c.pools, kube.Pool{ID: int64(pid), Name: name, Selector: sel})
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (f *Function) restConfig(ctx context.Context, c *cluster) (*rest.Config, error) {
	if f.d.Keeper == nil {
		return nil, errors.New("no secrets keeper configured (SECRETS_KEEPER_URL)")
	}
	creds, err := clustercred.Open(ctx, f.d.Keeper, c.credentials)
	if err != nil {
		return nil, err
	}
	return kube.RESTConfig(c.endpoint, creds)
}

// collect reads one cluster and writes its snapshots. Status "" means the
// outcome could not even be recorded (database down).
func (f *Function) collect(ctx context.Context, c *cluster, at time.Time) clustercred.CollectResult {
	at = at.Truncate(time.Second)
	r := clustercred.CollectResult{ClusterID: c.id, ClusterName: c.name, AttemptedAt: at, Notes: []string{},
		UnknownNodes: []string{}, VanishedDevices: []clustercred.VanishedDevice{}}
	if c.credentials == nil {
		r.Status = clustercred.StatusManual
		r.Notes = append(r.Notes, "no credentials: manual mode, nothing collected")
		return f.record(ctx, r)
	}
	inv, err := f.read(ctx, c)
	if err != nil {
		r.Status, r.Error = clustercred.StatusError, err.Error()
		return f.record(ctx, r)
	}
	t := kube.Compute(c.pools, inv.Nodes, inv.Pods, inv.Usage)
	r.Status = clustercred.StatusOK
	r.MetricsAvailable = inv.Usage != nil
	r.Nodes, r.Pods = len(inv.Nodes), t.PodsCounted
	if inv.UsageNote != "" {
		r.Notes = append(r.Notes, inv.UsageNote)
	}
	skipped := make([]int64, 0, len(t.Skipped))
	for id := range t.Skipped {
		skipped = append(skipped, id)
	}
	sort.Slice(skipped, func(i, j int) bool { return skipped[i] < skipped[j] })
	for _, id := range skipped {
		r.Notes = append(r.Notes, t.Skipped[id])
	}
	if err := f.write(ctx, c, at, t, inv.ResourceVersion, &r); err != nil {
		r = clustercred.CollectResult{ClusterID: c.id, ClusterName: c.name, AttemptedAt: at, Status: clustercred.StatusError,
			Error: "write snapshots: " + err.Error(), Notes: []string{}, UnknownNodes: []string{}, VanishedDevices: []clustercred.VanishedDevice{}}
		return f.record(ctx, r)
	}
	f.resume(ctx, c, at, t.Nodes)
	return r
}

func (f *Function) read(ctx context.Context, c *cluster) (kube.Inventory, error) {
	ctx, cancel := context.WithTimeout(ctx, f.d.ClusterTimeout)
	defer cancel()
	cfg, err := f.restConfig(ctx, c)
	if err != nil {
		return kube.Inventory{}, err
	}
	cl, err := kube.NewCluster(cfg)
	if err != nil {
		return kube.Inventory{}, err
	}
	return kube.Read(ctx, cl)
}

// record stores a failed or manual outcome, keeping the last success's
// drift lists and time.
func (f *Function) record(ctx context.Context, r clustercred.CollectResult) clustercred.CollectResult {
	notes, _ := json.Marshal(r.Notes)
	_, err := f.d.DB.Exec(ctx, `INSERT INTO cluster_collections (cluster_id, status, error, attempted_at, notes)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (cluster_id) DO UPDATE SET status = EXCLUDED.status, error = EXCLUDED.error,
			attempted_at = EXCLUDED.attempted_at, notes = EXCLUDED.notes, updated_at = now()`,
		r.ClusterID, r.Status, r.Error, r.AttemptedAt, string(notes))
	if err != nil {
		r.Error = fmt.Sprintf("cluster %s: %s; and recording it failed: %v", r.ClusterName, r.Error, err)
		r.Status = ""
	}
	return r
}

// write stores the pools' snapshots (raw + daily rollup, as the ingest API
// does), reconciles the devices with the nodes and records the outcome, in
// one transaction: a cluster's collection is all or nothing.
func (f *Function) write(ctx context.Context, c *cluster, at time.Time, t kube.Totals, rv string, r *clustercred.CollectResult) error {
	local := at.In(f.d.Location)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	n := len(t.Pools)
	poolIDs := make([]int64, n)
	cpuCap, cpuAll, memCap, memAll := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	cpuUse, memUse := make([]*int64, n), make([]*int64, n)
	nodes := make([]int32, n)
	for i, p := range t.Pools {
		poolIDs[i] = p.PoolID
		cpuCap[i], cpuAll[i], memCap[i], memAll[i] = p.Capacity.CPU, p.Allocated.CPU, p.Capacity.Mem, p.Allocated.Mem
		if p.Usage != nil {
			cpu, mem := p.Usage.CPU, p.Usage.Mem
			cpuUse[i], memUse[i] = &cpu, &mem
		}
		nodes[i] = int32(len(p.Nodes))
	}
	m := len(t.Nodes)
	names, labels, taints := make([]string, m), make([]string, m), make([]string, m)
	ncpu, nmem := make([]int64, m), make([]int64, m)
	for i, nd := range t.Nodes {
		names[i], ncpu[i], nmem[i] = nd.Name, nd.Allocated.CPU, nd.Allocated.Mem
		lb, err := json.Marshal(nd.Labels)
		if err != nil {
			return err
		}
		tb, err := json.Marshal(nd.Taints)
		if err != nil {
			return err
		}
		labels[i], taints[i] = string(lb), string(tb)
	}
	return postgres.InTx(ctx, f.d.DB, func(tx pgx.Tx) error {
		if n > 0 {
			_, err := tx.Exec(ctx, `WITH input AS (
				SELECT $1::bigint AS cluster_id, t.*, $3::timestamptz AS captured_at, $4::date AS day
				FROM unnest($2::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::integer[])
					AS t(pool_id, cpu_capacity, cpu_allocated, cpu_usage, mem_capacity, mem_allocated, mem_usage, node_count)
			), raw AS (
				INSERT INTO cluster_resource_snapshots (cluster_id, pool_id, captured_at, day, cpu_capacity, cpu_allocated, cpu_usage,
					mem_capacity, mem_allocated, mem_usage, node_count, source)
				SELECT cluster_id, pool_id, captured_at, day, cpu_capacity, cpu_allocated, cpu_usage,
					mem_capacity, mem_allocated, mem_usage, node_count, 'collector' FROM input
				ON CONFLICT (pool_id, captured_at) DO UPDATE SET cpu_capacity = EXCLUDED.cpu_capacity,
					cpu_allocated = EXCLUDED.cpu_allocated, cpu_usage = EXCLUDED.cpu_usage, mem_capacity = EXCLUDED.mem_capacity,
					mem_allocated = EXCLUDED.mem_allocated, mem_usage = EXCLUDED.mem_usage, node_count = EXCLUDED.node_count,
					source = EXCLUDED.source, updated_at = now()
			)
			INSERT INTO pool_daily_snapshots AS p (pool_id, day, cluster_id, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
				mem_capacity, mem_allocated, mem_usage, node_count)
			SELECT pool_id, day, cluster_id, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
				mem_capacity, mem_allocated, mem_usage, node_count FROM input
			ON CONFLICT (pool_id, day) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, captured_at = EXCLUDED.captured_at,
				cpu_capacity = EXCLUDED.cpu_capacity, cpu_allocated = EXCLUDED.cpu_allocated, cpu_usage = EXCLUDED.cpu_usage,
				mem_capacity = EXCLUDED.mem_capacity, mem_allocated = EXCLUDED.mem_allocated, mem_usage = EXCLUDED.mem_usage,
				node_count = EXCLUDED.node_count
			WHERE p.captured_at <= EXCLUDED.captured_at`,
				c.id, poolIDs, at, day, cpuCap, cpuAll, cpuUse, memCap, memAll, memUse, nodes)
			if err != nil {
				return postgres.Translate(err)
			}
		}
		r.Snapshots = n

		// A node's device: the device already bound to it, else the one whose
		// hostname is the node name; only devices of this cluster or not yet
		// in any cluster. Rows are touched only when something changed.
		var unknown, vanished []byte
		err := tx.QueryRow(ctx, `WITH n AS (
				SELECT t.name, t.labels::jsonb AS labels, t.taints::jsonb AS taints, t.cpu, t.mem
				FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) AS t(name, labels, taints, cpu, mem)
			), m AS (
				SELECT DISTINCT ON (n.name) d.id, n.*
				FROM n JOIN devices d ON d.node_name = n.name OR (d.node_name = '' AND d.hostname = n.name)
				WHERE (d.cluster_id = $1 OR d.cluster_id IS NULL) AND d.status <> 'retired'
				ORDER BY n.name, (d.node_name = n.name) DESC, d.id
			), upd AS (
				UPDATE devices d SET node_name = m.name, labels = m.labels, taints = m.taints,
					node_cpu_allocated = m.cpu, node_mem_allocated = m.mem, updated_at = now()
				FROM m WHERE d.id = m.id AND (d.node_name, d.labels, d.taints, d.node_cpu_allocated, d.node_mem_allocated)
					IS DISTINCT FROM (m.name, m.labels, m.taints, m.cpu, m.mem)
				RETURNING d.id
			), gone AS (
				SELECT id, hostname, node_name FROM devices
				WHERE cluster_id = $1 AND node_name <> '' AND status <> 'retired' AND NOT (node_name = ANY ($2::text[]))
			), cleared AS (
				-- no node, no node data: exit selection must not trust stale numbers.
				UPDATE devices SET node_cpu_allocated = NULL, node_mem_allocated = NULL, updated_at = now()
				WHERE id IN (SELECT id FROM gone) AND (node_cpu_allocated IS NOT NULL OR node_mem_allocated IS NOT NULL)
			)
			SELECT (SELECT coalesce(jsonb_agg(n.name ORDER BY n.name), '[]') FROM n WHERE n.name NOT IN (SELECT name FROM m)),
				(SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'hostname', hostname, 'nodeName', node_name) ORDER BY id), '[]') FROM gone),
				(SELECT count(*) FROM upd)`,
			c.id, names, labels, taints, ncpu, nmem).Scan(&unknown, &vanished, &r.DevicesUpdated)
		if err != nil {
			return postgres.Translate(err)
		}
		if err := json.Unmarshal(unknown, &r.UnknownNodes); err != nil {
			return err
		}
		if err := json.Unmarshal(vanished, &r.VanishedDevices); err != nil {
			return err
		}
		notes, _ := json.Marshal(r.Notes)
		_, err = tx.Exec(ctx, `INSERT INTO cluster_collections (cluster_id, status, error, attempted_at, succeeded_at,
				metrics_available, notes, node_count, pod_count, snapshot_count, resource_version, unknown_nodes, vanished_devices)
			VALUES ($1, 'ok', '', $2, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (cluster_id) DO UPDATE SET status = 'ok', error = '', attempted_at = $2, succeeded_at = $2,
				metrics_available = $3, notes = $4, node_count = $5, pod_count = $6, snapshot_count = $7,
				resource_version = $8, unknown_nodes = $9, vanished_devices = $10, updated_at = now()`,
			c.id, at, r.MetricsAvailable, string(notes), r.Nodes, r.Pods, r.Snapshots, rv, unknown, vanished)
		return postgres.Translate(err)
	})
}
