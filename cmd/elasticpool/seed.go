package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/postgres"
)

// seedDemo loads a small, believable installation so a newcomer running
// `make run` + `make seed-demo` sees the pipeline work: run-now (or the
// 06:00 tick) opens an order for bj-prod-1/general, which has been over 80%
// CPU allocated for ten days, and one to drain sh-prod-1/batch, idle for a
// month. It is idempotent: every row is keyed by its natural unique key and
// never overwritten, so running it again (or after orders changed devices)
// changes nothing; on a later day it adds the snapshot days since.
func seedDemo(ctx context.Context) error {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	loc, err := cfg.Location()
	if err != nil {
		return err
	}
	if err := postgres.MigrateURL(ctx, cfg.DB.URL); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DB.URL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	var sum seedSummary
	err = postgres.InTx(ctx, db, func(tx pgx.Tx) error {
		var err error
		sum, err = seed(ctx, tx, time.Now().In(loc))
		return err
	})
	if err != nil {
		return fmt.Errorf("seed-demo: %w", err)
	}
	slog.Info("demo data loaded", "clusters", sum.clusters, "pools", sum.pools, "devices", sum.devices,
		"snapshot_days", sum.days, "strategies", sum.strategies)
	fmt.Printf(`
Demo data is in. With `+"`make run`"+` serving on :%[1]s, run the pipeline now instead of waiting for the %[2]q tick:

  curl -s -X POST http://localhost:%[1]s/api/v1/evaluations \
    -H 'Authorization: Bearer %[3]s' -H 'Content-Type: application/json' -d '{}'

(add "dryRun": true to see the decisions and devices without writing anything), then open
http://localhost:%[1]s — orders for bj-prod-1/general (entry) and sh-prod-1/batch (exit) are pending.
`, cfg.Port, cfg.Pipeline.Schedule, "dev-admin-token-local-only")
	return nil
}

type seedSummary struct{ clusters, pools, devices, days, strategies int }

type demoPool struct {
	cluster, name, poolType string
	minNodes                int
	nodes, cores            int
	memGiB                  int64
	cpuPct, memPct          func(daysAgo int) float64 // allocated, percent
}

// seed writes the demo rows through tx; now is in TIMEZONE.
func seed(ctx context.Context, tx pgx.Tx, now time.Time) (seedSummary, error) {
	var sum seedSummary
	s := &seeder{ctx: ctx, tx: tx}

	clusters := map[string]int64{}
	for _, c := range []struct{ name, display, region, zone, idc string }{
		{"bj-prod-1", "Beijing production 1", "cn-north", "a", "bj1"},
		{"sh-prod-1", "Shanghai production 1", "cn-east", "b", "sh1"},
	} {
		clusters[c.name] = s.id(`INSERT INTO clusters (name, display_name, region, zone, idc, labels, created_by, updated_by)
			VALUES ($1, $2, $3, $4, $5, '{"env":"prod"}', 'seed-demo', 'seed-demo')
			ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`, c.name, c.display, c.region, c.zone, c.idc)
		sum.clusters++
	}

	steady := func(v float64) func(int) float64 { return func(int) float64 { return v } }
	wave := func(base, amp float64, day int) float64 { return base + amp*math.Sin(float64(day)/2.3) }
	pools := []demoPool{
		// Hot for the last ten days: the entry strategy triggers.
		{"bj-prod-1", "general", "general", 2, 8, 32, 128,
			func(d int) float64 {
				if d <= 10 {
					return wave(89, 2.5, d)
				}
				return wave(66, 6, d)
			}, func(d int) float64 { return wave(70, 5, d) }},
		{"bj-prod-1", "gpu", "gpu", 1, 4, 64, 512, func(d int) float64 { return wave(55, 10, d) }, steady(60)},
		{"sh-prod-1", "general", "general", 2, 6, 32, 128, func(d int) float64 { return wave(62, 8, d) }, steady(58)},
		// Idle for a month: the exit strategy drains it down to min_nodes.
		{"sh-prod-1", "batch", "batch", 2, 6, 32, 128, func(d int) float64 { return wave(12, 2, d) }, steady(15)},
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for _, p := range pools {
		cid := clusters[p.cluster]
		pid := s.id(`INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector, node_labels, min_nodes, created_by, updated_by)
			VALUES ($1, $2, $3, 'pool=' || $2, jsonb_build_object('pool', $2::text), $4, 'seed-demo', 'seed-demo')
			ON CONFLICT (cluster_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id`, cid, p.name, p.poolType, p.minNodes)
		sum.pools++
		idc, zone := "bj1", "a"
		if p.cluster == "sh-prod-1" {
			idc, zone = "sh1", "b"
		}
		// The pool's nodes, as the collector would have registered them.
		for i := range p.nodes {
			host := fmt.Sprintf("%s-%s-%02d", p.cluster, p.name, i+1)
			used := int64(float64(p.cores*1000) * p.cpuPct(1) / 100 * (0.6 + 0.1*float64(i%5)))
			s.device(host, idc, zone, p.cores, p.memGiB, "in_pool", &cid, &pid, used, map[string]string{"pool": p.name}, nil)
			sum.devices++
		}
		cpuCap := int64(p.nodes*p.cores) * 1000
		memCap := int64(p.nodes) * p.memGiB << 30
		for d := 30; d >= 1; d-- {
			day := today.AddDate(0, 0, -d)
			captured := time.Date(day.Year(), day.Month(), day.Day(), 23, 0, 0, 0, now.Location())
			cpu := int64(float64(cpuCap) * p.cpuPct(d) / 100)
			mem := int64(float64(memCap) * p.memPct(d) / 100)
			cpuUse, memUse := cpu*7/10, mem*8/10
			s.exec(`INSERT INTO cluster_resource_snapshots (cluster_id, pool_id, captured_at, day, cpu_capacity, cpu_allocated, cpu_usage,
					mem_capacity, mem_allocated, mem_usage, node_count, source)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'seed-demo') ON CONFLICT (pool_id, captured_at) DO NOTHING`,
				cid, pid, captured, day, cpuCap, cpu, cpuUse, memCap, mem, memUse, p.nodes)
			s.exec(`INSERT INTO pool_daily_snapshots (pool_id, day, cluster_id, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
					mem_capacity, mem_allocated, mem_usage, node_count)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (pool_id, day) DO NOTHING`,
				pid, day, cid, captured, cpuCap, cpu, cpuUse, memCap, mem, memUse, p.nodes)
			sum.days++
		}
	}

	// Spare capacity: idle servers in both data centres, some GPU ones
	// tainted for dedicated AI workloads.
	spares := []struct {
		prefix, idc, zone string
		n, cores          int
		memGiB            int64
		labels            map[string]string
		taints            []map[string]string
	}{
		{"bj1-spare-std", "bj1", "a", 6, 48, 192, map[string]string{"rack-tier": "standard"}, nil},
		{"bj1-spare-big", "bj1", "a", 3, 96, 384, map[string]string{"rack-tier": "gold"}, nil},
		{"bj1-spare-small", "bj1", "a", 4, 16, 64, map[string]string{"rack-tier": "standard"}, nil},
		{"bj1-spare-gpu", "bj1", "a", 2, 64, 512, map[string]string{"gpu": "a100"},
			[]map[string]string{{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}}},
		{"sh1-spare-std", "sh1", "b", 4, 48, 192, map[string]string{"rack-tier": "standard"}, nil},
	}
	for _, sp := range spares {
		for i := range sp.n {
			s.device(fmt.Sprintf("%s-%02d", sp.prefix, i+1), sp.idc, sp.zone, sp.cores, sp.memGiB, "idle", nil, nil, 0, sp.labels, sp.taints)
			sum.devices++
		}
	}

	std := s.template("standard-x86", "x86_64 servers with at least 32 cores, no GPU taint",
		`{"logic":"AND","groups":[{"logic":"AND","blocks":[
			{"type":"device","key":"cpuArch","op":"eq","value":"x86_64"},
			{"type":"device","key":"cpuCores","op":"gte","value":"32"},
			{"type":"taint","key":"nvidia.com/gpu","op":"notExists"}]}]}`)
	gpu := s.template("gpu-a100", "A100 nodes (tainted for AI workloads)",
		`{"groups":[{"blocks":[{"type":"nodeLabel","key":"gpu","op":"eq","value":"a100"},
			{"type":"taint","key":"nvidia.com/gpu","op":"exists"}]}]}`)
	anyNode := s.template("any-node", "every node of the pool (exit ranks them by allocation)",
		`{"groups":[{"blocks":[{"type":"device","key":"cpuCores","op":"gte","value":"1"}]}]}`)
	s.policy("general-entry", "general", "pool_entry", std)
	s.policy("gpu-entry", "gpu", "pool_entry", gpu)
	s.policy("batch-exit", "batch", "pool_exit", anyNode)

	hot := s.id(`INSERT INTO elastic_scaling_strategies (name, description, threshold_trigger_action,
			cpu_threshold_value, cpu_threshold_type, cpu_target_value, memory_threshold_value, memory_threshold_type, memory_target_value,
			condition_logic, duration_minutes, cooldown_minutes, device_count, resource_types, selection_policy, created_by, updated_by)
		VALUES ('general-cpu-hot', 'Add capacity when CPU requests stay above 80% for 3 days', 'pool_entry',
			80, 'allocated', 65, 90, 'allocated', 75, 'OR', 4320, 1440, 4, 'general', 'random', 'seed-demo', 'seed-demo')
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`)
	idle := s.id(`INSERT INTO elastic_scaling_strategies (name, description, threshold_trigger_action,
			cpu_threshold_value, cpu_threshold_type, cpu_target_value, condition_logic, duration_minutes, cooldown_minutes,
			device_count, resource_types, created_by, updated_by)
		VALUES ('batch-idle', 'Return batch nodes when CPU requests stay under 20% for a week', 'pool_exit',
			20, 'allocated', 50, 'AND', 10080, 4320, 2, 'batch', 'seed-demo', 'seed-demo')
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`)
	sum.strategies = 2
	for _, link := range [][2]int64{{hot, clusters["bj-prod-1"]}, {hot, clusters["sh-prod-1"]}, {idle, clusters["sh-prod-1"]}} {
		s.exec("INSERT INTO strategy_clusters (strategy_id, cluster_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", link[0], link[1])
	}

	// The local sign-in user is on duty this week, so notifications land in its inbox.
	monday := today.AddDate(0, 0, -((int(today.Weekday()) + 6) % 7))
	s.exec(`INSERT INTO duty_roster (week_start, person, email, created_by, updated_by)
		VALUES ($1, 'dev-admin', 'dev-admin@example.com', 'seed-demo', 'seed-demo') ON CONFLICT DO NOTHING`, monday)
	return sum, s.err
}

// seeder runs statements until the first error, then does nothing.
type seeder struct {
	ctx context.Context
	tx  pgx.Tx
	err error
}

func (s *seeder) exec(sql string, args ...any) {
	if s.err != nil {
		return
	}
	if _, err := s.tx.Exec(s.ctx, sql, args...); err != nil {
		s.err = fmt.Errorf("%w\n%s", postgres.Translate(err), sql)
	}
}

func (s *seeder) id(sql string, args ...any) int64 {
	if s.err != nil {
		return 0
	}
	var id int64
	if err := s.tx.QueryRow(s.ctx, sql, args...).Scan(&id); err != nil {
		s.err = fmt.Errorf("%w\n%s", postgres.Translate(err), sql)
	}
	return id
}

func (s *seeder) device(host, idc, zone string, cores int, memGiB int64, status string, cluster, pool *int64, cpuUsed int64,
	labels map[string]string, taints []map[string]string) {
	if taints == nil {
		taints = []map[string]string{}
	}
	lb, _ := json.Marshal(labels)
	tb, _ := json.Marshal(taints)
	node := ""
	var nodeCPU, nodeMem *int64
	if status == "in_pool" {
		node = host
		mem := memGiB << 30 / 2
		nodeCPU, nodeMem = &cpuUsed, &mem
	}
	s.exec(`INSERT INTO devices (hostname, ip, serial, cpu_arch, cpu_cores, memory_bytes, disk_bytes, idc, zone, rack, status,
			cluster_id, pool_id, node_name, labels, taints, node_cpu_allocated, node_mem_allocated, gpu_count, created_by, updated_by)
		VALUES ($1, '10.' || (abs(hashtext($1)) % 250)::text || '.' || (abs(hashtext($1 || 'x')) % 250)::text || '.10',
			'SN-' || upper(substr(md5($1), 1, 10)), 'x86_64', $2, $3, 3840000000000, $4, $5, $4 || '-r' || (abs(hashtext($1)) % 8)::text,
			$6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13,
			CASE WHEN $10::jsonb ? 'gpu' THEN 8 ELSE 0 END, 'seed-demo', 'seed-demo')
		ON CONFLICT (hostname) DO NOTHING`,
		host, cores, memGiB<<30, idc, zone, status, cluster, pool, node, string(lb), string(tb), nodeCPU, nodeMem)
}

func (s *seeder) template(name, description, groups string) int64 {
	return s.id(`INSERT INTO query_templates (name, description, groups, created_by, updated_by)
		VALUES ($1, $2, $3::jsonb, 'seed-demo', 'seed-demo')
		ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`, name, description, groups)
}

func (s *seeder) policy(name, poolType, action string, template int64) {
	// Skip when the pool type already has an enabled policy for the action
	// (someone made their own): one enabled policy per (type, action).
	s.exec(`INSERT INTO resource_pool_device_matching_policies (name, resource_pool_type, action_type, query_template_id, created_by, updated_by)
		SELECT $1, $2, $3, $4, 'seed-demo', 'seed-demo'
		WHERE NOT EXISTS (SELECT 1 FROM resource_pool_device_matching_policies
			WHERE resource_pool_type = $2 AND action_type = $3 AND status = 'enabled')
		ON CONFLICT (name) DO NOTHING`, name, poolType, action, template)
}
