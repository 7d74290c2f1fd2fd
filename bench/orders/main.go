// Command orders benchmarks the order API at scale (DESIGN.md §10):
//
//   - the order list over HTTP with 1,000,000 orders loaded by COPY into a
//     fresh database: p50/p99 of a filtered page (status + sort -createdAt,
//     limit 50) and of its page 2 (cursor); target p99 < 10 ms;
//   - POST of a manual order with 2 concurrent clients, against the floor of
//     single-row INSERTs with 2 clients measured in the same run; target ≥ 50%.
//
// It is a program, not a test, so `go test ./...` never runs it:
//
//	go run ./bench/orders                # make bench-orders
//	go run ./bench/orders -orders 100000 -duration 5s
//
// It creates its own database on PGTEST_ADMIN_URL (default the local server)
// and drops it at the end unless -keep is given. Results go to stdout as
// Markdown; docs/benchmarks.md records them.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/bench/internal/benchenv"
	"github.com/elasticpool/elasticpool/functions/orders"
	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

const token = "bench-token"

func main() {
	var (
		n        = flag.Int("orders", 1_000_000, "orders to load")
		requests = flag.Int("requests", 2000, "measured requests per list case")
		duration = flag.Duration("duration", 10*time.Second, "duration of each write-throughput run")
		clients  = flag.Int("clients", 2, "concurrent writers")
		keep     = flag.Bool("keep", false, "keep the database (prints its URL)")
		explain  = flag.Bool("explain", false, "print the plan of each list query")
		reuse    = flag.String("reuse", "", "measure on this database kept by an earlier -keep run (skips the load)")
		only     = flag.String("only", "", "run only the list cases whose name contains this (and no write benchmark)")
		cpuprof  = flag.String("cpuprofile", "", "write a CPU profile of the whole run (client and server) here")
	)
	flag.Parse()
	log.SetFlags(0)
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(context.Background(), *n, *requests, *duration, *clients, *keep, *explain, *reuse, *only); err != nil {
		pprof.StopCPUProfile()
		log.Fatal(err)
	}
}

func adminURL() string {
	if u := os.Getenv("PGTEST_ADMIN_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func withDB(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func run(ctx context.Context, n, requests int, duration time.Duration, clients int, keep, explain bool, reuse, only string) error {
	name := fmt.Sprintf("ep_bench_orders_%d", time.Now().Unix())
	if reuse != "" {
		name, keep = reuse, true
	}
	admin, err := pgx.Connect(ctx, adminURL())
	if err != nil {
		return fmt.Errorf("connect (is Postgres running? make services): %w", err)
	}
	defer admin.Close(context.Background())
	if reuse == "" {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return err
		}
	}
	dbURL := withDB(adminURL(), name)
	if !keep {
		defer func() {
			if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				log.Printf("drop %s: %v", name, err)
			}
		}()
	} else {
		defer log.Printf("kept database: %s", dbURL)
	}
	if reuse == "" {
		if err := postgres.MigrateURL(ctx, dbURL); err != nil {
			return err
		}
	}
	db, err := postgres.Open(ctx, dbURL, 8)
	if err != nil {
		return err
	}
	defer db.Close()

	var pgVersion string
	_ = db.QueryRow(ctx, "SHOW server_version").Scan(&pgVersion)
	fmt.Printf("# orders benchmark — %s, Go %s, %d CPUs, Postgres %s, load average %s\n\n",
		time.Now().Format("2006-01-02"), runtime.Version(), runtime.NumCPU(), pgVersion, benchenv.LoadAvg())

	var pools []poolRef
	if reuse == "" {
		if pools, err = seed(ctx, db); err != nil {
			return err
		}
		start := time.Now()
		if err := loadOrders(ctx, db, pools, n); err != nil {
			return err
		}
		load := time.Since(start)
		start = time.Now()
		if _, err := db.Exec(ctx, "VACUUM ANALYZE elastic_scaling_orders"); err != nil {
			return err
		}
		fmt.Printf("Loaded %d orders with COPY in %s (VACUUM ANALYZE %s).\n\n", n, load.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	} else {
		if pools, err = poolsOf(ctx, db); err != nil {
			return err
		}
		var count int
		_ = db.QueryRow(ctx, "SELECT count(*) FROM elastic_scaling_orders").Scan(&count)
		fmt.Printf("Reusing %s: %d orders.\n\n", name, count)
	}

	authn, err := auth.New(token+"=bench:operator", "", "")
	if err != nil {
		return err
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	fn := orders.New(orders.Deps{DB: db, Auth: authn, Location: loc})
	srv := httptest.NewServer(fn.Routes())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 30 * time.Second}

	if err := benchList(ctx, db, client, srv.URL, pools[0], requests, explain, only); err != nil {
		return err
	}
	if only != "" {
		return nil
	}
	return benchCreate(ctx, db, client, srv.URL, pools, duration, clients)
}

type poolRef struct{ cluster, pool int64 }

// seed creates 100 clusters × 4 pools and 20 strategies.
func seed(ctx context.Context, db *pgxpool.Pool) ([]poolRef, error) {
	_, err := db.Exec(ctx, `
		INSERT INTO clusters (name, idc) SELECT 'c' || i, 'idc' || (i % 5) FROM generate_series(1, 100) i;
		INSERT INTO resource_pools (cluster_id, name, pool_type)
			SELECT c.id, t, t FROM clusters c, unnest(ARRAY['general', 'gpu', 'highmem', 'batch']) t;
		INSERT INTO elastic_scaling_strategies (name, threshold_trigger_action, cpu_threshold_value, cpu_threshold_type,
			cpu_target_value, duration_minutes)
			SELECT 's' || i, CASE WHEN i % 2 = 0 THEN 'pool_entry' ELSE 'pool_exit' END,
				CASE WHEN i % 2 = 0 THEN 80 ELSE 20 END, 'allocated', CASE WHEN i % 2 = 0 THEN 70 ELSE 30 END, 1440
			FROM generate_series(1, 20) i`)
	if err != nil {
		return nil, err
	}
	return poolsOf(ctx, db)
}

func poolsOf(ctx context.Context, db *pgxpool.Pool) ([]poolRef, error) {
	rows, err := db.Query(ctx, "SELECT cluster_id, id FROM resource_pools ORDER BY id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (poolRef, error) {
		var p poolRef
		err := r.Scan(&p.cluster, &p.pool)
		return p, err
	})
}

// orderSource generates orders oldest first over the last two years, ids
// rising with created_at as in production; most are closed.
type orderSource struct {
	i, n     int
	pools    []poolRef
	strategy []int64
	rng      *rand.Rand
	t0       time.Time
	step     time.Duration
}

func (s *orderSource) Next() bool { s.i++; return s.i <= s.n }
func (s *orderSource) Err() error { return nil }
func (s *orderSource) Values() ([]any, error) {
	p := s.pools[s.rng.IntN(len(s.pools))]
	created := s.t0.Add(time.Duration(s.i)*s.step + time.Duration(s.rng.IntN(int(s.step))))
	var status string
	switch r := s.rng.IntN(1000); {
	case r < 20:
		status = "pending"
	case r < 30:
		status = "processing"
	case r < 35:
		status = "failed"
	case r < 130:
		status = "cancelled"
	case r < 250:
		status = "ignored"
	default:
		status = "completed"
	}
	action := "pool_entry"
	if s.rng.IntN(3) == 0 {
		action = "pool_exit"
	}
	var strategy *int64
	if s.rng.IntN(10) < 7 {
		strategy = &s.strategy[s.rng.IntN(len(s.strategy))]
	}
	updated := created.Add(time.Duration(s.rng.IntN(72)) * time.Hour)
	var exec, done *time.Time
	executor := ""
	if status != "pending" {
		exec, executor = &updated, "bench"
	}
	if status != "pending" && status != "processing" {
		done = &updated
	}
	return []any{fmt.Sprintf("EP-%s-%06d", created.Format("20060102"), s.i), p.cluster, p.pool, strategy, action, status,
		1 + s.rng.IntN(8), "bench", "bench", executor, exec, done, created, updated}, nil
}

func loadOrders(ctx context.Context, db *pgxpool.Pool, pools []poolRef, n int) error {
	var strategies []int64
	rows, err := db.Query(ctx, "SELECT id FROM elastic_scaling_strategies")
	if err != nil {
		return err
	}
	if strategies, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return err
	}
	span := 730 * 24 * time.Hour
	src := &orderSource{n: n, pools: pools, strategy: strategies, rng: rand.New(rand.NewPCG(1, 2)),
		t0: time.Now().Add(-span), step: span / time.Duration(n)}
	_, err = db.CopyFrom(ctx, pgx.Identifier{"elastic_scaling_orders"}, []string{"order_number", "cluster_id", "pool_id", "strategy_id",
		"action_type", "status", "device_count", "reason", "created_by", "executor", "execution_time", "completion_time", "created_at", "updated_at"}, src)
	if err != nil {
		return err
	}
	// new orders number after the loaded ones
	_, err = db.Exec(ctx, "SELECT setval('order_number_seq', $1)", n+1)
	return err
}

func get(client *http.Client, u string) ([]byte, time.Duration, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(start)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", u, res.StatusCode, body)
	}
	return body, d, err
}

func pct(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	i := int(float64(len(ds)-1) * p)
	return ds[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func benchList(ctx context.Context, db *pgxpool.Pool, client *http.Client, base string, p poolRef, requests int, explain bool, only string) error {
	cases := []struct{ name, query string }{
		{"status=pending, sort -createdAt, limit 50", "status=pending&sort=-createdAt&limit=50"},
		{"status=pending+processing+failed, sort -createdAt, limit 50", "status=pending&status=processing&status=failed&sort=-createdAt&limit=50"},
		{"status=completed, sort -updatedAt, limit 50", "status=completed&sort=-updatedAt&limit=50"},
		{"no filter, sort -createdAt, limit 50", "sort=-createdAt&limit=50"},
		{"clusterId+poolId+status=completed, limit 50", fmt.Sprintf("clusterId=%d&poolId=%d&status=completed&limit=50", p.cluster, p.pool)},
		{"q=order-number substring, limit 50", "q=-00012&limit=50"},
	}
	fmt.Println("## Order list over HTTP (1 client, keep-alive, loopback; latency = full request)")
	fmt.Println()
	fmt.Printf("%d measured requests per row after 200 warm-up requests.\n\n", requests)
	fmt.Println("| query | page | items | p50 | p99 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, c := range cases {
		if !strings.Contains(c.name, only) {
			continue
		}
		u := base + "/api/v1/elastic-scaling/orders?" + c.query
		body, _, err := get(client, u)
		if err != nil {
			return err
		}
		var first struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(body, &first); err != nil {
			return err
		}
		pages := []struct {
			label, url string
			items      int
		}{{"1", u, len(first.Items)}}
		if first.NextCursor != "" {
			u2 := u + "&cursor=" + url.QueryEscape(first.NextCursor)
			body, _, err := get(client, u2)
			if err != nil {
				return err
			}
			var second struct {
				Items []json.RawMessage `json:"items"`
			}
			_ = json.Unmarshal(body, &second)
			pages = append(pages, struct {
				label, url string
				items      int
			}{"2 (cursor)", u2, len(second.Items)})
		}
		for _, pg := range pages {
			for i := 0; i < 200; i++ {
				if _, _, err := get(client, pg.url); err != nil {
					return err
				}
			}
			ds := make([]time.Duration, 0, requests)
			failed := 0
			for i := 0; i < requests; i++ {
				_, d, err := get(client, pg.url)
				if err != nil {
					// a stalled request on a shared machine is reported, not fatal
					log.Printf("%s: %v", c.name, err)
					failed++
					continue
				}
				ds = append(ds, d)
			}
			note := ""
			if failed > 0 {
				note = fmt.Sprintf(" (%d failed)", failed)
			}
			fmt.Printf("| %s | %s | %d | %s | %s | %s%s |\n", c.name, pg.label, pg.items, ms(pct(ds, 0.5)), ms(pct(ds, 0.99)), ms(pct(ds, 1)), note)
		}
	}
	fmt.Println()
	if explain {
		rows, err := db.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM elastic_scaling_orders WHERE status = 'pending' ORDER BY created_at DESC, id DESC LIMIT 51`)
		if err == nil {
			lines, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			for _, l := range lines {
				fmt.Println("    " + l)
			}
		}
	}
	return nil
}

// throughput runs clients workers for d, each calling op in a loop.
func throughput(clients int, d time.Duration, op func(worker, i int) error) (int64, time.Duration, []time.Duration, error) {
	var (
		done  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		lat   []time.Duration
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; time.Now().Before(deadline); i++ {
				t := time.Now()
				if err := op(w, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t))
				done.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return done.Load(), time.Since(start), lat, first
}

// writeRun is one write workload measured in slices.
type writeRun struct {
	name string
	op   func(w, i int) error
	n    int64
	t    time.Duration
	lat  []time.Duration
}

func benchCreate(ctx context.Context, db *pgxpool.Pool, client *http.Client, base string, pools []poolRef, d time.Duration, clients int) error {
	if _, err := db.Exec(ctx, "CREATE TABLE IF NOT EXISTS bench_floor (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL DEFAULT now())"); err != nil {
		return err
	}
	post := func(body []byte) error {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/elastic-scaling/orders", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			return errors.New(string(b))
		}
		return nil
	}
	runs := []*writeRun{
		// The floor: single-row autocommit INSERTs from the same number of
		// clients, on this machine, interleaved with the others.
		{name: "floor: single-row INSERT (pgx, autocommit)", op: func(w, i int) error {
			_, err := db.Exec(ctx, "INSERT INTO bench_floor (v) VALUES ($1)", fmt.Sprintf("w%d-%d", w, i))
			return err
		}},
		{name: "POST manual order over HTTP (order + audit row, one statement)", op: func(w, i int) error {
			p := pools[(w*7919+i)%len(pools)]
			body, _ := json.Marshal(map[string]any{"actionType": "pool_entry", "clusterId": p.cluster, "poolId": p.pool, "deviceCount": 2, "reason": "bench"})
			return post(body)
		}},
		{name: "attribution: the same write through the store, no HTTP", op: func(w, i int) error {
			p := pools[(w*7919+i)%len(pools)]
			_, _, err := postgres.CreateOrderInPool(ctx, db, postgres.NewOrder{ActionType: "pool_entry", ClusterID: &p.cluster,
				PoolID: &p.pool, DeviceCount: 2, Reason: "bench", CreatedBy: "bench"})
			return err
		}},
	}
	// Slices of each run alternate, so a change of load on the shared machine
	// (other databases' commits share the WAL fsync) hits all runs alike.
	const slices = 6
	for s := 0; s < slices; s++ {
		for _, r := range runs {
			n, t, lat, err := throughput(clients, d/slices, r.op)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			r.n, r.t, r.lat = r.n+n, r.t+t, append(r.lat, lat...)
		}
	}
	tps := func(r *writeRun) float64 { return float64(r.n) / r.t.Seconds() }
	fmt.Printf("## POST /api/v1/elastic-scaling/orders (manual order, %d concurrent clients, %s per run in %d interleaved slices, synchronous_commit on)\n\n", clients, d, slices)
	fmt.Println("| run | requests | TPS | p50 | p99 |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range runs {
		fmt.Printf("| %s | %d | %.0f | %s | %s |\n", r.name, r.n, tps(r), ms(pct(r.lat, 0.5)), ms(pct(r.lat, 0.99)))
	}
	fmt.Printf("\nPOST throughput = **%.0f%%** of the floor measured in the same run (target ≥ 50%%). Load average after: %s.\n", 100*tps(runs[1])/tps(runs[0]), benchenv.LoadAvg())
	return nil
}
