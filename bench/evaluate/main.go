// Command evaluate benchmarks the daily evaluation (DESIGN.md §10, issue 4):
// one strategy over 10,000 cluster+pools with 30 days of daily snapshots
// (300,000 pool_daily_snapshots rows). It times the strategy's read+decide
// — what the evaluate function does before writing history: strategy, scope,
// newest orders, the window's snapshots (set-based, one query each) and
// shared/scaling on every pool — against the floor, a bare COPY of the same
// rows to the client (what `\copy … to /dev/null` measures), interleaved so
// both see the same machine load. It prints a Markdown report.
//
//	go run ./bench/evaluate             # load once, then time
//	go run ./bench/evaluate -reload     # regenerate the data
//
// It uses its own database (BENCH_EVALUATE_DATABASE_URL, default
// elasticpool_bench_evaluate on the local server), created and migrated when
// needed, and keeps the data between runs. It is a command, so plain
// `go test ./...` never runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/bench/internal/benchenv"
	"github.com/elasticpool/elasticpool/shared/pipeline"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/elasticpool_bench_evaluate?sslmode=disable"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "evaluate bench:", err)
		os.Exit(1)
	}
}

type options struct {
	url              string
	clusters, pools  int // pools per cluster
	days             int
	orders           int
	iterations, warm int
	reload           bool
	write            int
	cpuprofile       string
}

// The data's calendar: snapshots for the 30 days before T.
var (
	loc = time.UTC
	T   = time.Date(2026, 11, 29, 6, 0, 0, 0, loc)
)

const strategyName = "bench-10k"

func run(ctx context.Context, args []string, out, log io.Writer) error {
	var o options
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.StringVar(&o.url, "db", benchenv.EnvOr("BENCH_EVALUATE_DATABASE_URL", defaultURL), "benchmark database (created if missing)")
	fs.IntVar(&o.clusters, "clusters", 100, "clusters")
	fs.IntVar(&o.pools, "pools", 100, "pools per cluster")
	fs.IntVar(&o.days, "days", 30, "days of snapshots (and the strategy's window)")
	fs.IntVar(&o.orders, "orders", 20000, "past orders spread over the pools (cooldown reads the newest per pool)")
	fs.IntVar(&o.iterations, "n", 15, "timed runs of each variant")
	fs.IntVar(&o.warm, "warm", 3, "untimed warm-up runs of each variant")
	fs.IntVar(&o.write, "write", 3, "timed full runs that also write the 10,000 history rows (informational)")
	fs.BoolVar(&o.reload, "reload", false, "regenerate the data even if present")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the timed runs to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logf := func(f string, a ...any) { fmt.Fprintf(log, f+"\n", a...) }
	if err := benchenv.EnsureDatabase(ctx, o.url); err != nil {
		return err
	}
	if err := postgres.MigrateURL(ctx, o.url); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, o.url, 4)
	if err != nil {
		return err
	}
	defer db.Close()

	strategyID, err := load(ctx, db, o, logf)
	if err != nil {
		return err
	}
	s, err := pipeline.LoadStrategy(ctx, db, strategyID)
	if err != nil {
		return err
	}
	eval := &pipeline.Evaluator{DB: db, Location: loc, Now: func() time.Time { return T }}
	today := scaling.DateOf(T.In(loc))
	from, to := today.AddDays(-s.RequiredDays()), today.AddDays(-1)

	scope, err := scopeOf(ctx, db, strategyID)
	if err != nil {
		return err
	}

	// The floor: the same rows, same columns, streamed by COPY and discarded.
	copySQL := fmt.Sprintf(`COPY (SELECT pool_id, day, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
			mem_capacity, mem_allocated, mem_usage, node_count
		FROM pool_daily_snapshots WHERE pool_id IN (SELECT p.id FROM strategy_clusters sc JOIN resource_pools p ON p.cluster_id = sc.cluster_id
			WHERE sc.strategy_id = %d) AND day BETWEEN '%s' AND '%s') TO STDOUT`, strategyID, from, to)
	var copied int64
	floor := func() error {
		c, err := db.Acquire(ctx)
		if err != nil {
			return err
		}
		defer c.Release()
		tag, err := c.Conn().PgConn().CopyTo(ctx, io.Discard, copySQL)
		copied = tag.RowsAffected()
		return err
	}
	var decisions, triggered int
	engine := func() error {
		r, err := eval.Evaluate(ctx, strategyID, T, pipeline.EvalOptions{DryRun: true})
		if err != nil {
			return err
		}
		decisions, triggered = len(r.Decisions), 0
		for _, d := range r.Decisions {
			if d.Result == string(scaling.ResultTriggered) {
				triggered++
			}
		}
		return nil
	}
	var read int
	readOnly := func() error {
		in, err := pipeline.ReadInputs(ctx, db, s.Strategy, scope, T, loc)
		read = len(in)
		return err
	}

	// Attribution, on the inputs read once: the whole CPU half of the
	// evaluation (pipeline.Decide: shared/scaling and the history rows'
	// fields, on every core, as the engine runs it), and shared/scaling
	// alone on one core, reusing its buffers as Decide does.
	inputs, err := pipeline.ReadInputs(ctx, db, s.Strategy, scope, T, loc)
	if err != nil {
		return err
	}
	decideOnly := func() error {
		pipeline.Decide(s.Strategy, scope, inputs, T, loc)
		return nil
	}
	pure := func() error {
		var buf scaling.Buffers
		for i := range inputs {
			if _, err := buf.Evaluate(inputs[i]); err != nil {
				return err
			}
		}
		return nil
	}

	variants := []struct {
		name string
		fn   func() error
		d    []time.Duration
	}{
		{name: "floor: COPY of the same rows to the client", fn: floor},
		{name: "engine: read (orders + snapshots into scaling inputs)", fn: readOnly},
		{name: "engine: read + decide (Evaluate, dry run)", fn: engine},
		{name: "attribution: pipeline.Decide × 10,000 in memory (all cores)", fn: decideOnly},
		{name: "attribution: scaling.Evaluate × 10,000 in memory, one core", fn: pure},
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for i := 0; i < o.warm+o.iterations; i++ {
		for v := range variants {
			runtime.GC()
			start := time.Now()
			if err := variants[v].fn(); err != nil {
				return fmt.Errorf("%s: %w", variants[v].name, err)
			}
			if i >= o.warm {
				variants[v].d = append(variants[v].d, time.Since(start))
			}
		}
	}

	// Informational: the whole evaluation including the 10,000 history rows,
	// each at its own T (so nothing is reused), removed afterwards.
	var writes []time.Duration
	for i := range o.write {
		at := T.Add(time.Duration(i+1) * time.Second)
		start := time.Now()
		if _, err := eval.Evaluate(ctx, strategyID, at, pipeline.EvalOptions{}); err != nil {
			return fmt.Errorf("full run: %w", err)
		}
		writes = append(writes, time.Since(start))
		if _, err := db.Exec(ctx, "DELETE FROM strategy_execution_history WHERE strategy_id = $1", strategyID); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "### Daily evaluation: %d cluster+pools × %d days (%d snapshot rows)\n\n", len(scope), o.days, copied)
	fmt.Fprintf(out, "%s, GOMAXPROCS %d, load average %s, %d timed runs each (after %d warm-up), interleaved.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOMAXPROCS(0), benchenv.LoadAvg(), o.iterations, o.warm)
	fmt.Fprintf(out, "| variant | p50 | p90 | min | × floor (p50) | × floor (min) |\n|---|---|---|---|---|---|\n")
	base, baseMin := median(variants[0].d), slices.Min(variants[0].d)
	for _, v := range variants {
		fmt.Fprintf(out, "| %s | %s | %s | %s | %.2f× | %.2f× |\n", v.name, ms(median(v.d)), ms(pct(v.d, 0.9)), ms(slices.Min(v.d)),
			float64(median(v.d))/float64(base), float64(slices.Min(v.d))/float64(baseMin))
	}
	if len(writes) > 0 {
		fmt.Fprintf(out, "| full run incl. writing %d history rows (informational) | %s | %s | %s | %.2f× | %.2f× |\n",
			decisions, ms(median(writes)), ms(pct(writes, 0.9)), ms(slices.Min(writes)),
			float64(median(writes))/float64(base), float64(slices.Min(writes))/float64(baseMin))
	}
	fmt.Fprintf(out, "\n%d pools decided (%d triggered), %d inputs read. Bar: read + decide ≤ 1.5× the floor.\n", decisions, triggered, read)
	return nil
}

// scopeOf returns the strategy's cluster+pools, for timing the read alone.
func scopeOf(ctx context.Context, db *pgxpool.Pool, strategyID int64) ([]pipeline.Target, error) {
	rows, err := db.Query(ctx, `SELECT p.cluster_id, p.id FROM strategy_clusters sc JOIN resource_pools p ON p.cluster_id = sc.cluster_id
		WHERE sc.strategy_id = $1 ORDER BY p.cluster_id, p.id`, strategyID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (pipeline.Target, error) {
		var t pipeline.Target
		return t, r.Scan(&t.ClusterID, &t.PoolID)
	})
}

// load generates the data unless a previous run left it. Pools alternate
// between hot (a met streak), cool and gappy, so the decisions are varied.
func load(ctx context.Context, db *pgxpool.Pool, o options, logf func(string, ...any)) (int64, error) {
	var id int64
	var n int
	err := db.QueryRow(ctx, `SELECT s.id, (SELECT count(*) FROM pool_daily_snapshots)
		FROM elastic_scaling_strategies s WHERE s.name = $1`, strategyName).Scan(&id, &n)
	want := o.clusters * o.pools * o.days
	if err == nil && n >= want*9/10 && !o.reload {
		logf("reusing the loaded data (strategy %d, %d snapshot rows); -reload regenerates it", id, n)
		return id, nil
	}
	logf("loading %d clusters × %d pools × %d days …", o.clusters, o.pools, o.days)
	start := time.Now()
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		for _, sql := range []string{
			`TRUNCATE strategy_execution_history, order_devices, elastic_scaling_orders, strategy_clusters,
				elastic_scaling_strategies, pool_daily_snapshots, cluster_resource_snapshots, resource_pools, clusters CASCADE`,
			fmt.Sprintf(`INSERT INTO clusters (name, idc) SELECT 'bench-' || g, 'dc' || (g %% 4) FROM generate_series(1, %d) g`, o.clusters),
			fmt.Sprintf(`INSERT INTO resource_pools (cluster_id, name, pool_type)
				SELECT c.id, 'pool-' || g, 'general' FROM clusters c, generate_series(1, %d) g`, o.pools),
			// 30 days per pool; pool id parity/shape picks its profile: hot
			// (> 80%% allocated all along), cool (50%%), or hot with a gap.
			fmt.Sprintf(`INSERT INTO pool_daily_snapshots (pool_id, day, cluster_id, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
					mem_capacity, mem_allocated, mem_usage, node_count)
				SELECT p.id, d::date, p.cluster_id, d + interval '23 hours', 320000,
					CASE WHEN p.id %% 3 = 0 THEN 288000 WHEN p.id %% 3 = 1 THEN 160000
					     ELSE CASE WHEN extract(day FROM d)::int %% 7 = 0 THEN 100000 ELSE 290000 END END,
					150000, 1374389534720, 824633720832, 700000000000, 10
				FROM resource_pools p, generate_series('%s'::date - %d, '%s'::date - 1, interval '1 day') d`,
				T.Format(time.DateOnly), o.days, T.Format(time.DateOnly)),
			// Past orders, all older than the cooldown, so cooldown reads them without triggering.
			fmt.Sprintf(`INSERT INTO elastic_scaling_orders (order_number, cluster_id, pool_id, action_type, status, device_count, created_at)
				SELECT 'BENCH-' || g, p.cluster_id, p.id, 'pool_entry', 'completed', 1, '%s'::timestamptz - (g %% 300 + 40) * interval '1 day'
				FROM generate_series(1, %d) g JOIN resource_pools p ON p.id = (SELECT min(id) FROM resource_pools) + (g * 7919) %% %d`,
				T.Format(time.RFC3339), o.orders, o.clusters*o.pools),
			fmt.Sprintf(`INSERT INTO elastic_scaling_strategies (name, threshold_trigger_action, cpu_threshold_value, cpu_threshold_type,
					cpu_target_value, duration_minutes, cooldown_minutes, resource_types)
				VALUES ('%s', 'pool_entry', 80, 'allocated', 60, %d, 1440, 'general')`, strategyName, o.days*1440),
			fmt.Sprintf(`INSERT INTO strategy_clusters (strategy_id, cluster_id)
				SELECT s.id, c.id FROM elastic_scaling_strategies s, clusters c WHERE s.name = '%s'`, strategyName),
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%w\n%s", err, sql)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if _, err := db.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return 0, err
	}
	logf("loaded in %s", time.Since(start).Round(time.Millisecond))
	err = db.QueryRow(ctx, "SELECT id FROM elastic_scaling_strategies WHERE name = $1", strategyName).Scan(&id)
	return id, err
}

func median(d []time.Duration) time.Duration { return pct(d, 0.5) }

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p+0.5)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
