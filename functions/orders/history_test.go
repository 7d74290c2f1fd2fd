package orders

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

const historyPath = "/api/v1/elastic-scaling/history"

func TestHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c1, c2 := stratCluster(t, e, "c1"), stratCluster(t, e, "c2")
	var p1, p2 Pool
	e.operator.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/clusters/%d/pools", c1.ID), map[string]any{"name": "general-a", "poolType": "general"}).JSON(t, &p1)
	e.operator.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/clusters/%d/pools", c2.ID), map[string]any{"name": "gpu-a", "poolType": "gpu"}).JSON(t, &p2)
	var s1, s2 Strategy
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies", stratBody("grow-general", map[string]any{"clusterIds": []int64{c1.ID}})).JSON(t, &s1)
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies", stratBody("shrink-gpu", map[string]any{
		"thresholdTriggerAction": "pool_exit", "cpuThresholdValue": 20, "cpuTargetValue": 50, "clusterIds": []int64{c2.ID}})).JSON(t, &s2)
	var orderID int64
	if err := e.db.Pool.QueryRow(ctx, `INSERT INTO elastic_scaling_orders (order_number, cluster_id, pool_id, strategy_id, action_type, device_count)
		VALUES ('EO-20261122-0001', $1, $2, $3, 'pool_entry', 2) RETURNING id`, c1.ID, p1.ID, s1.ID).Scan(&orderID); err != nil {
		t.Fatal(err)
	}

	// The pipeline's rows, written directly: 4 days of two strategies, with a tie on day 2.
	t0 := time.Date(2026, 11, 20, 6, 0, 0, 0, e.f.loc)
	day := func(n int) time.Time { return t0.AddDate(0, 0, n) }
	type row struct {
		s        Strategy
		cluster  int64
		pool     int64
		at       time.Time
		result   string
		order    *int64
		observed string
	}
	rows := []row{
		{s1, c1.ID, p1.ID, day(0), "not_met", nil, `{"days":[{"day":"2026-11-19","cpu":71.5}]}`},
		{s1, c1.ID, p1.ID, day(1), "not_met", nil, `{}`},
		{s1, c1.ID, p1.ID, day(2), "triggered", &orderID, `{"days":[{"day":"2026-11-21","cpu":85}],"last":{"cpuCapacity":64000}}`},
		{s1, c1.ID, p1.ID, day(3), "cooldown", nil, `{}`},
		{s2, c2.ID, p2.ID, day(0), "no_data", nil, `{}`},
		{s2, c2.ID, p2.ID, day(1), "error", nil, `[1, 2]`}, // not an object: wrapped, not a 500
		{s2, c2.ID, p2.ID, day(2), "triggered", nil, `{}`},
		{s2, c2.ID, p2.ID, day(3), "not_met", nil, `{}`},
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		errText := ""
		if r.result == "error" {
			errText = "snapshot query timed out"
		}
		if err := e.db.Pool.QueryRow(ctx, `INSERT INTO strategy_execution_history
			(strategy_id, cluster_id, pool_id, evaluated_at, result, action, streak_days, required_days, observed, thresholds, reason, error, order_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 3, $8, '{"cpu":{"type":"allocated","threshold":80,"target":60}}', $9, $10, $11) RETURNING id`,
			r.s.ID, r.cluster, r.pool, r.at, r.result, r.s.ThresholdTriggerAction, i%4, r.observed,
			fmt.Sprintf("row %d", i), errText, r.order).Scan(&ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	// expected orders, as row indexes
	list := func(query string) []int {
		t.Helper()
		var l List[HistoryEntry]
		e.viewer.Must(http.StatusOK, "GET", historyPath+query, nil).JSON(t, &l)
		var out []int
		for _, h := range l.Items {
			out = append(out, slices.Index(ids, h.ID))
		}
		return out
	}
	q := func(ts time.Time) string { return url.QueryEscape(ts.Format(time.RFC3339)) }
	for _, tt := range []struct {
		name, query string
		want        []int
	}{
		{"newest first, ties by id", "", []int{7, 3, 6, 2, 5, 1, 4, 0}},
		{"oldest first", "?sort=evaluatedAt", []int{0, 4, 1, 5, 2, 6, 3, 7}},
		{"by id", "?sort=id", []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"strategy", fmt.Sprintf("?strategyId=%d", s1.ID), []int{3, 2, 1, 0}},
		{"cluster", fmt.Sprintf("?clusterId=%d", c2.ID), []int{7, 6, 5, 4}},
		{"pool", fmt.Sprintf("?poolId=%d", p1.ID), []int{3, 2, 1, 0}},
		{"result", "?result=triggered", []int{6, 2}},
		{"from inclusive, to exclusive", "?from=" + q(day(1)) + "&to=" + q(day(3)), []int{6, 2, 5, 1}},
		{"from only, other zone", "?from=" + url.QueryEscape(day(3).In(time.UTC).Format(time.RFC3339)), []int{7, 3}},
		{"to only", "?to=" + q(day(1)), []int{4, 0}},
		{"combined", fmt.Sprintf("?strategyId=%d&result=not_met&to=%s", s1.ID, q(day(1))), []int{0}},
		{"nothing", fmt.Sprintf("?strategyId=%d&clusterId=%d", s1.ID, c2.ID), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := list(tt.query); !slices.Equal(got, tt.want) {
				t.Fatalf("got rows %v, want %v", got, tt.want)
			}
		})
	}

	for _, sort := range []string{"", "evaluatedAt", "-id"} {
		t.Run("paging "+sort, func(t *testing.T) {
			var got []int
			cursor := ""
			for page := 0; ; page++ {
				var l List[HistoryEntry]
				e.viewer.Must(http.StatusOK, "GET", historyPath+"?limit=3&sort="+sort+"&cursor="+cursor, nil).JSON(t, &l)
				for _, h := range l.Items {
					got = append(got, slices.Index(ids, h.ID))
				}
				if l.NextCursor == "" {
					break
				}
				cursor = l.NextCursor
				if page > 5 {
					t.Fatal("pagination does not end")
				}
			}
			if want := list("?sort=" + sort); !slices.Equal(got, want) || len(got) != len(rows) {
				t.Fatalf("paged %v, want %v", got, want)
			}
		})
	}

	// one entry, with names and the JSON it was written with
	var h HistoryEntry
	e.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("%s/%d", historyPath, ids[2]), nil).JSON(t, &h)
	if h.StrategyID != s1.ID || h.StrategyName != "grow-general" || h.ClusterName != "c1" || h.PoolID != p1.ID || h.PoolName != "general-a" ||
		h.Result != "triggered" || h.Action != "pool_entry" || h.StreakDays != 2 || h.RequiredDays != 3 || h.Reason != "row 2" ||
		h.OrderID == nil || *h.OrderID != orderID || !h.EvaluatedAt.Equal(day(2)) {
		t.Fatalf("entry %+v", h)
	}
	if last, _ := h.Observed["last"].(map[string]any); last["cpuCapacity"] != 64000.0 {
		t.Errorf("observed %v", h.Observed)
	}
	if cpu, _ := h.Thresholds["cpu"].(map[string]any); cpu["threshold"] != 80.0 {
		t.Errorf("thresholds %v", h.Thresholds)
	}
	e.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("%s/%d", historyPath, ids[5]), nil).JSON(t, &h)
	if h.OrderID != nil || h.Error != "snapshot query timed out" || h.StrategyName != "shrink-gpu" || h.Action != "pool_exit" {
		t.Fatalf("entry %+v", h)
	}
	if v, _ := h.Observed["value"].([]any); len(v) != 2 {
		t.Errorf("non-object observed came back as %v", h.Observed)
	}
	e.viewer.Must(http.StatusNotFound, "GET", historyPath+"/99999", nil)

	// bad queries
	for _, query := range []string{
		"?from=" + q(day(2)) + "&to=" + q(day(1)),
		"?from=" + q(day(2)) + "&to=" + q(day(2)),
		"?from=yesterday",
		"?result=maybe",
		"?sort=result",
		"?cursor=garbage",
		"?limit=0",
		"?strategyId=-1",
	} {
		e.viewer.Must(http.StatusUnprocessableEntity, "GET", historyPath+query, nil)
	}
	var first List[HistoryEntry]
	e.viewer.Must(http.StatusOK, "GET", historyPath+"?limit=2", nil).JSON(t, &first)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", historyPath+"?sort=evaluatedAt&cursor="+first.NextCursor, nil)

	// read-only: anonymous users cannot read, and there is no write operation
	e.anon.Must(http.StatusUnauthorized, "GET", historyPath, nil)
	e.anon.Must(http.StatusUnauthorized, "GET", fmt.Sprintf("%s/%d", historyPath, ids[0]), nil)
	e.admin.Must(http.StatusMethodNotAllowed, "POST", historyPath, map[string]any{})
	e.admin.Must(http.StatusMethodNotAllowed, "DELETE", fmt.Sprintf("%s/%d", historyPath, ids[0]), nil)

	// deleting a strategy takes its history with it
	e.operator.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/elastic-scaling/strategies/%d", s2.ID), nil)
	if got := list(""); !slices.Equal(got, []int{3, 2, 1, 0}) {
		t.Fatalf("after strategy delete: rows %v", got)
	}
}
