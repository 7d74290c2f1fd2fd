// Package pipelinetest builds the rows the decision pipeline reads —
// clusters, pools, daily snapshots, devices, templates, policies,
// strategies — on a test's real database (pgtest), for the pipeline's own
// tests, the functions' end-to-end tests and the API's run-now tests.
package pipelinetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Fixture inserts rows; every failure fails the test.
type Fixture struct {
	t   testing.TB
	DB  *pgxpool.Pool
	Loc *time.Location
}

// New returns a fixture on db; loc is TIMEZONE (the snapshots' day).
func New(t testing.TB, db *pgxpool.Pool, loc *time.Location) *Fixture {
	return &Fixture{t: t, DB: db, Loc: loc}
}

func (f *Fixture) id(sql string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.DB.QueryRow(context.Background(), sql, args...).Scan(&id); err != nil {
		f.t.Fatalf("fixture: %v\n%s", err, sql)
	}
	return id
}

// Exec runs SQL.
func (f *Fixture) Exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.DB.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("fixture: %v\n%s", err, sql)
	}
}

// Cluster inserts an active cluster.
func (f *Fixture) Cluster(name, idc, zone string) int64 {
	f.t.Helper()
	return f.id("INSERT INTO clusters (name, idc, zone) VALUES ($1, $2, $3) RETURNING id", name, idc, zone)
}

// Pool inserts a pool; maxNodes nil is unbounded.
func (f *Fixture) Pool(clusterID int64, name, poolType string, minNodes int, maxNodes *int) int64 {
	f.t.Helper()
	return f.id(`INSERT INTO resource_pools (cluster_id, name, pool_type, min_nodes, max_nodes, node_selector)
		VALUES ($1, $2, $3, $4, $5, 'pool=' || $2) RETURNING id`, clusterID, name, poolType, minNodes, maxNodes)
}

// Snap is one day's pool totals (millicores, bytes).
type Snap struct {
	CPUCapacity, CPUAllocated int64
	CPUUsage                  *int64
	MemCapacity, MemAllocated int64
	MemUsage                  *int64
	NodeCount                 int
}

// GiB is 2³⁰ bytes.
const GiB = int64(1) << 30

// Uniform is a pool of nodes with cores and memGiB each, allocated at cpuPct
// and memPct percent (usage the same).
func Uniform(nodes, cores int, memGiB int64, cpuPct, memPct float64) Snap {
	cpuCap := int64(nodes*cores) * 1000
	memCap := int64(nodes) * memGiB * GiB
	cpu := int64(float64(cpuCap) * cpuPct / 100)
	mem := int64(float64(memCap) * memPct / 100)
	return Snap{CPUCapacity: cpuCap, CPUAllocated: cpu, CPUUsage: &cpu, MemCapacity: memCap, MemAllocated: mem, MemUsage: &mem, NodeCount: nodes}
}

// Day writes the pool's snapshot of one calendar day (captured at 23:00 in
// Loc), raw and daily rollup, like the ingest API does.
func (f *Fixture) Day(clusterID, poolID int64, day time.Time, s Snap) {
	f.t.Helper()
	y, m, d := day.In(f.Loc).Date()
	captured := time.Date(y, m, d, 23, 0, 0, 0, f.Loc)
	date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	f.Exec(`INSERT INTO cluster_resource_snapshots (cluster_id, pool_id, captured_at, day, cpu_capacity, cpu_allocated, cpu_usage,
			mem_capacity, mem_allocated, mem_usage, node_count, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'test')
		ON CONFLICT (pool_id, captured_at) DO NOTHING`,
		clusterID, poolID, captured, date, s.CPUCapacity, s.CPUAllocated, s.CPUUsage, s.MemCapacity, s.MemAllocated, s.MemUsage, s.NodeCount)
	f.Exec(`INSERT INTO pool_daily_snapshots (pool_id, day, cluster_id, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
			mem_capacity, mem_allocated, mem_usage, node_count)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (pool_id, day) DO UPDATE SET captured_at = EXCLUDED.captured_at, cpu_capacity = EXCLUDED.cpu_capacity,
			cpu_allocated = EXCLUDED.cpu_allocated, cpu_usage = EXCLUDED.cpu_usage, mem_capacity = EXCLUDED.mem_capacity,
			mem_allocated = EXCLUDED.mem_allocated, mem_usage = EXCLUDED.mem_usage, node_count = EXCLUDED.node_count`,
		poolID, date, clusterID, captured, s.CPUCapacity, s.CPUAllocated, s.CPUUsage, s.MemCapacity, s.MemAllocated, s.MemUsage, s.NodeCount)
}

// Days writes the same snapshot for the n days before at (at's own day excluded).
func (f *Fixture) Days(clusterID, poolID int64, at time.Time, n int, s Snap) {
	f.t.Helper()
	for i := 1; i <= n; i++ {
		f.Day(clusterID, poolID, at.In(f.Loc).AddDate(0, 0, -i), s)
	}
}

// Device is a device to insert.
type Device struct {
	Hostname    string
	IDC, Zone   string
	Cores       int
	MemGiB      int64
	Labels      map[string]string
	Taints      []map[string]string
	Status      string // default idle
	ClusterID   *int64
	PoolID      *int64
	NodeCPUUsed *int64 // node_cpu_allocated
	NodeMemUsed *int64
}

// AddDevice inserts a device.
func (f *Fixture) AddDevice(d Device) int64 {
	f.t.Helper()
	if d.Status == "" {
		d.Status = "idle"
	}
	if d.Labels == nil {
		d.Labels = map[string]string{}
	}
	if d.Taints == nil {
		d.Taints = []map[string]string{}
	}
	labels, _ := json.Marshal(d.Labels)
	taints, _ := json.Marshal(d.Taints)
	nodeName := ""
	if d.Status == "in_pool" {
		nodeName = d.Hostname
	}
	return f.id(`INSERT INTO devices (hostname, ip, serial, cpu_arch, cpu_cores, memory_bytes, idc, zone, status, cluster_id, pool_id,
			node_name, labels, taints, node_cpu_allocated, node_mem_allocated)
		VALUES ($1, '10.0.0.1', '', 'x86_64', $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13) RETURNING id`,
		d.Hostname, d.Cores, d.MemGiB*GiB, d.IDC, d.Zone, d.Status, d.ClusterID, d.PoolID, nodeName, string(labels), string(taints),
		d.NodeCPUUsed, d.NodeMemUsed)
}

// MaintenanceOrder opens a maintenance order holding the device (it does
// not count for any pool's cooldown), so matching must not offer it.
func (f *Fixture) MaintenanceOrder(deviceID int64) int64 {
	f.t.Helper()
	id := f.id(`INSERT INTO elastic_scaling_orders (order_number, action_type, device_id, device_count, created_by)
		VALUES ('EP-TEST-' || $1::bigint, 'maintenance', $1::bigint, 1, 'test') RETURNING id`, deviceID)
	f.Exec("INSERT INTO order_devices (order_id, device_id, role) VALUES ($1, $2, 'maintain')", id, deviceID)
	return id
}

// Template inserts a query template (groups JSON).
func (f *Fixture) Template(name, groups string) int64 {
	f.t.Helper()
	return f.id("INSERT INTO query_templates (name, groups) VALUES ($1, $2::jsonb) RETURNING id", name, groups)
}

// Policy inserts an enabled matching policy.
func (f *Fixture) Policy(name, poolType, action string, templateID int64) int64 {
	f.t.Helper()
	return f.id(`INSERT INTO resource_pool_device_matching_policies (name, resource_pool_type, action_type, query_template_id)
		VALUES ($1, $2, $3, $4) RETURNING id`, name, poolType, action, templateID)
}

// Strategy is a strategy to insert; zero values take the column defaults.
type Strategy struct {
	Name            string
	Action          string // pool_entry | pool_exit
	CPUThreshold    *float64
	CPUType         string
	CPUTarget       *float64
	MemThreshold    *float64
	MemType         string
	MemTarget       *float64
	Logic           string // AND | OR
	DurationMinutes int
	CooldownMinutes int
	DeviceCount     int
	NodeSelector    string
	ResourceTypes   string
	EntryTemplateID *int64
	ExitTemplateID  *int64
	Selection       string
	Disabled        bool
	Clusters        []int64
}

// P returns a pointer to v.
func P[T any](v T) *T { return &v }

// AddStrategy inserts a strategy and associates its clusters.
func (f *Fixture) AddStrategy(s Strategy) int64 {
	f.t.Helper()
	nilIfEmpty := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	if s.Logic == "" {
		s.Logic = "AND"
	}
	if s.Selection == "" {
		s.Selection = "random"
	}
	status := "enabled"
	if s.Disabled {
		status = "disabled"
	}
	id := f.id(`INSERT INTO elastic_scaling_strategies (name, threshold_trigger_action, cpu_threshold_value, cpu_threshold_type,
			cpu_target_value, memory_threshold_value, memory_threshold_type, memory_target_value, condition_logic,
			duration_minutes, cooldown_minutes, device_count, node_selector, resource_types, entry_query_template_id,
			exit_query_template_id, selection_policy, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
		s.Name, s.Action, s.CPUThreshold, nilIfEmpty(s.CPUType), s.CPUTarget, s.MemThreshold, nilIfEmpty(s.MemType), s.MemTarget,
		s.Logic, s.DurationMinutes, s.CooldownMinutes, s.DeviceCount, s.NodeSelector, s.ResourceTypes, s.EntryTemplateID,
		s.ExitTemplateID, s.Selection, status)
	for _, c := range s.Clusters {
		f.Exec("INSERT INTO strategy_clusters (strategy_id, cluster_id) VALUES ($1, $2)", id, c)
	}
	return id
}

// Order is an order row as the tests check it.
type Order struct {
	ID           int64
	Number       string
	Action       string
	Status       string
	ClusterID    int64 // 0: none
	PoolID       int64 // 0: none
	StrategyID   *int64
	Key          *string
	EvaluationID *int64
	Devices      []string // hostnames, sorted
}

// Orders reads every order with its devices, by id.
func (f *Fixture) Orders() []Order {
	f.t.Helper()
	rows, err := f.DB.Query(context.Background(), `SELECT o.id, o.order_number, o.action_type, o.status, coalesce(o.cluster_id, 0), coalesce(o.pool_id, 0),
			o.strategy_id, o.idempotency_key, o.evaluation_id,
			coalesce(array_agg(d.hostname ORDER BY d.hostname) FILTER (WHERE d.id IS NOT NULL), '{}')
		FROM elastic_scaling_orders o
		LEFT JOIN order_devices od ON od.order_id = o.id
		LEFT JOIN devices d ON d.id = od.device_id
		GROUP BY o.id ORDER BY o.id`)
	if err != nil {
		f.t.Fatalf("fixture: orders: %v", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		var o Order
		if err := rows.Scan(&o.ID, &o.Number, &o.Action, &o.Status, &o.ClusterID, &o.PoolID, &o.StrategyID, &o.Key, &o.EvaluationID, &o.Devices); err != nil {
			f.t.Fatalf("fixture: orders: %v", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatalf("fixture: orders: %v", err)
	}
	return out
}

// History is a history row as the tests check it.
type History struct {
	ID         int64
	StrategyID int64
	ClusterID  int64
	PoolID     int64
	At         time.Time
	Result     string
	Streak     int
	Reason     string
	Error      string
	OrderID    *int64
}

// Histories reads every history row, by id.
func (f *Fixture) Histories() []History {
	f.t.Helper()
	rows, err := f.DB.Query(context.Background(), `SELECT id, strategy_id, cluster_id, pool_id, evaluated_at, result, streak_days,
		reason, error, order_id FROM strategy_execution_history ORDER BY id`)
	if err != nil {
		f.t.Fatalf("fixture: history: %v", err)
	}
	defer rows.Close()
	var out []History
	for rows.Next() {
		var h History
		if err := rows.Scan(&h.ID, &h.StrategyID, &h.ClusterID, &h.PoolID, &h.At, &h.Result, &h.Streak, &h.Reason, &h.Error, &h.OrderID); err != nil {
			f.t.Fatalf("fixture: history: %v", err)
		}
		out = append(out, h)
	}
	return out
}

// Count returns SELECT count(*) of a table (trusted test input).
func (f *Fixture) Count(table string) int {
	f.t.Helper()
	var n int
	if err := f.DB.QueryRow(context.Background(), fmt.Sprintf("SELECT count(*) FROM %s", table)).Scan(&n); err != nil {
		f.t.Fatalf("fixture: count %s: %v", table, err)
	}
	return n
}
