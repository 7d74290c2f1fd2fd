package pipeline

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// seedDays inserts two pools with daily rows: usage reported, usage NULL,
// odd instants (sub-second, before 2000, negative microseconds), days
// outside the window and a pool outside the scope.
func seedDays(t *testing.T, q postgres.Querier) (inScope []Target, from, to scaling.Date) {
	t.Helper()
	ctx := context.Background()
	var c, p1, p2, p3 int64
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(q.QueryRow(ctx, "INSERT INTO clusters (name) VALUES ('c1') RETURNING id").Scan(&c))
	for _, p := range []*int64{&p1, &p2, &p3} {
		must(q.QueryRow(ctx, "INSERT INTO resource_pools (cluster_id, name, pool_type) VALUES ($1, 'p' || gen_random_uuid(), 'general') RETURNING id", c).Scan(p))
	}
	_, err := q.Exec(ctx, `INSERT INTO pool_daily_snapshots (pool_id, day, cluster_id, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
			mem_capacity, mem_allocated, mem_usage, node_count) VALUES
		($1, '2026-11-26', $4, '2026-11-26 23:59:59.999999+08', 320000, 288000, 150000, 1374389534720, 824633720832, NULL, 10),
		($1, '2026-11-27', $4, '2026-11-27 12:00:00.5+00', 0, 0, NULL, 0, 0, 7, 0),
		($1, '2026-11-28', $4, '1999-12-31 23:59:59.123457+00', 9223372036854775807, -9223372036854775808, -1, 1, 2, 3, 2147483647),
		($1, '2026-11-29', $4, '2026-11-29 01:00:00+00', 1, 1, 1, 1, 1, 1, 1),
		($1, '2026-11-25', $4, '2026-11-25 01:00:00+00', 1, 1, 1, 1, 1, 1, 1),
		($2, '2026-11-28', $4, '2026-11-28 22:00:00+00', 1000, 900, NULL, 2000, 100, NULL, 3),
		($3, '2026-11-28', $4, '2026-11-28 22:00:00+00', 5, 5, 5, 5, 5, 5, 5)`, p1, p2, p3, c)
	must(err)
	return []Target{{ClusterID: c, PoolID: p1}, {ClusterID: c, PoolID: p2}},
		scaling.Date{Year: 2026, Month: time.November, Day: 26}, scaling.Date{Year: 2026, Month: time.November, Day: 28}
}

// TestDayDecoderMatchesScan decodes every row both ways, the binary
// decoder and pgx's rows.Scan, and wants identical snapshots (time
// locations included).
func TestDayDecoderMatchesScan(t *testing.T) {
	db := pgtest.NewPool(t)
	ctx := context.Background()
	scope, from, to := seedDays(t, db)
	pools := []int64{scope[0].PoolID, scope[1].PoolID}
	rows, err := db.Query(ctx, `SELECT pool_id, day, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
			mem_capacity, mem_allocated, mem_usage, node_count
		FROM pool_daily_snapshots WHERE pool_id = ANY($1::bigint[]) ORDER BY pool_id, day`, pools)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		dec := newDayDecoder(rows, from, to)
		if dec == nil {
			t.Fatal("got no binary decoder for the default query mode")
		}
		var (
			pool     int64
			day      time.Time
			want     scaling.DailySnapshot
			cpu, mem pgtype.Int8
		)
		if err := rows.Scan(&pool, &day, &want.CapturedAt, &want.CPUCapacity, &want.CPUAllocated, &cpu,
			&want.MemCapacity, &want.MemAllocated, &mem, &want.NodeCount); err != nil {
			t.Fatal(err)
		}
		want.Day = scaling.DateOf(day)
		if cpu.Valid {
			want.CPUUsage = &cpu.Int64
		}
		if mem.Valid {
			want.MemUsage = &mem.Int64
		}
		var got scaling.DailySnapshot
		var gotPool int64
		slot := func(p int64) *scaling.DailySnapshot { gotPool = p; return &got }
		keep := func(v int64) *int64 { return &v }
		if err := dec.decode(rows.RawValues(), slot, keep); err != nil {
			t.Fatal(err)
		}
		if gotPool != pool || !reflect.DeepEqual(got, want) {
			t.Errorf("row %d: got pool %d %+v (usage %v %v)\nwant pool %d %+v (usage %v %v)", n, gotPool, got,
				deref(got.CPUUsage), deref(got.MemUsage), pool, want, deref(want.CPUUsage), deref(want.MemUsage))
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Fatalf("got %d rows, want 6", n)
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// simpleProtocol sends every query with the simple protocol: text
// results, so readDays must take its rows.Scan path.
type simpleProtocol struct{ postgres.Querier }

func (s simpleProtocol) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return s.Querier.Query(ctx, sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
}

// TestReadInputsBinaryAndText reads the same window through the binary
// decoder and through text results and rows.Scan: the same inputs.
func TestReadInputsBinaryAndText(t *testing.T) {
	db := pgtest.NewPool(t)
	ctx := context.Background()
	scope, _, _ := seedDays(t, db)
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	s := scaling.Strategy{ID: 1, ThresholdTriggerAction: scaling.ActionPoolEntry, CPUThresholdValue: f(80),
		CPUThresholdType: scaling.ThresholdAllocated, CPUTargetValue: f(60), DurationMinutes: 3 * 1440}
	at := time.Date(2026, 11, 29, 6, 0, 0, 0, sh)
	bin, err := ReadInputs(ctx, db, s, scope, at, sh)
	if err != nil {
		t.Fatal(err)
	}
	text, err := ReadInputs(ctx, simpleProtocol{db}, s, scope, at, sh)
	if err != nil {
		t.Fatal(err)
	}
	for i := range bin {
		// cmp compares instants (time.Time.Equal): text results carry a
		// fixed zone where binary ones are Local, as with pgx's own Scan.
		if diff := cmp.Diff(text[i].Days, bin[i].Days); diff != "" {
			t.Errorf("pool %d: binary read differs from the text one (-text +binary):\n%s", i, diff)
		}
		if text[i].PoolID != bin[i].PoolID || !reflect.DeepEqual(text[i].LastOrder, bin[i].LastOrder) {
			t.Errorf("pool %d: got %d %v, want %d %v", i, bin[i].PoolID, bin[i].LastOrder, text[i].PoolID, text[i].LastOrder)
		}
	}
	if len(bin[0].Days) != 3 || len(bin[1].Days) != 1 {
		t.Errorf("got %d and %d days, want 3 and 1", len(bin[0].Days), len(bin[1].Days))
	}
	if u := bin[0].Days[0].CPUUsage; u == nil || *u != 150000 || bin[0].Days[0].MemUsage != nil {
		t.Errorf("got usage %v %v, want 150000 and none", deref(u), deref(bin[0].Days[0].MemUsage))
	}
}
