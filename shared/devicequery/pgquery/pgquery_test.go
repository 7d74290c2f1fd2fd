package pgquery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/pgtest"
)

// insertDevices adds devices named host-0… with the given labels and returns their ids.
func insertDevices(t *testing.T, pool *pgxpool.Pool, n int, labels func(i int) string) []int64 {
	t.Helper()
	var ids []int64
	for i := 0; i < n; i++ {
		var id int64
		err := pool.QueryRow(context.Background(), `INSERT INTO devices (hostname, cpu_cores, memory_bytes, labels)
			VALUES ($1, $2, $3, $4) RETURNING id`, fmt.Sprintf("host-%d", i), 8*(i%4+1), int64(i+1)<<30, labels(i)).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func mustCompile(t *testing.T, ts ...devicequery.Template) Predicate {
	t.Helper()
	p, err := Compile(ts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInjectionIsRejectedOrMatchedLiterally(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	payloads := []string{
		"'; DROP TABLE devices; --", `" OR 1=1 --`, "x' OR 'x'='x", "%", "_", `\`, `\%`, "a%' OR d.id > 0 --",
		"$1", "$1::text", "'}", `"}]`, "?", "); DELETE FROM devices; (", "\u00e9\u0301", "x\ty",
	}
	ids := map[string]int64{}
	for i, pl := range payloads {
		var id int64
		err := pool.QueryRow(ctx, "INSERT INTO devices (hostname, rack, gpu_model) VALUES ($1, $2, $3) RETURNING id",
			fmt.Sprintf("inj-%d", i), pl, "m"+pl).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		ids[pl] = id
	}
	// A bystander device that a spliced payload would typically drag in.
	if _, err := pool.Exec(ctx, "INSERT INTO devices (hostname, rack) VALUES ('bystander', 'plain')"); err != nil {
		t.Fatal(err)
	}
	block := func(typ, key, op, value string) devicequery.Template {
		return devicequery.AllOf(devicequery.Block{Type: typ, Key: key, Op: op, Value: value})
	}
	for _, pl := range payloads {
		t.Run(pl, func(t *testing.T) {
			// Device text fields hold anything: every op must match the payload literally.
			for _, tc := range []struct {
				tmpl devicequery.Template
				want []int64
			}{
				{block("device", "rack", "eq", pl), []int64{ids[pl]}},
				{block("device", "gpuModel", "eq", "m"+pl), []int64{ids[pl]}},
				{block("device", "gpuModel", "prefix", "m"+pl), prefixed(ids, payloads, pl)},
				{block("device", "rack", "contains", pl), containing(ids, payloads, pl)},
			} {
				p, err := Compile(tc.tmpl)
				if err != nil {
					if strings.ContainsAny(pl, ",") || !validUTF8NoNUL(pl) {
						continue
					}
					t.Fatalf("%s: %v", js(tc.tmpl), err)
				}
				if strings.Contains(p.SQL, pl) && len(pl) > 2 && !strings.HasPrefix(pl, "$") {
					t.Fatalf("payload spliced into SQL: %s", p.SQL)
				}
				got, err := IDs(ctx, pool, p, "ORDER BY d.id", 0)
				if err != nil {
					t.Fatalf("%s: %v", js(tc.tmpl), err)
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("%s: got %v, want %v", js(tc.tmpl), got, tc.want)
				}
			}
			// Label and taint keys and values have a strict alphabet: rejected, with a path.
			for _, tmpl := range []devicequery.Template{
				block("nodeLabel", pl, "exists", ""),
				block("nodeLabel", "team", "eq", pl),
				block("nodeLabel", "team", "in", "a,"+pl),
				block("taint", pl, "exists", ""),
				block("taint", "dedicated", "eq", pl+":NoSchedule"),
				block("device", pl, "eq", "x"),
			} {
				if _, err := Compile(tmpl); err == nil {
					t.Fatalf("%s compiled", js(tmpl))
				}
				errs := devicequery.Validate(tmpl)
				if len(errs) == 0 || !strings.HasPrefix(errs[0].Path, "groups[0].blocks[0].") {
					t.Fatalf("%s: got %v, want an error at groups[0].blocks[0]", js(tmpl), errs)
				}
			}
		})
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM devices").Scan(&n); err != nil || n != len(payloads)+1 {
		t.Fatalf("devices: %d rows (%v), want %d", n, err, len(payloads)+1)
	}
}

func validUTF8NoNUL(s string) bool {
	return !strings.ContainsRune(s, 0) && strings.ToValidUTF8(s, "\uFFFD") == s
}

func prefixed(ids map[string]int64, payloads []string, pl string) []int64 {
	var out []int64
	for _, other := range payloads {
		if strings.HasPrefix("m"+other, "m"+pl) {
			out = append(out, ids[other])
		}
	}
	slices.Sort(out)
	return out
}

func containing(ids map[string]int64, payloads []string, pl string) []int64 {
	var out []int64
	for _, other := range payloads {
		if strings.Contains(other, pl) {
			out = append(out, ids[other])
		}
	}
	slices.Sort(out)
	return out
}

func TestCountMatches(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	ids := insertDevices(t, pool, 30, func(i int) string {
		if i%3 == 0 {
			return `{"gpu":"true"}`
		}
		return `{}`
	})
	if _, err := pool.Exec(ctx, "ANALYZE devices"); err != nil {
		t.Fatal(err)
	}
	gpu := mustCompile(t, devicequery.AllOf(devicequery.Block{Type: "nodeLabel", Key: "gpu", Op: "exists"}))
	all := mustCompile(t, devicequery.AllOf(devicequery.Block{Type: "device", Key: "cpuCores", Op: "gte", Value: "0"}))
	none := mustCompile(t, devicequery.AllOf(devicequery.Block{Type: "device", Key: "hostname", Op: "eq", Value: "nope"}))

	tests := []struct {
		name   string
		p      Predicate
		opt    CountOptions
		want   int64
		kind   CountKind
		sample int
	}{
		{"exact", gpu, CountOptions{Sample: 3}, 10, Exact, 3},
		{"exact at the cap", gpu, CountOptions{Cap: 10, Sample: 20, EstimateAbove: -1}, 10, Exact, 10},
		{"capped", all, CountOptions{Cap: 10, Sample: 5, EstimateAbove: -1}, 10, Capped, 5},
		{"none", none, CountOptions{Sample: 5}, 0, Exact, 0},
		{"no sample", all, CountOptions{}, 30, Exact, 0},
		// ANALYZE saw every row: the planner expects 30 > 2 × 10.
		{"estimated, nothing counted", all, CountOptions{Cap: 10, Sample: 4}, 30, Estimated, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := CountMatches(ctx, pool, tt.p, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if c.N != tt.want || c.Kind != tt.kind || len(c.SampleIDs) != tt.sample {
				t.Fatalf("got %d %s sample %v, want %d %s sample of %d", c.N, c.Kind, c.SampleIDs, tt.want, tt.kind, tt.sample)
			}
			for _, id := range c.SampleIDs {
				if !slices.Contains(ids, id) {
					t.Fatalf("sample id %d is not a device", id)
				}
			}
		})
	}

	t.Run("estimated when the budget runs out", func(t *testing.T) {
		// A predicate that takes 20 ms per row stands in for a slow scan.
		slow := Predicate{SQL: "pg_sleep(0.02) IS NOT NULL AND d.cpu_cores >= $1::bigint", Args: []any{int64(0)}}
		start := time.Now()
		c, err := CountMatches(ctx, pool, slow, CountOptions{Budget: 40 * time.Millisecond, Sample: 5})
		if err != nil {
			t.Fatal(err)
		}
		if c.Kind != Estimated || c.N < 1 {
			t.Fatalf("got %+v, want an estimate", c)
		}
		// The sample gets a quarter of the budget: 10 ms, not enough for one 20 ms row.
		if len(c.SampleIDs) != 0 {
			t.Fatalf("sample %v, want none", c.SampleIDs)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v: the budget did not stop the count", d)
		}
	})

	t.Run("inside a transaction the budget ends with it", func(t *testing.T) {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			slow := Predicate{SQL: "pg_sleep(0.02) IS NOT NULL AND d.cpu_cores >= $1::bigint", Args: []any{int64(0)}}
			if c, err := CountMatches(ctx, tx, slow, CountOptions{Budget: 10 * time.Millisecond}); err != nil || c.Kind != Estimated {
				return fmt.Errorf("slow count: %+v %v", c, err)
			}
			if c, err := CountMatches(ctx, tx, gpu, CountOptions{}); err != nil || c.N != 10 {
				return fmt.Errorf("count after a timeout: %+v %v", c, err)
			}
			var timeout string
			if err := tx.QueryRow(ctx, "SHOW statement_timeout").Scan(&timeout); err != nil {
				return err
			}
			if timeout != "0" {
				return fmt.Errorf("statement_timeout is %q after CountMatches, want 0", timeout)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("on a connection the settings end with the pipeline", func(t *testing.T) {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		var want [3]string
		show := "SELECT current_setting('statement_timeout'), current_setting('jit'), current_setting('max_parallel_workers_per_gather')"
		if err := conn.QueryRow(ctx, show).Scan(&want[0], &want[1], &want[2]); err != nil {
			t.Fatal(err)
		}
		slow := Predicate{SQL: "pg_sleep(0.02) IS NOT NULL AND d.cpu_cores >= $1::bigint", Args: []any{int64(0)}}
		for _, p := range []Predicate{slow, gpu} {
			if _, err := CountMatches(ctx, conn, p, CountOptions{Budget: 10 * time.Millisecond, Sample: 2}); err != nil {
				t.Fatal(err)
			}
			var got [3]string
			if err := conn.QueryRow(ctx, show).Scan(&got[0], &got[1], &got[2]); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("settings after CountMatches %v, want %v", got, want)
			}
		}
	})

	t.Run("caller cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := CountMatches(cctx, pool, gpu, CountOptions{}); err == nil {
			t.Fatal("no error from a cancelled context")
		}
	})
}

func TestSelectCandidatesAndNotHeld(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	ids := insertDevices(t, pool, 6, func(int) string { return `{"pool":"general"}` })
	// Hold device 0 with an open order and device 1 with a closed one.
	for i, active := range []bool{true, false} {
		var order int64
		err := pool.QueryRow(ctx, `INSERT INTO elastic_scaling_orders (order_number, action_type, reason, external_system, external_ticket_id)
			VALUES ($1, 'maintenance', 'test', 'cmdb', $1) RETURNING id`, fmt.Sprintf("T-%d", i)).Scan(&order)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, "INSERT INTO order_devices (order_id, device_id, role, active) VALUES ($1, $2, 'maintain', $3)",
			order, ids[i], active); err != nil {
			t.Fatal(err)
		}
	}
	p := mustCompile(t, devicequery.AllOf(devicequery.Block{Type: "nodeLabel", Key: "pool", Op: "eq", Value: "general"}),
		devicequery.AllOf(devicequery.Block{Type: "device", Key: "status", Op: "eq", Value: "idle"}))
	cs, err := Candidates(ctx, pool, p.And(NotHeld), "ORDER BY d.id", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, c := range cs {
		got = append(got, c.ID)
	}
	if !slices.Equal(got, ids[1:]) {
		t.Fatalf("got %v, want %v (all but the held one)", got, ids[1:])
	}
	if c := cs[0]; c.Hostname != "host-1" || c.CPUCores != 16 || c.MemoryBytes != 2<<30 || c.NodeCPUAllocated != nil {
		t.Fatalf("candidate %+v", c)
	}
	// And numbers the caller's placeholders after the compiled ones.
	q := p.And(fmt.Sprintf("d.id > $%d", p.Next()), ids[3])
	got, err = IDs(ctx, pool, q, "ORDER BY d.id DESC", 1)
	if err != nil || !slices.Equal(got, ids[5:]) {
		t.Fatalf("got %v %v, want %v", got, err, ids[5:])
	}
	if n, err := Estimate(ctx, pool, p); err != nil || n < 1 {
		t.Fatalf("estimate %d %v", n, err)
	}
}

func TestLoadTemplate(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	var good, bad int64
	if err := pool.QueryRow(ctx, `INSERT INTO query_templates (name, groups) VALUES ('good',
		'{"groups":[{"blocks":[{"type":"nodeLabel","key":"gpu","op":"exists"}]}]}') RETURNING id`).Scan(&good); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO query_templates (name, groups) VALUES ('bad', '{"groups":[{"blocks":[{"tpye":"x"}]}]}') RETURNING id`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	tm, err := LoadTemplate(ctx, pool, good)
	if err != nil || len(tm.Groups) != 1 || tm.Groups[0].Blocks[0].Key != "gpu" {
		t.Fatalf("got %+v %v", tm, err)
	}
	var fe devicequery.FieldErrors
	if _, err := LoadTemplate(ctx, pool, bad); !errors.As(err, &fe) {
		t.Fatalf("bad template: got %v, want FieldErrors", err)
	}
	if _, err := LoadTemplate(ctx, pool, bad+100); err == nil {
		t.Fatal("missing template: no error")
	}
}
