package orders

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// snapshotFutureSlack tolerates collector clock skew; a snapshot further in
// the future would win its day's rollup until that day really ends.
const snapshotFutureSlack = 10 * time.Minute

// SnapshotInput is one pool's resources at one instant. Allocated may exceed
// capacity (overcommitted requests are real), so only negatives are refused.
type SnapshotInput struct {
	ClusterID    int64     `json:"clusterId" minimum:"1"`
	PoolID       int64     `json:"poolId" minimum:"1" doc:"Must belong to clusterId."`
	CapturedAt   time.Time `json:"capturedAt"`
	CPUCapacity  int64     `json:"cpuCapacity" minimum:"0" doc:"Millicores."`
	CPUAllocated int64     `json:"cpuAllocated" minimum:"0" doc:"Millicores requested; may exceed capacity (overcommit)."`
	CPUUsage     *int64    `json:"cpuUsage,omitempty" minimum:"0" doc:"Millicores used; omit when metrics are not served."`
	MemCapacity  int64     `json:"memCapacity" minimum:"0" doc:"Bytes."`
	MemAllocated int64     `json:"memAllocated" minimum:"0" doc:"Bytes requested; may exceed capacity."`
	MemUsage     *int64    `json:"memUsage,omitempty" minimum:"0" doc:"Bytes used; omit when metrics are not served."`
	NodeCount    int       `json:"nodeCount,omitempty" minimum:"0"`
	Source       string    `json:"source,omitempty" maxLength:"50" doc:"Who measured it (default api)."`
}

// Snapshot is a stored snapshot.
type Snapshot struct {
	ID           int64     `json:"id"`
	ClusterID    int64     `json:"clusterId"`
	PoolID       int64     `json:"poolId"`
	CapturedAt   time.Time `json:"capturedAt"`
	Day          string    `json:"day" format:"date" doc:"capturedAt's calendar day in the configured TIMEZONE."`
	CPUCapacity  int64     `json:"cpuCapacity"`
	CPUAllocated int64     `json:"cpuAllocated"`
	CPUUsage     *int64    `json:"cpuUsage"`
	MemCapacity  int64     `json:"memCapacity"`
	MemAllocated int64     `json:"memAllocated"`
	MemUsage     *int64    `json:"memUsage"`
	NodeCount    int       `json:"nodeCount"`
	Source       string    `json:"source"`
	CreatedAt    time.Time `json:"createdAt"`
}

// DailySnapshot is a pool's latest snapshot of one day, with its rates.
type DailySnapshot struct {
	PoolID              int64     `json:"poolId"`
	ClusterID           int64     `json:"clusterId"`
	Day                 string    `json:"day" format:"date"`
	CapturedAt          time.Time `json:"capturedAt"`
	CPUCapacity         int64     `json:"cpuCapacity"`
	CPUAllocated        int64     `json:"cpuAllocated"`
	CPUUsage            *int64    `json:"cpuUsage"`
	MemCapacity         int64     `json:"memCapacity"`
	MemAllocated        int64     `json:"memAllocated"`
	MemUsage            *int64    `json:"memUsage"`
	NodeCount           int       `json:"nodeCount"`
	CPUAllocatedPercent *float64  `json:"cpuAllocatedPercent" doc:"100 × allocated / capacity; null at zero capacity."`
	CPUUsagePercent     *float64  `json:"cpuUsagePercent"`
	MemAllocatedPercent *float64  `json:"memAllocatedPercent"`
	MemUsagePercent     *float64  `json:"memUsagePercent"`
}

// SnapshotIngestResult says what an ingest wrote.
type SnapshotIngestResult struct {
	Rows      int `json:"rows" doc:"Snapshots written (a repeated pool+capturedAt replaces the stored one)."`
	DailyRows int `json:"dailyRows" doc:"Daily rollup rows inserted or replaced by a later snapshot of their day."`
}

const snapshotColumns = `id, cluster_id, pool_id, captured_at, day, cpu_capacity, cpu_allocated, cpu_usage,
	mem_capacity, mem_allocated, mem_usage, node_count, source, created_at`

func scanSnapshot(row pgx.Row) (Snapshot, error) {
	var s Snapshot
	var day time.Time
	err := row.Scan(&s.ID, &s.ClusterID, &s.PoolID, &s.CapturedAt, &day, &s.CPUCapacity, &s.CPUAllocated, &s.CPUUsage,
		&s.MemCapacity, &s.MemAllocated, &s.MemUsage, &s.NodeCount, &s.Source, &s.CreatedAt)
	s.Day = day.Format(time.DateOnly)
	return s, postgres.Translate(err)
}

var snapshotSorts = map[string]string{"capturedAt": "captured_at", "id": "id"}

func snapshotCursor(s httpapi.Sort) func(Snapshot) httpapi.Cursor {
	return func(sn Snapshot) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: sn.ID}
		if s.Key == "capturedAt" {
			c.Value = sn.CapturedAt
		}
		return c
	}
}

func percent(v, capacity int64) *float64 {
	if capacity <= 0 {
		return nil
	}
	p := 100 * float64(v) / float64(capacity)
	return &p
}

func percentOf(v *int64, capacity int64) *float64 {
	if v == nil {
		return nil
	}
	return percent(*v, capacity)
}

func (f *Function) registerSnapshots() {
	huma.Register(f.api, huma.Operation{
		OperationID: "ingest-snapshots", Method: http.MethodPost, Path: httpapi.Prefix + "/snapshots",
		Summary: "Ingest pool snapshots (bulk)", Tags: []string{"snapshots"},
		Description: "One transaction: every row is stored with its day in the configured TIMEZONE, and each (pool, day) " +
			"rollup keeps the snapshot with the latest capturedAt. Re-sending a pool+capturedAt replaces it (idempotent).",
		MaxBodyBytes: 32 << 20,
	}, func(ctx context.Context, in *struct {
		Body []SnapshotInput `minItems:"1" maxItems:"100000"`
	}) (*struct{ Body SnapshotIngestResult }, error) {
		res, err := f.ingestSnapshots(ctx, in.Body)
		if err != nil {
			return nil, err
		}
		return &struct{ Body SnapshotIngestResult }{Body: res}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "list-snapshots", Method: http.MethodGet, Path: httpapi.Prefix + "/snapshots",
		Summary: "List raw snapshots", Tags: []string{"snapshots"},
	}, func(ctx context.Context, in *struct {
		ClusterID int64     `query:"clusterId" minimum:"0"`
		PoolID    int64     `query:"poolId" minimum:"0"`
		From      time.Time `query:"from" doc:"capturedAt ≥ from (RFC 3339)."`
		To        time.Time `query:"to" doc:"capturedAt < to (RFC 3339)."`
		ListParams
	}) (*struct{ Body List[Snapshot] }, error) {
		sort, err := httpapi.ParseSort(in.Sort, "-capturedAt", snapshotSorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		w := newWhere()
		if in.ClusterID > 0 {
			w.add("cluster_id = " + w.arg(in.ClusterID))
		}
		if in.PoolID > 0 {
			w.add("pool_id = " + w.arg(in.PoolID))
		}
		if !in.From.IsZero() {
			w.add("captured_at >= " + w.arg(in.From))
		}
		if !in.To.IsZero() {
			w.add("captured_at < " + w.arg(in.To))
		}
		items, next, err := listPage(ctx, customPlans{f.db}, "SELECT "+snapshotColumns+" FROM cluster_resource_snapshots", w, sort, cur, in.Limit,
			scanSnapshot, snapshotCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "snapshots")
		}
		return &struct{ Body List[Snapshot] }{Body: List[Snapshot]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "list-daily-snapshots", Method: http.MethodGet, Path: httpapi.Prefix + "/snapshots/daily",
		Summary: "A pool's daily rollup (latest snapshot per day), oldest first, for trend charts", Tags: []string{"snapshots"},
	}, func(ctx context.Context, in *struct {
		PoolID int64  `query:"poolId" minimum:"1" required:"true"`
		From   string `query:"from" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"First day (YYYY-MM-DD); default 30 days before to."`
		To     string `query:"to" pattern:"^[0-9]{4}-[0-9]{2}-[0-9]{2}$" doc:"Last day, inclusive (YYYY-MM-DD); default today in the configured TIMEZONE."`
	}) (*struct{ Body List[DailySnapshot] }, error) {
		to := f.now().In(f.loc)
		to = time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
		var errs []*httpapi.FieldError
		if in.To != "" {
			d, err := time.Parse(time.DateOnly, in.To)
			if err != nil {
				errs = append(errs, &httpapi.FieldError{Location: "query.to", Message: "not a calendar date", Value: in.To})
			}
			to = d
		}
		from := to.AddDate(0, 0, -29)
		if in.From != "" {
			d, err := time.Parse(time.DateOnly, in.From)
			if err != nil {
				errs = append(errs, &httpapi.FieldError{Location: "query.from", Message: "not a calendar date", Value: in.From})
			}
			from = d
		}
		if len(errs) == 0 && from.After(to) {
			errs = append(errs, &httpapi.FieldError{Location: "query.from", Message: "is after to", Value: in.From})
		}
		if len(errs) == 0 && to.Sub(from) > 3660*24*time.Hour {
			errs = append(errs, &httpapi.FieldError{Location: "query.from", Message: "the range is at most 3660 days", Value: in.From})
		}
		if len(errs) > 0 {
			return nil, httpapi.Invalid("bad range", errs...)
		}
		rows, err := f.db.Query(ctx, `SELECT pool_id, cluster_id, day, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
				mem_capacity, mem_allocated, mem_usage, node_count
			FROM pool_daily_snapshots WHERE pool_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day`, in.PoolID, from, to)
		if err != nil {
			return nil, httpapi.StoreError(postgres.Translate(err), "daily snapshots")
		}
		items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DailySnapshot, error) {
			var d DailySnapshot
			var day time.Time
			err := r.Scan(&d.PoolID, &d.ClusterID, &day, &d.CapturedAt, &d.CPUCapacity, &d.CPUAllocated, &d.CPUUsage,
				&d.MemCapacity, &d.MemAllocated, &d.MemUsage, &d.NodeCount)
			d.Day = day.Format(time.DateOnly)
			d.CPUAllocatedPercent = percent(d.CPUAllocated, d.CPUCapacity)
			d.MemAllocatedPercent = percent(d.MemAllocated, d.MemCapacity)
			d.CPUUsagePercent = percentOf(d.CPUUsage, d.CPUCapacity)
			d.MemUsagePercent = percentOf(d.MemUsage, d.MemCapacity)
			return d, err
		})
		if err != nil {
			return nil, httpapi.StoreError(postgres.Translate(err), "daily snapshots")
		}
		if len(items) == 0 {
			var exists bool
			if err := f.db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM resource_pools WHERE id = $1)", in.PoolID).Scan(&exists); err != nil {
				return nil, httpapi.StoreError(postgres.Translate(err), "daily snapshots")
			}
			if !exists {
				return nil, huma.Error404NotFound(fmt.Sprintf("pool %d not found", in.PoolID))
			}
		}
		return &struct{ Body List[DailySnapshot] }{Body: List[DailySnapshot]{Items: items}}, nil
	})
}

// ingestSnapshots validates the batch (pool of the cluster, no repeated
// pool+capturedAt, nothing from the future) and writes it with one
// statement: the raw rows and the daily rollup, both set-based from one
// unnest of array parameters.
func (f *Function) ingestSnapshots(ctx context.Context, in []SnapshotInput) (SnapshotIngestResult, error) {
	n := len(in)
	var errs []*httpapi.FieldError
	type key struct {
		pool int64
		at   time.Time
	}
	seen := make(map[key]int, n)
	poolIDs := make([]int64, 0, n)
	limit := f.now().Add(snapshotFutureSlack)
	for i, s := range in {
		k := key{s.PoolID, s.CapturedAt.UTC()}
		if j, dup := seen[k]; dup {
			errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("body[%d].capturedAt", i),
				Message: fmt.Sprintf("pool %d at this instant repeats body[%d]", s.PoolID, j), Value: s.CapturedAt})
		}
		seen[k] = i
		if s.CapturedAt.After(limit) {
			errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("body[%d].capturedAt", i), Message: "is in the future", Value: s.CapturedAt})
		}
		poolIDs = append(poolIDs, s.PoolID)
	}
	rows, err := f.db.Query(ctx, "SELECT id, cluster_id FROM resource_pools WHERE id = ANY($1)", poolIDs)
	if err != nil {
		return SnapshotIngestResult{}, httpapi.StoreError(postgres.Translate(err), "snapshots")
	}
	pools := map[int64]int64{}
	var id, cluster int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &cluster}, func() error { pools[id] = cluster; return nil }); err != nil {
		return SnapshotIngestResult{}, httpapi.StoreError(postgres.Translate(err), "snapshots")
	}
	for i, s := range in {
		c, ok := pools[s.PoolID]
		switch {
		case !ok:
			errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("body[%d].poolId", i), Message: "no such pool", Value: s.PoolID})
		case c != s.ClusterID:
			errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("body[%d].poolId", i),
				Message: fmt.Sprintf("pool %d belongs to cluster %d, not %d", s.PoolID, c, s.ClusterID), Value: s.PoolID})
		}
	}
	if len(errs) > 0 {
		total := len(errs)
		if len(errs) > importMaxErrors {
			errs = errs[:importMaxErrors]
		}
		return SnapshotIngestResult{}, httpapi.Invalid(fmt.Sprintf("%d errors in the batch; nothing was written", total), errs...)
	}

	var (
		clusterIDs             = make([]int64, n)
		capturedAt             = make([]time.Time, n)
		days                   = make([]time.Time, n)
		cpuCap, cpuAll, memCap = make([]int64, n), make([]int64, n), make([]int64, n)
		memAll                 = make([]int64, n)
		cpuUse, memUse         = make([]*int64, n), make([]*int64, n)
		nodes                  = make([]int32, n)
		sources                = make([]string, n)
	)
	for i, s := range in {
		clusterIDs[i], capturedAt[i] = s.ClusterID, s.CapturedAt
		// The day is a calendar date in TIMEZONE; pgx writes a date from the
		// time's own Y-M-D, so carry it as midnight UTC.
		local := s.CapturedAt.In(f.loc)
		days[i] = time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
		cpuCap[i], cpuAll[i], cpuUse[i] = s.CPUCapacity, s.CPUAllocated, s.CPUUsage
		memCap[i], memAll[i], memUse[i] = s.MemCapacity, s.MemAllocated, s.MemUsage
		nodes[i] = int32(s.NodeCount)
		sources[i] = s.Source
		if sources[i] == "" {
			sources[i] = "api"
		}
	}
	var res SnapshotIngestResult
	err = f.db.QueryRow(ctx, `WITH input AS (
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::date[], $5::bigint[], $6::bigint[],
				$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::integer[], $12::text[])
			AS t(cluster_id, pool_id, captured_at, day, cpu_capacity, cpu_allocated, cpu_usage,
				mem_capacity, mem_allocated, mem_usage, node_count, source)
		), raw AS (
			INSERT INTO cluster_resource_snapshots (cluster_id, pool_id, captured_at, day, cpu_capacity, cpu_allocated, cpu_usage,
				mem_capacity, mem_allocated, mem_usage, node_count, source)
			SELECT * FROM input
			ON CONFLICT (pool_id, captured_at) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, day = EXCLUDED.day,
				cpu_capacity = EXCLUDED.cpu_capacity, cpu_allocated = EXCLUDED.cpu_allocated, cpu_usage = EXCLUDED.cpu_usage,
				mem_capacity = EXCLUDED.mem_capacity, mem_allocated = EXCLUDED.mem_allocated, mem_usage = EXCLUDED.mem_usage,
				node_count = EXCLUDED.node_count, source = EXCLUDED.source, updated_at = now()
			RETURNING 1
		), daily AS (
			INSERT INTO pool_daily_snapshots AS p (pool_id, day, cluster_id, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
				mem_capacity, mem_allocated, mem_usage, node_count)
			SELECT DISTINCT ON (pool_id, day) pool_id, day, cluster_id, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
				mem_capacity, mem_allocated, mem_usage, node_count
			FROM input ORDER BY pool_id, day, captured_at DESC
			ON CONFLICT (pool_id, day) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, captured_at = EXCLUDED.captured_at,
				cpu_capacity = EXCLUDED.cpu_capacity, cpu_allocated = EXCLUDED.cpu_allocated, cpu_usage = EXCLUDED.cpu_usage,
				mem_capacity = EXCLUDED.mem_capacity, mem_allocated = EXCLUDED.mem_allocated, mem_usage = EXCLUDED.mem_usage,
				node_count = EXCLUDED.node_count
			WHERE p.captured_at <= EXCLUDED.captured_at
			RETURNING 1
		)
		SELECT (SELECT count(*) FROM raw), (SELECT count(*) FROM daily)`,
		clusterIDs, poolIDs, capturedAt, days, cpuCap, cpuAll, cpuUse, memCap, memAll, memUse, nodes, sources).
		Scan(&res.Rows, &res.DailyRows)
	if err != nil {
		return res, httpapi.StoreError(postgres.Translate(err), "snapshots")
	}
	return res, nil
}
