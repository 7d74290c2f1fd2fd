package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The synthetic fleet: data centres of different sizes, hardware profiles
// with their typical labels and taints, most devices in pools, a sixth idle.
// Everything derives from a fixed seed, so every run loads the same rows.

type weighted[T any] struct {
	v T
	w int
}

func choose[T any](r *rand.Rand, ws []weighted[T]) T {
	total := 0
	for _, x := range ws {
		total += x.w
	}
	n := r.IntN(total)
	for _, x := range ws {
		if n < x.w {
			return x.v
		}
		n -= x.w
	}
	return ws[len(ws)-1].v
}

var idcs = []weighted[string]{
	{"bj1", 18}, {"bj2", 14}, {"sh1", 14}, {"sh2", 10}, {"gz1", 10}, {"gz2", 8},
	{"sz1", 7}, {"hz1", 6}, {"cd1", 5}, {"wh1", 4}, {"xa1", 2}, {"nj1", 2},
}

var regions = map[string]string{"bj": "cn-north", "sh": "cn-east", "gz": "cn-south", "sz": "cn-south", "hz": "cn-east",
	"cd": "cn-west", "wh": "cn-central", "xa": "cn-west", "nj": "cn-east"}

type profile struct {
	name     string
	cores    int
	memGi    int64
	gpus     int
	gpuModel string
	arch     string
	pool     string // the pool type it serves
}

var profiles = []weighted[profile]{
	{profile{"std-64c", 64, 256, 0, "", "amd64", "general"}, 35},
	{profile{"std-96c", 96, 384, 0, "", "amd64", "general"}, 20},
	{profile{"std-48c", 48, 192, 0, "", "amd64", "general"}, 14},
	{profile{"old-32c", 32, 128, 0, "", "amd64", "general"}, 6},
	{profile{"highmem-96c", 96, 1024, 0, "", "amd64", "highmem"}, 8},
	{profile{"arm-128c", 128, 512, 0, "", "arm64", "general"}, 7},
	{profile{"gpu-a100", 64, 1024, 8, "A100", "amd64", "gpu"}, 6},
	{profile{"gpu-h100", 96, 2048, 8, "H100", "amd64", "gpu"}, 4},
}

// teams follow a long tail: a few big tenants, many small ones.
var teams = func() []weighted[string] {
	names := []string{"search", "ads", "feed", "maps", "video", "ml-infra", "payments", "storage", "db", "cdn",
		"im", "mail", "games", "risk", "bi", "crm", "iot", "edge", "music", "news",
		"shop", "travel", "health", "edu", "auto", "cloud-ide", "sec", "ops", "qa", "labs"}
	out := make([]weighted[string], len(names))
	for i, n := range names {
		out[i] = weighted[string]{n, 1000 / (i + 3)}
	}
	return out
}()

var statuses = []weighted[string]{{"in_pool", 72}, {"idle", 16}, {"cordoned", 3}, {"maintenance", 2}, {"retired", 7}}

var envs = []weighted[string]{{"prod", 70}, {"staging", 20}, {"dev", 10}}

// fleet is the clusters and pools created before the devices.
type fleet struct {
	clusters map[string][]int64         // idc → cluster ids
	pools    map[int64]map[string]int64 // cluster → pool type → pool id
}

const clustersPerIDC = 5

func createFleet(ctx context.Context, db *pgxpool.Pool) (*fleet, error) {
	fl := &fleet{clusters: map[string][]int64{}, pools: map[int64]map[string]int64{}}
	for _, idc := range idcs {
		for c := 0; c < clustersPerIDC; c++ {
			var id int64
			err := db.QueryRow(ctx, `INSERT INTO clusters (name, idc, zone, region) VALUES ($1, $2, $3, $4) RETURNING id`,
				fmt.Sprintf("%s-k8s-%d", idc.v, c), idc.v, idc.v+"-"+string(rune('a'+c%3)), regions[idc.v[:2]]).Scan(&id)
			if err != nil {
				return nil, err
			}
			fl.clusters[idc.v] = append(fl.clusters[idc.v], id)
			fl.pools[id] = map[string]int64{}
			for _, pt := range []string{"general", "gpu", "highmem"} {
				var pid int64
				if err := db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector) VALUES ($1, $2, $2, 'pool=' || $2) RETURNING id`,
					id, pt).Scan(&pid); err != nil {
					return nil, err
				}
				fl.pools[id][pt] = pid
			}
		}
	}
	return fl, nil
}

// deviceSource streams n generated devices into COPY.
type deviceSource struct {
	r    *rand.Rand
	fl   *fleet
	n, i int
	row  []any
}

var deviceCopyColumns = []string{"hostname", "ip", "serial", "cpu_arch", "cpu_cores", "memory_bytes", "gpu_count", "gpu_model",
	"disk_bytes", "idc", "zone", "rack", "status", "cluster_id", "pool_id", "node_name", "labels", "taints",
	"node_cpu_allocated", "node_mem_allocated"}

func (s *deviceSource) Next() bool {
	if s.i >= s.n {
		return false
	}
	s.row = s.device(s.i)
	s.i++
	return true
}

func (s *deviceSource) Values() ([]any, error) { return s.row, nil }
func (s *deviceSource) Err() error             { return nil }

func (s *deviceSource) device(i int) []any {
	r := s.r
	idc := choose(r, idcs)
	p := choose(r, profiles)
	status := choose(r, statuses)
	zone := idc + "-" + string(rune('a'+r.IntN(3)))
	rack := fmt.Sprintf("%s-r%03d", idc, r.IntN(200))
	host := fmt.Sprintf("%s-%s-%07d", idc, p.name, i)
	var cluster, pool any
	var node string
	var cpuAlloc, memAlloc any
	if status == "in_pool" || status == "cordoned" || status == "maintenance" {
		cs := s.fl.clusters[idc]
		c := cs[r.IntN(len(cs))]
		cluster, pool = c, s.fl.pools[c][p.pool]
		node = host
		if r.IntN(10) > 0 { // the collector has node data for most nodes
			cpuAlloc = int64(p.cores) * int64(200+r.IntN(750))
			memAlloc = p.memGi << 30 * int64(20+r.IntN(75)) / 100
		}
	}

	var lb strings.Builder
	lb.Grow(420)
	lb.WriteString(`{"kubernetes.io/arch":"` + p.arch + `","kubernetes.io/os":"linux","kubernetes.io/hostname":"` + host +
		`","node.kubernetes.io/instance-type":"` + p.name + `","topology.kubernetes.io/region":"` + regions[idc[:2]] +
		`","topology.kubernetes.io/zone":"` + zone + `","topology.example.com/rack":"` + rack +
		`","team":"` + choose(r, teams) + `","env":"` + choose(r, envs) + `"`)
	if r.IntN(10) < 9 {
		lb.WriteString(`,"node-role.kubernetes.io/worker":""`)
	}
	if p.gpus > 0 {
		lb.WriteString(`,"gpu":"true","nvidia.com/gpu.product":"NVIDIA-` + p.gpuModel + `","nvidia.com/gpu.count":"8"`)
	}
	if pool != nil {
		lb.WriteString(`,"pool":"` + p.pool + `"`)
	}
	if r.IntN(5) == 0 {
		lb.WriteString(`,"example.com/local-nvme":"true"`)
	}
	if r.IntN(20) == 0 {
		lb.WriteString(`,"example.com/sriov":"true"`)
	}
	if r.IntN(200) == 0 {
		lb.WriteString(`,"example.com/canary":"true"`)
	}
	lb.WriteByte('}')

	var taints []string
	if p.gpus > 0 && r.IntN(10) < 9 {
		taints = append(taints, `{"key":"dedicated","value":"ai","effect":"NoSchedule"}`)
	}
	if p.pool == "highmem" && r.IntN(2) == 0 {
		taints = append(taints, `{"key":"dedicated","value":"db","effect":"NoSchedule"}`)
	}
	if status == "cordoned" {
		taints = append(taints, `{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule","timeAdded":"2026-11-20T03:00:00Z"}`)
	}
	if status == "maintenance" {
		taints = append(taints, `{"key":"example.com/maintenance","value":"true","effect":"NoExecute"}`)
	}
	if r.IntN(100) == 0 {
		taints = append(taints, `{"key":"example.com/degraded","effect":"PreferNoSchedule"}`)
	}

	return []any{
		host, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "SN" + strconv.FormatInt(int64(i)*7919+100000, 36),
		map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[p.arch], p.cores, p.memGi << 30, p.gpus, p.gpuModel,
		int64(2+r.IntN(15)) * 1000000000000, idc, zone, rack, status, cluster, pool, node,
		lb.String(), "[" + strings.Join(taints, ",") + "]", cpuAlloc, memAlloc,
	}
}

// load replaces the fleet with n devices and holds some idle ones with open
// orders, as the pipeline's NOT EXISTS will meet in production.
func load(ctx context.Context, db *pgxpool.Pool, n int, seed uint64, logf func(string, ...any)) error {
	start := time.Now()
	if _, err := db.Exec(ctx, `TRUNCATE order_devices, elastic_scaling_orders, devices, resource_pools, clusters RESTART IDENTITY CASCADE`); err != nil {
		return err
	}
	fl, err := createFleet(ctx, db)
	if err != nil {
		return err
	}
	src := &deviceSource{r: rand.New(rand.NewPCG(seed, 1)), fl: fl, n: n}
	copied, err := db.CopyFrom(ctx, pgx.Identifier{"devices"}, deviceCopyColumns, src)
	if err != nil {
		return fmt.Errorf("copy devices: %w", err)
	}
	logf("copied %d devices in %v", copied, time.Since(start).Round(time.Millisecond))
	// 500 pending entry orders holding 4 idle devices each.
	if _, err := db.Exec(ctx, `
		WITH o AS (
			INSERT INTO elastic_scaling_orders (order_number, cluster_id, pool_id, action_type, device_count, reason, idempotency_key)
			SELECT 'BENCH-' || g, c.id, p.id, 'pool_entry', 4, 'bench', 'bench:' || g
			FROM generate_series(1, 500) g
			JOIN LATERAL (SELECT id FROM clusters ORDER BY id OFFSET (g % 60) LIMIT 1) c ON true
			JOIN LATERAL (SELECT id FROM resource_pools WHERE cluster_id = c.id LIMIT 1) p ON true
			RETURNING id)
		INSERT INTO order_devices (order_id, device_id, role)
		SELECT o.id, d.id, 'add'
		FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM o) o
		JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM devices WHERE status = 'idle' LIMIT 2000) d
		  ON (d.rn - 1) / 4 + 1 = o.rn`); err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	for _, stmt := range []string{"VACUUM (ANALYZE) devices", "ANALYZE"} {
		if _, err := db.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	logf("loaded and analysed in %v", time.Since(start).Round(time.Millisecond))
	return nil
}
