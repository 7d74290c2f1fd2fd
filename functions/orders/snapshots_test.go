package orders

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

func snap(p Pool, at string, cpuAlloc int64) map[string]any {
	return map[string]any{"clusterId": p.ClusterID, "poolId": p.ID, "capturedAt": at,
		"cpuCapacity": 1000, "cpuAllocated": cpuAlloc, "cpuUsage": 50, "memCapacity": 4 << 30, "memAllocated": 1 << 30, "nodeCount": 3}
}

func TestSnapshotIngestRollup(t *testing.T) {
	fx := newOrderFixture(t) // TIMEZONE Asia/Shanghai (UTC+8)
	var res SnapshotIngestResult
	fx.operator.Must(http.StatusOK, "POST", "/api/v1/snapshots", []map[string]any{
		snap(fx.pool, "2026-11-27T15:00:00Z", 100),   // 23:00 on the 27th in Shanghai
		snap(fx.pool, "2026-11-27T16:30:00Z", 200),   // 00:30 on the 28th
		snap(fx.pool, "2026-11-28T10:00:00Z", 300),   // 18:00 on the 28th: the day's latest
		snap(fx.other, "2026-11-28T10:00:00Z", 1500), // overcommitted: allocated > capacity is real
	}).JSON(t, &res)
	if res != (SnapshotIngestResult{Rows: 4, DailyRows: 3}) {
		t.Fatalf("ingest %+v", res)
	}
	// an older snapshot of the 28th arrives late: stored, but the rollup keeps the latest
	fx.operator.Must(http.StatusOK, "POST", "/api/v1/snapshots", []map[string]any{snap(fx.pool, "2026-11-28T02:00:00Z", 250)}).JSON(t, &res)
	if res != (SnapshotIngestResult{Rows: 1, DailyRows: 0}) {
		t.Fatalf("late ingest %+v", res)
	}
	daily := func(q string) []string {
		t.Helper()
		var l List[DailySnapshot]
		fx.viewer.Must(http.StatusOK, "GET", "/api/v1/snapshots/daily?"+q, nil).JSON(t, &l)
		var out []string
		for _, d := range l.Items {
			out = append(out, fmt.Sprintf("%s:%d", d.Day, d.CPUAllocated))
		}
		return out
	}
	if got, want := daily(fmt.Sprintf("poolId=%d", fx.pool.ID)), []string{"2026-11-27:100", "2026-11-28:300"}; !slices.Equal(got, want) {
		t.Fatalf("daily %v, want %v", got, want)
	}
	// re-sending the same instant replaces it (idempotent ingest, corrected values win)
	fx.operator.Must(http.StatusOK, "POST", "/api/v1/snapshots", []map[string]any{snap(fx.pool, "2026-11-28T10:00:00Z", 310)}).JSON(t, &res)
	if res != (SnapshotIngestResult{Rows: 1, DailyRows: 1}) {
		t.Fatalf("re-ingest %+v", res)
	}
	if got, want := daily(fmt.Sprintf("poolId=%d&from=2026-11-28&to=2026-11-28", fx.pool.ID)), []string{"2026-11-28:310"}; !slices.Equal(got, want) {
		t.Fatalf("daily %v, want %v", got, want)
	}
	var l List[DailySnapshot]
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/snapshots/daily?poolId=%d", fx.other.ID), nil).JSON(t, &l)
	if len(l.Items) != 1 || *l.Items[0].CPUAllocatedPercent != 150 || *l.Items[0].CPUUsagePercent != 5 || *l.Items[0].MemAllocatedPercent != 25 {
		t.Fatalf("other pool's rollup %+v", l.Items)
	}
	var n int
	if err := fx.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM cluster_resource_snapshots").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("%d raw snapshots, want 5", n)
	}

	// raw snapshot listing
	list := func(q string) List[Snapshot] {
		t.Helper()
		var l List[Snapshot]
		fx.viewer.Must(http.StatusOK, "GET", "/api/v1/snapshots?"+q, nil).JSON(t, &l)
		return l
	}
	days := func(l List[Snapshot]) []string {
		var out []string
		for _, s := range l.Items {
			out = append(out, s.Day+":"+fmt.Sprint(s.CPUAllocated))
		}
		return out
	}
	if got, want := days(list(fmt.Sprintf("poolId=%d", fx.pool.ID))), []string{"2026-11-28:310", "2026-11-28:250", "2026-11-28:200", "2026-11-27:100"}; !slices.Equal(got, want) {
		t.Errorf("pool snapshots %v, want %v", got, want)
	}
	if got := days(list(fmt.Sprintf("clusterId=%d&from=2026-11-28T00:00:00Z&to=2026-11-28T10:00:00Z", fx.cluster.ID))); !slices.Equal(got, []string{"2026-11-28:250"}) {
		t.Errorf("time window %v", got)
	}
	first := list("sort=capturedAt&limit=3")
	if got := days(list("sort=capturedAt&limit=3&cursor=" + first.NextCursor)); len(got) != 2 || first.NextCursor == "" {
		t.Errorf("page 2 %v", got)
	}
	fx.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/snapshots?sort=cpu", nil)
}

func TestSnapshotValidation(t *testing.T) {
	fx := newOrderFixture(t)
	var foreign Cluster
	fx.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": "sh-1"}).JSON(t, &foreign)
	wrongCluster := snap(fx.pool, "2026-11-28T03:00:00Z", 1)
	wrongCluster["clusterId"] = foreign.ID
	missing := snap(fx.pool, "2026-11-28T01:00:00Z", 1)
	delete(missing, "memCapacity")
	tests := []struct {
		name string
		body any
		want []string
	}{
		{"negative", []map[string]any{snap(fx.pool, "2026-11-28T01:00:00Z", -5)}, []string{"body[0].cpuAllocated"}},
		{"missing field", []map[string]any{missing}, []string{"body[0].memCapacity"}},
		{"pool of another cluster", []map[string]any{snap(fx.pool, "2026-11-28T01:00:00Z", 1), wrongCluster}, []string{"body[1].poolId"}},
		{"no such pool", []map[string]any{snap(Pool{ID: 999999, ClusterID: fx.cluster.ID}, "2026-11-28T01:00:00Z", 1)}, []string{"body[0].poolId"}},
		{"repeated instant", []map[string]any{snap(fx.pool, "2026-11-28T01:00:00Z", 1), snap(fx.pool, "2026-11-28T02:00:00Z", 1),
			snap(fx.pool, "2026-11-28T09:00:00+08:00", 1)}, []string{"body[2].capturedAt"}},
		{"from the future", []map[string]any{snap(fx.pool, "2026-11-29T00:00:00Z", 1)}, []string{"body[0].capturedAt"}},
		{"empty", []map[string]any{}, []string{"body"}},
		{"not a list", map[string]any{"poolId": 1}, []string{"body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fx.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/snapshots", tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v (%+v)", got, tt.want, p)
			}
		})
	}
	var n int
	if err := fx.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM cluster_resource_snapshots").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d snapshots written by refused batches", n)
	}
	fx.viewer.Must(http.StatusForbidden, "POST", "/api/v1/snapshots", []map[string]any{snap(fx.pool, "2026-11-28T01:00:00Z", 1)})

	for q, want := range map[string]string{
		fmt.Sprintf("poolId=%d&from=2026-02-30", fx.pool.ID):               "query.from",
		fmt.Sprintf("poolId=%d&to=2026-13-01", fx.pool.ID):                 "query.to",
		fmt.Sprintf("poolId=%d&from=2026-11-20&to=2026-11-10", fx.pool.ID): "query.from",
		fmt.Sprintf("poolId=%d&from=2000-01-01&to=2026-11-10", fx.pool.ID): "query.from",
		"from=2026-11-01": "query.poolId",
	} {
		p := fx.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/snapshots/daily?"+q, nil).Problem(t)
		if got := p.Locations(); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: got %v, want [%s]", q, got, want)
		}
	}
	fx.viewer.Must(http.StatusNotFound, "GET", "/api/v1/snapshots/daily?poolId=999999", nil)
}
