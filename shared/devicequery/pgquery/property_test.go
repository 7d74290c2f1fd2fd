package pgquery

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// The property: for random templates over random device sets loaded into a
// real, migrated Postgres, the compiled SQL selects exactly the devices the
// reference evaluator (devicequery.Match) accepts. Vocabularies are small so
// that templates hit and miss in every way (absent labels, NULL pool ids,
// LIKE wildcards and backslashes in stored text, taints without a value or
// with extra fields).
//
// DEVICEQUERY_SEED=n reruns one seed; DEVICEQUERY_CASES=n changes the number
// of templates per device set (default 1000, 4 device sets).

const (
	propSets       = 4
	propDevices    = 240
	propDefaultTpl = 1000
)

func TestSQLMatchesReference(t *testing.T) {
	seed := uint64(20261129)
	if s := os.Getenv("DEVICEQUERY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DEVICEQUERY_SEED: %v", err)
		}
		seed = v
	}
	cases := propDefaultTpl
	if s := os.Getenv("DEVICEQUERY_CASES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("DEVICEQUERY_CASES: %q", s)
		}
		cases = v
	}
	t.Logf("seed %d (rerun with DEVICEQUERY_SEED=%d)", seed, seed)
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	fx := newFixture(t, pool)
	indexed := indexedConn(t, pool)

	var st struct{ valid, invalid, none, all, some int }
	for set := 0; set < propSets; set++ {
		r := rand.New(rand.NewPCG(seed, uint64(set)))
		devs := fx.load(t, r, propDevices)
		g := &gen{r: r, devs: devs, fx: fx}
		for i := 0; i < cases; i++ {
			tmpl := g.template()
			ts := []devicequery.Template{tmpl}
			if i%3 == 2 {
				// The pipeline's shape, which devices_idle_match serves.
				ts = append(ts, devicequery.AllOf(
					devicequery.Block{Type: devicequery.TypeDevice, Key: "status", Op: devicequery.OpEq, Value: "idle"},
					devicequery.Block{Type: devicequery.TypeDevice, Key: "idc", Op: devicequery.OpEq, Value: g.dev().IDC}))
			}
			// Alternate the exec modes: the package's unnamed statements and
			// pgx's cached prepared statements must both encode every parameter.
			execMode = pgx.QueryExecModeExec
			if i%2 == 1 {
				execMode = pgx.QueryExecModeCacheStatement
			}
			want := []int64{}
			for _, d := range devs {
				if matchAll(ts, d.Device) {
					want = append(want, d.id)
				}
			}
			p, err := Compile(ts...)
			if errs := devicequery.Validate(tmpl); len(errs) > 0 {
				st.invalid++
				if err == nil || len(want) > 0 {
					t.Fatalf("set %d case %d: invalid template (%v) compiled (%v) or matched %d devices: %s", set, i, errs, err, len(want), js(tmpl))
				}
				continue
			}
			if err != nil {
				t.Fatalf("set %d case %d: valid template does not compile: %v: %s", set, i, err, js(tmpl))
			}
			st.valid++
			// Every other case runs with sequential scans disabled, so that the
			// GIN and btree indexes answer (a few hundred rows favour seq scans).
			var db postgres.Querier = pool
			if i%4 >= 2 {
				db = indexed
			}
			got, err := idsVia(ctx, db, p)
			if err != nil {
				t.Fatalf("set %d case %d: %v\nSQL %s\nargs %#v\ntemplate %s", set, i, err, p.SQL, p.Args, js(tmpl))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("set %d case %d (seed %d): SQL and Match disagree\ntemplate %s\nSQL %s\nargs %#v\n%s",
					set, i, seed, js(tmpl), p.SQL, p.Args, diff(devs, got, want))
			}
			if i%10 == 0 {
				// The budgeted count encodes the parameters itself (one pipeline).
				c, err := CountMatches(ctx, pool, p, CountOptions{EstimateAbove: -1, Budget: 10 * time.Second, Sample: 5})
				if err != nil || c.Kind != Exact || c.N != int64(len(want)) || len(c.SampleIDs) != min(5, len(want)) {
					t.Fatalf("set %d case %d: CountMatches %+v %v, want exact %d\ntemplate %s", set, i, c, err, len(want), js(tmpl))
				}
				for _, id := range c.SampleIDs {
					if !slices.Contains(want, id) {
						t.Fatalf("set %d case %d: sample id %d does not match\ntemplate %s", set, i, id, js(tmpl))
					}
				}
			}
			switch len(want) {
			case 0:
				st.none++
			case len(devs):
				st.all++
			default:
				st.some++
			}
		}
	}
	execMode = pgx.QueryExecModeExec
	t.Logf("%d valid templates (%d matched none, %d all, %d some of the devices), %d invalid ones rejected by both",
		st.valid, st.none, st.all, st.some, st.invalid)
	// The generator must keep exercising the interesting part.
	if total := st.valid + st.invalid; st.valid < total*7/10 || st.some < st.valid/3 || st.none < st.valid/20 {
		t.Fatalf("generator drifted: %+v", st)
	}
}

func matchAll(ts []devicequery.Template, d devicequery.Device) bool {
	for _, t := range ts {
		if !devicequery.Match(t, d) {
			return false
		}
	}
	return true
}

// indexedConn returns a connection whose planner uses bitmap scans only,
// with filters made expensive: it then prefers the index that covers the
// most conditions, mostly the GIN indexes (devices_labels, devices_taints,
// and devices_idle_match for the pipeline's shape). With no ORDER BY, the
// primary key has no use either. JIT is off: the inflated costs would
// otherwise compile every query.
func indexedConn(t *testing.T, pool *pgxpool.Pool) *pgxpool.Conn {
	t.Helper()
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	if _, err := conn.Exec(context.Background(), "SET enable_seqscan = off; SET enable_indexscan = off; SET cpu_operator_cost = 0.5; SET jit = off"); err != nil {
		t.Fatal(err)
	}
	return conn
}

func idsVia(ctx context.Context, db postgres.Querier, p Predicate) ([]int64, error) {
	ids, err := IDs(ctx, db, p, "", 0)
	slices.Sort(ids)
	if ids == nil {
		ids = []int64{}
	}
	return ids, err
}

// fixture holds the clusters and pools devices may refer to.
type fixture struct {
	pool     *pgxpool.Pool
	clusters []int64
	pools    map[int64][]int64 // cluster → its pools
}

func newFixture(t *testing.T, pool *pgxpool.Pool) *fixture {
	t.Helper()
	ctx := context.Background()
	fx := &fixture{pool: pool, pools: map[int64][]int64{}}
	for c := 0; c < 3; c++ {
		var cid int64
		if err := pool.QueryRow(ctx, "INSERT INTO clusters (name, idc) VALUES ($1, 'bj1') RETURNING id", fmt.Sprintf("prop-%d", c)).Scan(&cid); err != nil {
			t.Fatal(err)
		}
		fx.clusters = append(fx.clusters, cid)
		for p := 0; p < 2; p++ {
			var pid int64
			if err := pool.QueryRow(ctx, "INSERT INTO resource_pools (cluster_id, name, pool_type) VALUES ($1, $2, 'general') RETURNING id",
				cid, fmt.Sprintf("p%d", p)).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			fx.pools[cid] = append(fx.pools[cid], pid)
		}
	}
	return fx
}

type storedDevice struct {
	id int64
	devicequery.Device
	taintsJSON string // as stored: may omit value or carry extra fields
}

// Vocabularies. Text values include LIKE wildcards, backslashes, quotes,
// SQL and JSON fragments and non-ASCII, which must all be matched literally.
var (
	textVocab = []string{"", "a", "ab", "abc", "b", "bj1", "sh-2", "a%b", "a_b", `a\b`, "%", "_", `\`, "O'Brien", `x"y`,
		"ünï", "  sp ", "x86_64", "aarch64", "A100", "H100", "r1", "r10", "'; DROP TABLE devices; --", "a,b"}
	labelKeys   = []string{"team", "env", "gpu", "example.com/tier", "kubernetes.io/arch", "a.b-c_d", "Team"}
	labelValues = []string{"", "a", "b", "ab", "prod", "prod-1", "x.y-z", "A_b", "true", "amd64", "arm64"}
	taintKeys   = []string{"dedicated", "gpu", "node.kubernetes.io/unschedulable", "example.com/x"}
	taintValues = []string{"", "ai", "db", "true"}
	effects     = []string{devicequery.EffectNoSchedule, devicequery.EffectPreferNoSchedule, devicequery.EffectNoExecute}
	statuses    = []string{"idle", "in_pool", "cordoned", "maintenance", "retired"}
	cores       = []int64{0, 1, 8, 32, 64, 96, 128}
	gib         = int64(1) << 30
	byteSizes   = []int64{0, 1, 1000, 1024, gib, 64 * gib, 512 * gib, 1000000000, 2 << 40}
	gpuCounts   = []int64{0, 1, 8}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// load replaces the devices with n random ones and returns them in id order.
func (fx *fixture) load(t *testing.T, r *rand.Rand, n int) []storedDevice {
	t.Helper()
	ctx := context.Background()
	if _, err := fx.pool.Exec(ctx, "DELETE FROM devices"); err != nil {
		t.Fatal(err)
	}
	devs := make([]storedDevice, n)
	rows := make([][]any, n)
	for i := range devs {
		d := &devs[i]
		d.Hostname = pick(r, textVocab) + "-" + strconv.Itoa(i)
		d.IP, d.Serial = pick(r, textVocab), ""
		d.CPUArch, d.GPUModel = pick(r, textVocab), pick(r, textVocab)
		d.IDC, d.Zone, d.Rack, d.NodeName = pick(r, textVocab), pick(r, textVocab), pick(r, textVocab), pick(r, textVocab)
		d.CPUCores, d.MemoryBytes, d.GPUCount, d.DiskBytes = pick(r, cores), pick(r, byteSizes), pick(r, gpuCounts), pick(r, byteSizes)
		d.Status = pick(r, statuses)
		switch {
		case d.Status == "in_pool" || (d.Status != "idle" && r.IntN(2) == 0):
			c := pick(r, fx.clusters)
			p := pick(r, fx.pools[c])
			d.ClusterID, d.PoolID = &c, &p
		case d.Status == "idle" && r.IntN(4) == 0:
			c := pick(r, fx.clusters) // idle devices may still name a cluster, never a pool
			d.ClusterID = &c
		}
		d.Labels = map[string]string{}
		for k := r.IntN(4); k > 0; k-- {
			d.Labels[pick(r, labelKeys)] = pick(r, labelValues)
		}
		var taints []map[string]any
		for k := r.IntN(3); k > 0; k-- {
			tt := devicequery.Taint{Key: pick(r, taintKeys), Value: pick(r, taintValues), Effect: pick(r, effects)}
			d.Taints = append(d.Taints, tt)
			m := map[string]any{"key": tt.Key, "effect": tt.Effect}
			if tt.Value != "" || r.IntN(2) == 0 {
				m["value"] = tt.Value // an empty value is sometimes stored, sometimes omitted
			}
			if r.IntN(4) == 0 {
				m["timeAdded"] = "2026-11-29T06:00:00Z"
			}
			taints = append(taints, m)
		}
		tj, _ := json.Marshal(taints)
		if taints == nil {
			tj = []byte("[]")
		}
		d.taintsJSON = string(tj)
		lj, _ := json.Marshal(d.Labels)
		rows[i] = []any{d.Hostname, d.IP, d.Serial, d.CPUArch, d.CPUCores, d.MemoryBytes, d.GPUCount, d.GPUModel, d.DiskBytes,
			d.IDC, d.Zone, d.Rack, d.Status, d.ClusterID, d.PoolID, d.NodeName, string(lj), d.taintsJSON}
	}
	cols := []string{"hostname", "ip", "serial", "cpu_arch", "cpu_cores", "memory_bytes", "gpu_count", "gpu_model", "disk_bytes",
		"idc", "zone", "rack", "status", "cluster_id", "pool_id", "node_name", "labels", "taints"}
	if _, err := fx.pool.CopyFrom(ctx, pgx.Identifier{"devices"}, cols, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	// Read the ids back by hostname (unique) rather than trusting COPY order.
	ids := map[string]int64{}
	rs, err := fx.pool.Query(ctx, "SELECT hostname, id FROM devices")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var h string
		var id int64
		if err := rs.Scan(&h, &id); err != nil {
			t.Fatal(err)
		}
		ids[h] = id
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range devs {
		devs[i].id = ids[devs[i].Hostname]
	}
	slices.SortFunc(devs, func(a, b storedDevice) int { return int(a.id - b.id) })
	return devs
}

// gen draws templates whose values often come from the loaded devices, so
// that most conditions hold for some devices and not for others.
type gen struct {
	r    *rand.Rand
	devs []storedDevice
	fx   *fixture
}

func (g *gen) template() devicequery.Template {
	t := devicequery.Template{Logic: g.logic()}
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		grp := devicequery.Group{Logic: g.logic()}
		for m := 1 + g.r.IntN(4); m > 0; m-- {
			grp.Blocks = append(grp.Blocks, g.block())
		}
		t.Groups = append(t.Groups, grp)
	}
	return t
}

func (g *gen) logic() string {
	return pick(g.r, []string{"", devicequery.LogicAnd, devicequery.LogicOr, devicequery.LogicOr})
}

func (g *gen) block() devicequery.Block {
	switch g.r.IntN(5) {
	case 0, 1:
		return g.deviceBlock()
	case 2, 3:
		return g.labelBlock()
	}
	return g.taintBlock()
}

var fields = devicequery.DeviceFields()

func (g *gen) dev() *storedDevice { return &g.devs[g.r.IntN(len(g.devs))] }

func (g *gen) deviceBlock() devicequery.Block {
	f := pick(g.r, fields)
	b := devicequery.Block{Type: devicequery.TypeDevice, Key: f.Name, Op: pick(g.r, f.Ops)}
	if g.r.IntN(50) == 0 {
		b.Op = pick(g.r, []string{"gt", "contains", "exists", "like", ""}) // sometimes not allowed for the field
	}
	one := func() string {
		if !f.Numeric {
			if f.Name == "status" {
				return pick(g.r, append(statuses, "idle "))
			}
			if g.r.IntN(2) == 0 {
				return textOf(g.dev(), f.Name)
			}
			return pick(g.r, textVocab)
		}
		v, ok := numOf(g.dev(), f.Name, g.fx)
		if !ok || g.r.IntN(4) == 0 {
			v = pick(g.r, append(byteSizes, cores...))
		}
		v += int64(g.r.IntN(3) - 1)
		if f.Quantity && v%gib == 0 && g.r.IntN(2) == 0 {
			return strconv.FormatInt(v/gib, 10) + "Gi"
		}
		if f.Quantity && v%1000000000 == 0 && v > 0 && g.r.IntN(2) == 0 {
			return strconv.FormatInt(v/1000000000, 10) + "G"
		}
		return strconv.FormatInt(v, 10)
	}
	switch b.Op {
	case devicequery.OpExists, devicequery.OpNotExists:
	case devicequery.OpIn, devicequery.OpNotIn:
		b.Value = g.list(one)
	case devicequery.OpContains, devicequery.OpPrefix:
		b.Value = g.operand(one)
	default:
		b.Value = one()
	}
	return b
}

// operand is a contains/prefix operand: a substring of a value, rarely empty (an error).
func (g *gen) operand(one func() string) string {
	s := substring(g.r, one())
	for try := 0; try < 3 && s == "" && g.r.IntN(20) > 0; try++ {
		s = substring(g.r, one())
	}
	return s
}

func (g *gen) labelBlock() devicequery.Block {
	key := pick(g.r, labelKeys)
	if d := g.dev(); len(d.Labels) > 0 && g.r.IntN(2) == 0 {
		for k := range d.Labels {
			key = k
			break
		}
	}
	b := devicequery.Block{Type: devicequery.TypeNodeLabel, Key: key,
		Op: pick(g.r, []string{"eq", "ne", "in", "notIn", "exists", "notExists", "contains", "prefix"})}
	one := func() string {
		if v, ok := g.dev().Labels[key]; ok && g.r.IntN(2) == 0 {
			return v
		}
		return pick(g.r, labelValues)
	}
	switch b.Op {
	case devicequery.OpExists, devicequery.OpNotExists:
	case devicequery.OpIn, devicequery.OpNotIn:
		b.Value = g.list(one)
	case devicequery.OpContains, devicequery.OpPrefix:
		b.Value = g.operand(one)
	default:
		b.Value = one()
	}
	return b
}

func (g *gen) taintBlock() devicequery.Block {
	b := devicequery.Block{Type: devicequery.TypeTaint, Key: pick(g.r, taintKeys),
		Op: pick(g.r, []string{"eq", "ne", "exists", "notExists"})}
	if d := g.dev(); len(d.Taints) > 0 && g.r.IntN(2) == 0 {
		tt := pick(g.r, d.Taints)
		b.Key = tt.Key
		if b.Op == devicequery.OpEq || b.Op == devicequery.OpNe {
			b.Value = pick(g.r, []string{tt.Value, tt.Value + ":" + tt.Effect, ":" + tt.Effect})
		}
	} else if b.Op == devicequery.OpEq || b.Op == devicequery.OpNe {
		b.Value = pick(g.r, []string{"ai", "db:NoSchedule", ":NoExecute", "ai:PreferNoSchedule", "ai:NoSchedule", "gpu"})
		if g.r.IntN(20) == 0 {
			b.Value = "ai:Bogus"
		}
	}
	return b
}

func (g *gen) list(one func() string) string {
	items := make([]string, 1+g.r.IntN(3))
	for i := range items {
		// An empty item is an error; keep a few to check that both sides reject it.
		for try := 0; try < 3 && (try == 0 || items[i] == "" && g.r.IntN(20) > 0); try++ {
			items[i] = one()
		}
	}
	return strings.Join(items, pick(g.r, []string{",", ", "}))
}

// substring returns a random non-empty substring of s (s itself when short).
func substring(r *rand.Rand, s string) string {
	if len(s) < 2 {
		return s
	}
	i := r.IntN(len(s) - 1)
	j := i + 1 + r.IntN(len(s)-i)
	return s[i:j] // may split a UTF-8 sequence: Validate rejects it, which the test also checks
}

func textOf(d *storedDevice, name string) string {
	switch name {
	case "hostname":
		return d.Hostname
	case "ip":
		return d.IP
	case "serial":
		return d.Serial
	case "cpuArch":
		return d.CPUArch
	case "gpuModel":
		return d.GPUModel
	case "idc":
		return d.IDC
	case "zone":
		return d.Zone
	case "rack":
		return d.Rack
	case "status":
		return d.Status
	case "nodeName":
		return d.NodeName
	}
	return ""
}

func numOf(d *storedDevice, name string, fx *fixture) (int64, bool) {
	switch name {
	case "cpuCores":
		return d.CPUCores, true
	case "memoryBytes":
		return d.MemoryBytes, true
	case "gpuCount":
		return d.GPUCount, true
	case "diskBytes":
		return d.DiskBytes, true
	case "clusterId":
		if d.ClusterID != nil {
			return *d.ClusterID, true
		}
		return fx.clusters[0], true
	case "poolId":
		if d.PoolID != nil {
			return *d.PoolID, true
		}
		return fx.pools[fx.clusters[0]][0], true
	}
	return 0, false
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// diff names the devices on which SQL and Match disagree.
func diff(devs []storedDevice, got, want []int64) string {
	var b strings.Builder
	for _, d := range devs {
		inGot, inWant := slices.Contains(got, d.id), slices.Contains(want, d.id)
		if inGot != inWant {
			fmt.Fprintf(&b, "device %d: SQL %v, Match %v: %s taints %s\n", d.id, inGot, inWant, js(d.Device), d.taintsJSON)
		}
	}
	return b.String()
}
