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

// HistoryEntry is one evaluation of one strategy on one cluster+pool
// (DESIGN §5.5), written by the evaluation pipeline; the API only reads it.
type HistoryEntry struct {
	ID           int64          `json:"id"`
	StrategyID   int64          `json:"strategyId"`
	StrategyName string         `json:"strategyName"`
	ClusterID    int64          `json:"clusterId"`
	ClusterName  string         `json:"clusterName"`
	PoolID       int64          `json:"poolId"`
	PoolName     string         `json:"poolName"`
	EvaluatedAt  time.Time      `json:"evaluatedAt" doc:"T, the evaluation (tick) time."`
	Result       string         `json:"result" enum:"triggered,not_met,cooldown,no_data,error"`
	Action       string         `json:"action" enum:"pool_entry,pool_exit"`
	StreakDays   int            `json:"streakDays"`
	RequiredDays int            `json:"requiredDays"`
	Observed     map[string]any `json:"observed" doc:"Per-day rates and the last values seen."`
	Thresholds   map[string]any `json:"thresholds" doc:"Thresholds and targets as configured at T."`
	Reason       string         `json:"reason"`
	Error        string         `json:"error"`
	OrderID      *int64         `json:"orderId" doc:"The order this evaluation created, if any."`
	CreatedAt    time.Time      `json:"createdAt"`
}

// historyFrom joins the names in; it is a derived table so listPage's bare
// column names (id, evaluated_at) are unambiguous. Postgres pulls it up, so
// filters and the keyset still use the history indexes. observed and
// thresholds are objects by contract; anything else written by mistake is
// wrapped rather than failing the whole page.
const historyFrom = `(SELECT h.id, h.strategy_id, s.name AS strategy_name, h.cluster_id, c.name AS cluster_name,
		h.pool_id, p.name AS pool_name, h.evaluated_at, h.result, h.action, h.streak_days, h.required_days,
		CASE WHEN jsonb_typeof(h.observed) = 'object' THEN h.observed ELSE jsonb_build_object('value', h.observed) END AS observed,
		CASE WHEN jsonb_typeof(h.thresholds) = 'object' THEN h.thresholds ELSE jsonb_build_object('value', h.thresholds) END AS thresholds,
		h.reason, h.error, h.order_id, h.created_at
	FROM strategy_execution_history h
	JOIN elastic_scaling_strategies s ON s.id = h.strategy_id
	JOIN clusters c ON c.id = h.cluster_id
	JOIN resource_pools p ON p.id = h.pool_id) x`

const historyColumns = `id, strategy_id, strategy_name, cluster_id, cluster_name, pool_id, pool_name, evaluated_at,
	result, action, streak_days, required_days, observed, thresholds, reason, error, order_id, created_at`

func scanHistory(row pgx.Row) (HistoryEntry, error) {
	var h HistoryEntry
	err := row.Scan(&h.ID, &h.StrategyID, &h.StrategyName, &h.ClusterID, &h.ClusterName, &h.PoolID, &h.PoolName,
		&h.EvaluatedAt, &h.Result, &h.Action, &h.StreakDays, &h.RequiredDays, &h.Observed, &h.Thresholds,
		&h.Reason, &h.Error, &h.OrderID, &h.CreatedAt)
	return h, postgres.Translate(err)
}

var historySorts = map[string]string{"evaluatedAt": "evaluated_at", "id": "id"}

func historyCursor(s httpapi.Sort) func(HistoryEntry) httpapi.Cursor {
	return func(h HistoryEntry) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: h.ID}
		if s.Key == "evaluatedAt" {
			c.Value = h.EvaluatedAt
		}
		return c
	}
}

func (f *Function) registerHistory() {
	const base = httpapi.Prefix + "/elastic-scaling/history"
	tags := []string{"history"}

	huma.Register(f.api, huma.Operation{
		OperationID: "list-history", Method: http.MethodGet, Path: base,
		Summary: "List strategy execution history (newest first by default)", Tags: tags,
	}, func(ctx context.Context, in *struct {
		StrategyID int64     `query:"strategyId" minimum:"0"`
		ClusterID  int64     `query:"clusterId" minimum:"0"`
		PoolID     int64     `query:"poolId" minimum:"0"`
		Result     string    `query:"result" enum:"triggered,not_met,cooldown,no_data,error"`
		From       time.Time `query:"from" doc:"evaluatedAt ≥ from (RFC 3339)."`
		To         time.Time `query:"to" doc:"evaluatedAt < to (RFC 3339)."`
		ListParams
	}) (*struct{ Body List[HistoryEntry] }, error) {
		if !in.From.IsZero() && !in.To.IsZero() && !in.To.After(in.From) {
			return nil, httpapi.Invalid("empty time range", &httpapi.FieldError{Location: "query.to", Message: "must be after from", Value: in.To})
		}
		sort, err := httpapi.ParseSort(in.Sort, "-evaluatedAt", historySorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		w := newWhere()
		if in.StrategyID > 0 {
			w.add("strategy_id = " + w.arg(in.StrategyID))
		}
		if in.ClusterID > 0 {
			w.add("cluster_id = " + w.arg(in.ClusterID))
		}
		if in.PoolID > 0 {
			w.add("pool_id = " + w.arg(in.PoolID))
		}
		if in.Result != "" {
			w.add("result = " + w.arg(in.Result))
		}
		if !in.From.IsZero() {
			w.add("evaluated_at >= " + w.arg(in.From))
		}
		if !in.To.IsZero() {
			w.add("evaluated_at < " + w.arg(in.To))
		}
		items, next, err := listPage(ctx, f.db, "SELECT "+historyColumns+" FROM "+historyFrom, w, sort, cur, in.Limit,
			scanHistory, historyCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "history")
		}
		return &struct{ Body List[HistoryEntry] }{Body: List[HistoryEntry]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-history", Method: http.MethodGet, Path: base + "/{id}",
		Summary: "Get one strategy execution history entry", Tags: tags,
	}, func(ctx context.Context, in *idPath) (*struct{ Body HistoryEntry }, error) {
		h, err := scanHistory(f.db.QueryRow(ctx, "SELECT "+historyColumns+" FROM "+historyFrom+" WHERE id = $1", in.ID))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("history entry %d", in.ID))
		}
		return &struct{ Body HistoryEntry }{Body: h}, nil
	})
}
