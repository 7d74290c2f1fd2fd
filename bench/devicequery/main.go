// Command devicequery benchmarks the device query engine on 1,000,000
// generated devices (DESIGN.md §10, issue 3): each typical template as the
// matching pipeline runs it (idle + idc + template, not held by an open
// order, LIMIT) and as the UI's live preview (capped count + sample), next
// to the same SQL hand-written with literals (the floor), interleaved so
// that both see the same machine load. It prints a Markdown report.
//
//	go run ./bench/devicequery            # make bench-devicequery
//	go run ./bench/devicequery -reload    # regenerate the devices
//
// It uses its own database (BENCH_DATABASE_URL, default elasticpool_bench
// on the local server), creating and migrating it when needed, and keeps
// the devices between runs.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/bench/internal/benchenv"
	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/devicequery/pgquery"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/elasticpool_bench?sslmode=disable"

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "devicequery bench:", err)
		os.Exit(1)
	}
}

type options struct {
	url        string
	devices    int
	iterations int
	limit      int
	reload     bool
	explain    bool
	only       string
}

func run(ctx context.Context, args []string, out, log io.Writer) error {
	var o options
	fs := flag.NewFlagSet("devicequery", flag.ContinueOnError)
	fs.StringVar(&o.url, "db", benchenv.EnvOr("BENCH_DATABASE_URL", defaultURL), "benchmark database (created if missing)")
	fs.IntVar(&o.devices, "devices", 1000000, "devices to generate")
	fs.IntVar(&o.iterations, "n", 200, "timed runs per query and variant")
	fs.IntVar(&o.limit, "limit", 100, "LIMIT of the pipeline query")
	fs.BoolVar(&o.reload, "reload", false, "regenerate the devices even if the count matches")
	fs.BoolVar(&o.explain, "explain", true, "append EXPLAIN ANALYZE of the GIN cases")
	fs.StringVar(&o.only, "only", "", "run only the cases whose name contains this")
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
	db, err := postgres.Open(ctx, o.url, 2)
	if err != nil {
		return err
	}
	defer db.Close()

	var have int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM devices").Scan(&have); err != nil {
		return err
	}
	if have != o.devices || o.reload {
		logf("loading %d devices (have %d)…", o.devices, have)
		if err := load(ctx, db, o.devices, 20261129, logf); err != nil {
			return err
		}
	}
	// Warm the cache: heap and both GIN indexes, as a long-running server has them.
	for _, q := range []string{
		"SELECT count(*) FROM devices WHERE labels::text <> '' AND taints::text <> ''",
		`SELECT count(*) FROM devices WHERE labels @> '{"kubernetes.io/os":"linux"}'`,
		`SELECT count(*) FROM devices WHERE taints @> '[{"key":"dedicated"}]' OR taints @> '[{"key":"example.com/degraded"}]'`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			return err
		}
	}

	rep := &report{opts: o, loadBefore: benchenv.LoadAvg(), started: time.Now()}
	if err := db.QueryRow(ctx, "SELECT version(), current_setting('shared_buffers'), current_setting('work_mem'), current_setting('max_parallel_workers_per_gather'), current_setting('jit'), current_setting('random_page_cost')").
		Scan(&rep.version, &rep.sharedBuffers, &rep.workMem, &rep.parallel, &rep.jit, &rep.randomPageCost); err != nil {
		return err
	}
	cases, err := benchCases()
	if err != nil {
		return err
	}
	for _, c := range cases {
		if o.only != "" && !strings.Contains(c.name, o.only) {
			continue
		}
		logf("case %s…", c.name)
		r, err := measure(ctx, db, c, o)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		rep.results = append(rep.results, r)
	}
	rep.loadAfter = benchenv.LoadAvg()
	rep.elapsed = time.Since(rep.started)
	if o.explain {
		if rep.explains, err = explains(ctx, db, cases, o); err != nil {
			return err
		}
	}
	rep.write(out)
	return nil
}

// benchCase is a typical template and the same condition hand-written.
type benchCase struct {
	name string
	tmpl devicequery.Template
	// lit is the template's condition over devices d with literal values,
	// written as a person would (the floor).
	lit string
}

func benchCases() ([]benchCase, error) {
	raw := []struct{ name, json, lit string }{
		{"label equality", `{"groups":[{"blocks":[{"type":"nodeLabel","key":"team","op":"eq","value":"maps"}]}]}`,
			`d.labels @> '{"team":"maps"}'`},
		{"label exists", `{"groups":[{"blocks":[{"type":"nodeLabel","key":"gpu","op":"exists"}]}]}`,
			`d.labels ? 'gpu'`},
		{"rare label", `{"groups":[{"blocks":[{"type":"nodeLabel","key":"example.com/canary","op":"eq","value":"true"}]}]}`,
			`d.labels @> '{"example.com/canary":"true"}'`},
		{"rare, no index", `{"groups":[{"blocks":[{"type":"device","key":"rack","op":"in","value":"bj1-r007,sh1-r042"}]}]}`,
			`d.rack = ANY(ARRAY['bj1-r007','sh1-r042'])`},
		{"taint", `{"groups":[{"blocks":[{"type":"taint","key":"dedicated","op":"eq","value":"ai:NoSchedule"}]}]}`,
			`d.taints @> '[{"key":"dedicated","value":"ai","effect":"NoSchedule"}]'`},
		{"numeric range", `{"groups":[{"blocks":[{"type":"device","key":"memoryBytes","op":"gte","value":"384Gi"},{"type":"device","key":"memoryBytes","op":"lte","value":"1Ti"},{"type":"device","key":"cpuCores","op":"gte","value":"96"}]}]}`,
			`d.memory_bytes >= 412316860416 AND d.memory_bytes <= 1099511627776 AND d.cpu_cores >= 96`},
		{"OR of groups", `{"logic":"OR","groups":[
			{"blocks":[{"type":"nodeLabel","key":"gpu","op":"exists"},{"type":"taint","key":"dedicated","op":"eq","value":"ai:NoSchedule"}]},
			{"blocks":[{"type":"nodeLabel","key":"node.kubernetes.io/instance-type","op":"in","value":"highmem-96c,arm-128c"}]},
			{"blocks":[{"type":"nodeLabel","key":"team","op":"eq","value":"ml-infra"}]}]}`,
			`((d.labels ? 'gpu' AND d.taints @> '[{"key":"dedicated","value":"ai","effect":"NoSchedule"}]')` +
				` OR d.labels @> ANY(ARRAY['{"node.kubernetes.io/instance-type":"highmem-96c"}','{"node.kubernetes.io/instance-type":"arm-128c"}']::jsonb[])` +
				` OR d.labels @> '{"team":"ml-infra"}')`},
		{"10 blocks", `{"groups":[{"blocks":[
			{"type":"nodeLabel","key":"kubernetes.io/arch","op":"eq","value":"amd64"},
			{"type":"nodeLabel","key":"kubernetes.io/os","op":"eq","value":"linux"},
			{"type":"nodeLabel","key":"env","op":"eq","value":"prod"},
			{"type":"nodeLabel","key":"team","op":"in","value":"search,ads,feed"},
			{"type":"nodeLabel","key":"node-role.kubernetes.io/worker","op":"exists"},
			{"type":"nodeLabel","key":"example.com/local-nvme","op":"eq","value":"true"},
			{"type":"device","key":"cpuCores","op":"gte","value":"48"},
			{"type":"device","key":"memoryBytes","op":"gte","value":"192Gi"},
			{"type":"device","key":"gpuCount","op":"eq","value":"0"},
			{"type":"taint","key":"node.kubernetes.io/unschedulable","op":"notExists"}]}]}`,
			`d.labels @> '{"kubernetes.io/arch":"amd64"}' AND d.labels @> '{"kubernetes.io/os":"linux"}' AND d.labels @> '{"env":"prod"}'` +
				` AND d.labels @> ANY(ARRAY['{"team":"search"}','{"team":"ads"}','{"team":"feed"}']::jsonb[]) AND d.labels ? 'node-role.kubernetes.io/worker'` +
				` AND d.labels @> '{"example.com/local-nvme":"true"}' AND d.cpu_cores >= 48 AND d.memory_bytes >= 206158430208 AND d.gpu_count = 0` +
				` AND NOT d.taints @> '[{"key":"node.kubernetes.io/unschedulable"}]'`},
	}
	out := make([]benchCase, len(raw))
	for i, r := range raw {
		t, err := devicequery.Parse([]byte(r.json))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
		if errs := devicequery.Validate(t); len(errs) > 0 {
			return nil, fmt.Errorf("%s: %w", r.name, errs)
		}
		out[i] = benchCase{name: r.name, tmpl: t, lit: r.lit}
	}
	return out, nil
}

// The pipeline's additional conditions; idc rotates over the data centres
// as it does over the clusters of a daily run.
func pipelineExtra(idc string) devicequery.Template {
	return devicequery.AllOf(
		devicequery.Block{Type: devicequery.TypeDevice, Key: "status", Op: devicequery.OpEq, Value: "idle"},
		devicequery.Block{Type: devicequery.TypeDevice, Key: "idc", Op: devicequery.OpEq, Value: idc})
}

func pipelineFloorSQL(c benchCase, idc string, limit int) string {
	return fmt.Sprintf("SELECT %s FROM devices d WHERE d.status = 'idle' AND d.idc = '%s' AND (%s) AND %s LIMIT %d",
		pgquery.CandidateColumns, idc, c.lit, pgquery.NotHeld, limit)
}

const previewSample = 10

// sampleColumns are the device columns the API returns for a sample.
const sampleColumns = `id, hostname, ip, serial, cpu_arch, cpu_cores, memory_bytes, gpu_count, gpu_model, disk_bytes,
	idc, zone, rack, status, cluster_id, pool_id, node_name, labels, taints, extra, node_cpu_allocated, node_mem_allocated,
	version, created_by, updated_by, created_at, updated_at`

type timings []time.Duration

func (t timings) pct(p float64) time.Duration {
	s := slices.Clone(t)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

type result struct {
	name                        string
	pipe, pipeFloor, pipeCached timings
	pipeRows                    int
	preview, previewFloor       timings
	kinds                       map[pgquery.CountKind]int
	previewN                    int64
	cappedCount, exactCount     timings
	cappedN, exactN             int64
	cpu                         map[string]time.Duration // server CPU per variant, summed over the timed runs
}

// cpuPerRun is the mean server CPU of one run of a variant.
func (r *result) cpuPerRun(name string) string {
	if len(r.pipe) == 0 || r.cpu[name] < 0 {
		return "–"
	}
	return ms(r.cpu[name] / time.Duration(len(r.pipe)))
}

// backendCPU is the CPU time (user + system) the backend process has used,
// from /proc (the server is local); -1h when it cannot be read. It counts in
// clock ticks of 10 ms: only sums over many runs are meaningful. Parallel
// workers are other processes and are not included.
func backendCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -time.Hour
	}
	// Fields after the command (which may contain spaces) in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -time.Hour
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func measure(ctx context.Context, db *pgxpool.Pool, c benchCase, o options) (*result, error) {
	r := &result{name: c.name, kinds: map[pgquery.CountKind]int{}, cpu: map[string]time.Duration{}}
	idcList := make([]string, len(idcs))
	for i, x := range idcs {
		idcList[i] = x.v
	}
	// One connection for the whole case, so that the CPU its backend uses
	// can be read from /proc (load-independent, unlike wall time).
	conn, err := db.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	var pid int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return nil, err
	}
	measuring := false
	previewPred, err := pgquery.Compile(c.tmpl)
	if err != nil {
		return nil, err
	}
	previewFloorSQL := fmt.Sprintf("SELECT count(*), (array_agg(id))[1:%d] FROM (SELECT d.id FROM devices d WHERE %s LIMIT %d) s",
		previewSample, c.lit, pgquery.DefaultCap+1)

	timed := func(name string, ts *timings, fn func() error) error {
		cpu0 := backendCPU(pid)
		start := time.Now()
		err := fn()
		*ts = append(*ts, time.Since(start))
		if measuring {
			r.cpu[name] += backendCPU(pid) - cpu0
		}
		if err != nil {
			return fmt.Errorf("%s, run %d: %w", name, len(*ts), err)
		}
		return nil
	}
	const warmup = 3
	for i := -warmup; i < o.iterations; i++ {
		idc := idcList[(i+warmup)%len(idcList)]
		measuring = i >= 0
		var pipe, pipeFloor, pipeCached, preview, previewFloor timings
		p, err := pgquery.Compile(c.tmpl, pipelineExtra(idc))
		if err != nil {
			return nil, err
		}
		p = p.And(pgquery.NotHeld)
		var n1, n2, n3 int
		var cnt pgquery.Count
		pipeSteps := []func() error{
			// the engine, as the pipeline calls it
			func() error {
				return timed("pipe", &pipe, func() error {
					cs, err := pgquery.Candidates(ctx, conn, p, "", o.limit)
					n1 = len(cs)
					return err
				})
			},
			// the floor: the same condition written with literals
			func() error {
				return timed("pipeFloor", &pipeFloor, func() error {
					cs, err := scanCandidates(conn.Query(ctx, pipelineFloorSQL(c, idc, o.limit), pgx.QueryExecModeSimpleProtocol))
					n2 = len(cs)
					return err
				})
			},
			// the engine's SQL through pgx's statement cache (generic plans after 5 runs)
			func() error {
				return timed("pipeCached", &pipeCached, func() error {
					cs, err := scanCandidates(conn.Query(ctx, pgquery.SelectSQL(pgquery.CandidateColumns, p, "", o.limit), p.Args...))
					n3 = len(cs)
					return err
				})
			},
		}
		previewSteps := []func() error{
			func() error {
				return timed("preview", &preview, func() error {
					var err error
					cnt, err = pgquery.CountMatches(ctx, conn, previewPred, pgquery.CountOptions{Sample: previewSample})
					if err == nil && len(cnt.SampleIDs) > 0 {
						_, err = countRows(conn.Query(ctx, "SELECT "+sampleColumns+" FROM devices WHERE id = ANY($1) ORDER BY id", cnt.SampleIDs))
					}
					return err
				})
			},
			func() error {
				return timed("previewFloor", &previewFloor, func() error {
					// The engine's steps with literals: the estimate, then the
					// capped count or (for a broad condition) a LIMIT sample.
					var plan []byte
					if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT 1 FROM devices d WHERE "+c.lit,
						pgx.QueryExecModeSimpleProtocol).Scan(&plan); err != nil {
						return err
					}
					var n int64
					var ids []int64
					var err error
					if planRows(plan) > 2*pgquery.DefaultCap {
						ids, err = collectIDs(conn.Query(ctx, fmt.Sprintf("SELECT d.id FROM devices d WHERE %s LIMIT %d", c.lit, previewSample),
							pgx.QueryExecModeSimpleProtocol))
					} else {
						err = conn.QueryRow(ctx, previewFloorSQL, pgx.QueryExecModeSimpleProtocol).Scan(&n, &ids)
					}
					if err == nil && len(ids) > 0 {
						lits := make([]string, len(ids))
						for i, id := range ids {
							lits[i] = fmt.Sprint(id)
						}
						_, err = countRows(conn.Query(ctx, "SELECT "+sampleColumns+" FROM devices WHERE id IN ("+strings.Join(lits, ",")+") ORDER BY id",
							pgx.QueryExecModeSimpleProtocol))
					}
					return err
				})
			},
		}
		// The order rotates every run: whichever goes second finds the pages
		// the first one just read.
		for _, k := range permutations3[(i+warmup)%len(permutations3)] {
			if err := pipeSteps[k](); err != nil {
				return nil, err
			}
		}
		if n1 != n2 || n1 != n3 {
			return nil, fmt.Errorf("idc %s: engine %d rows, floor %d, cached %d", idc, n1, n2, n3)
		}
		for j := range previewSteps {
			if err := previewSteps[(i+j)&1](); err != nil {
				return nil, err
			}
		}
		if i < 0 {
			continue
		}
		r.pipe = append(r.pipe, pipe...)
		r.pipeFloor = append(r.pipeFloor, pipeFloor...)
		r.pipeCached = append(r.pipeCached, pipeCached...)
		r.preview = append(r.preview, preview...)
		r.previewFloor = append(r.previewFloor, previewFloor...)
		r.kinds[cnt.Kind]++
		r.previewN = cnt.N
		r.pipeRows += n1
	}
	// What counting would cost: to the cap, and exactly (what the preview avoids).
	for i := 0; i < 10; i++ {
		if err := timed("capped count", &r.cappedCount, func() error {
			var ids []int64
			return conn.QueryRow(ctx, previewFloorSQL, pgx.QueryExecModeSimpleProtocol).Scan(&r.cappedN, &ids)
		}); err != nil {
			return nil, err
		}
	}
	for i := 0; i < 5; i++ {
		if err := timed("exact count", &r.exactCount, func() error {
			return conn.QueryRow(ctx, "SELECT count(*) FROM devices d WHERE "+c.lit, pgx.QueryExecModeSimpleProtocol).Scan(&r.exactN)
		}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

var permutations3 = [][3]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {1, 0, 2}, {2, 1, 0}}

// scanCandidates decodes rows as pgquery.Candidates does, so that the floor
// pays for the same decoding.
func scanCandidates(rows pgx.Rows, err error) ([]scaling.Candidate, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (scaling.Candidate, error) {
		var c scaling.Candidate
		err := r.Scan(&c.ID, &c.Hostname, &c.CPUCores, &c.MemoryBytes, &c.NodeCPUAllocated, &c.NodeMemAllocated)
		return c, err
	})
}

// planRows reads the top node's row estimate from EXPLAIN (FORMAT JSON).
func planRows(plan []byte) int64 {
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &out); err != nil || len(out) == 0 {
		return 0
	}
	return int64(out[0].Plan.Rows)
}

// collectIDs reads one bigint column.
func collectIDs(rows pgx.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func countRows(rows pgx.Rows, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// explains shows the plans of the pipeline query for the GIN cases, the
// ->> form that no GIN serves, and the generic plan the statement cache
// would switch to.
func explains(ctx context.Context, db *pgxpool.Pool, cases []benchCase, o options) ([]explained, error) {
	var out []explained
	plan := func(title, sql string, args ...any) error {
		rows, err := db.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+sql, append([]any{pgx.QueryExecModeExec}, args...)...)
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		out = append(out, explained{title: title, sql: sql, args: args, plan: lines})
		return nil
	}
	for _, c := range cases {
		if c.name == "10 blocks" {
			p, err := pgquery.Compile(c.tmpl, pipelineExtra("bj1"))
			if err != nil {
				return nil, err
			}
			p = p.And(pgquery.NotHeld)
			if err := plan("pipeline, 10 blocks (bj1)", pgquery.SelectSQL(pgquery.CandidateColumns, p, "", o.limit), p.Args...); err != nil {
				return nil, err
			}
		}
		if c.name != "label equality" && c.name != "taint" && c.name != "label exists" {
			continue
		}
		p, err := pgquery.Compile(c.tmpl, pipelineExtra("bj1"))
		if err != nil {
			return nil, err
		}
		p = p.And(pgquery.NotHeld)
		if err := plan("pipeline, "+c.name+" (bj1)", pgquery.SelectSQL(pgquery.CandidateColumns, p, "", o.limit), p.Args...); err != nil {
			return nil, err
		}
		pp, _ := pgquery.Compile(c.tmpl)
		if err := plan("what counting to the cap would cost (the preview answers from the estimate instead), "+c.name, fmt.Sprintf("SELECT count(*), (array_agg(id))[1:%d] FROM (%s) s", previewSample,
			pgquery.SelectSQL("d.id", pp, "", pgquery.DefaultCap+1)), pp.Args...); err != nil {
			return nil, err
		}
	}
	if err := plan("for contrast: ->> equality (no GIN can serve it)",
		`SELECT d.id FROM devices d WHERE d.status = 'idle' AND d.idc = 'bj1' AND d.labels ->> 'team' = 'maps' LIMIT 100`); err != nil {
		return nil, err
	}
	// The plan pgx's statement cache may switch to after five executions:
	// a prepared statement's generic plan (EXPLAIN of the statement itself
	// would plan with the values, so this goes through PREPARE/EXECUTE).
	for _, c := range cases {
		if c.name != "label equality" && c.name != "10 blocks" {
			continue
		}
		p, _ := pgquery.Compile(c.tmpl, pipelineExtra("bj1"))
		p = p.And(pgquery.NotHeld)
		sql := pgquery.SelectSQL(pgquery.CandidateColumns, p, "", o.limit)
		lines, err := genericPlan(ctx, db, sql, p.Args)
		if err != nil {
			return nil, err
		}
		out = append(out, explained{title: "generic plan of the " + c.name + " pipeline query (PREPARE, plan_cache_mode = force_generic_plan)",
			sql: sql, args: p.Args, plan: lines})
	}
	return out, nil
}

func genericPlan(ctx context.Context, db *pgxpool.Pool, sql string, args []any) ([]string, error) {
	conn, err := db.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "PREPARE bench_generic AS "+sql); err != nil {
		return nil, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "DEALLOCATE bench_generic; RESET plan_cache_mode") //nolint:errcheck
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		return nil, err
	}
	// EXECUTE takes its values as literals (this is the benchmark's own
	// fixed data, quoted here for the demonstration only).
	lits := make([]string, len(args))
	for i, a := range args {
		lits[i] = literal(a)
	}
	rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE bench_generic("+strings.Join(lits, ", ")+")")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func literal(a any) string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch v := a.(type) {
	case string:
		return quote(v)
	case []string:
		// an untyped array literal, so it takes the parameter's type (text[] or jsonb[])
		q := make([]string, len(v))
		for i, x := range v {
			q[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(x) + `"`
		}
		return quote("{" + strings.Join(q, ",") + "}")
	}
	return fmt.Sprint(a)
}

type explained struct {
	title string
	sql   string
	args  []any
	plan  []string
}

type report struct {
	opts                                      options
	loadBefore, loadAfter                     string
	started                                   time.Time
	elapsed                                   time.Duration
	version, sharedBuffers, workMem, parallel string
	jit, randomPageCost                       string
	results                                   []*result
	explains                                  []explained
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func (rep *report) write(w io.Writer) {
	o := rep.opts
	fmt.Fprintf(w, "Run %s, %s; load average before %s, after %s (%d CPUs).\n", rep.started.Format("2006-01-02 15:04 MST"),
		rep.elapsed.Round(time.Second), rep.loadBefore, rep.loadAfter, runtime.NumCPU())
	fmt.Fprintf(w, "%s; shared_buffers %s, work_mem %s, max_parallel_workers_per_gather %s, jit %s, random_page_cost %s.\n",
		strings.SplitN(rep.version, " on ", 2)[0], rep.sharedBuffers, rep.workMem, rep.parallel, rep.jit, rep.randomPageCost)
	fmt.Fprintf(w, "%d devices; %d timed runs per query and variant, interleaved; times are client-side (send → last row), ms.\n\n", o.devices, o.iterations)

	fmt.Fprintf(w, "**Pipeline** (idle + idc + template, not held by an open order, `LIMIT %d`; idc rotates over 12 data centres)\n\n", o.limit)
	fmt.Fprintln(w, "| template | engine p50 | engine p99 | floor p50 | floor p99 | ratio p50 | ratio p99 | server CPU/run engine / floor | statement cache p50 / p99 | rows (avg) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rep.results {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %d |\n", r.name,
			ms(r.pipe.pct(.5)), ms(r.pipe.pct(.99)), ms(r.pipeFloor.pct(.5)), ms(r.pipeFloor.pct(.99)),
			ratio(r.pipe.pct(.5), r.pipeFloor.pct(.5)), ratio(r.pipe.pct(.99), r.pipeFloor.pct(.99)),
			r.cpuPerRun("pipe"), r.cpuPerRun("pipeFloor"),
			ms(r.pipeCached.pct(.5)), ms(r.pipeCached.pct(.99)), r.pipeRows/max(1, len(r.pipe)))
	}
	fmt.Fprintf(w, "\n**Preview** (the template alone: count capped at %d within a %v budget + a sample of %d devices)\n\n",
		pgquery.DefaultCap, pgquery.DefaultBudget, previewSample)
	fmt.Fprintln(w, "| template | engine p50 | engine p99 | floor p50 | floor p99 | ratio p50 | ratio p99 | server CPU/run engine / floor | count answered | capped count p50 | exact count(*) p50 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
	for _, r := range rep.results {
		var kinds []string
		for _, k := range []pgquery.CountKind{pgquery.Exact, pgquery.Capped, pgquery.Estimated} {
			if n := r.kinds[k]; n > 0 {
				kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s (%d) | %s (%d) | %s (%d rows) |\n", r.name,
			ms(r.preview.pct(.5)), ms(r.preview.pct(.99)), ms(r.previewFloor.pct(.5)), ms(r.previewFloor.pct(.99)),
			ratio(r.preview.pct(.5), r.previewFloor.pct(.5)), ratio(r.preview.pct(.99), r.previewFloor.pct(.99)),
			r.cpuPerRun("preview"), r.cpuPerRun("previewFloor"),
			strings.Join(kinds, ", "), r.previewN, ms(r.cappedCount.pct(.5)), min(r.cappedN, pgquery.DefaultCap), ms(r.exactCount.pct(.5)), r.exactN)
	}
	for _, e := range rep.explains {
		args, _ := json.Marshal(e.args)
		fmt.Fprintf(w, "\n%s:\n\n```\n%s\n-- args %s\n\n%s\n```\n", e.title, e.sql, args, strings.Join(e.plan, "\n"))
	}
}
