package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/pipeline"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// EvaluationRequest runs the pipeline now (DESIGN §8 POST /evaluations).
type EvaluationRequest struct {
	StrategyID     *int64     `json:"strategyId,omitempty" minimum:"1" doc:"The strategy to run; absent: every enabled strategy."`
	EvaluationTime *time.Time `json:"evaluationTime,omitempty" doc:"T, the evaluation time; default now. A run for real may not be in the future."`
	DryRun         bool       `json:"dryRun,omitempty" doc:"Compute the decisions, counts and chosen devices; write nothing, take no lock, send nothing. A disabled strategy can be dry-run."`
}

// EvaluationResult is what a run decided, per strategy and cluster+pool.
type EvaluationResult struct {
	EvaluationTime time.Time     `json:"evaluationTime"`
	DryRun         bool          `json:"dryRun"`
	Strategies     []StrategyRun `json:"strategies"`
	OrdersCreated  int           `json:"ordersCreated" doc:"New orders (0 for a dry run)."`
	Warnings       []string      `json:"warnings,omitempty" doc:"E.g. events that could not be sent after the orders were committed."`
}

// StrategyRun is one strategy's evaluation.
type StrategyRun struct {
	StrategyID   int64          `json:"strategyId"`
	StrategyName string         `json:"strategyName"`
	Action       string         `json:"action" enum:"pool_entry,pool_exit"`
	Reused       bool           `json:"reused" doc:"This strategy was already evaluated at this exact T: its history rows were reused."`
	Error        string         `json:"error,omitempty" doc:"Why this strategy could not be evaluated (runs of every strategy continue with the next)."`
	Decisions    []PoolDecision `json:"decisions"`
}

// PoolDecision is one cluster+pool: its history row and, when triggered, the match.
type PoolDecision struct {
	HistoryID    *int64                            `json:"historyId,omitempty" doc:"Absent for a dry run."`
	ClusterID    int64                             `json:"clusterId"`
	ClusterName  string                            `json:"clusterName"`
	PoolID       int64                             `json:"poolId"`
	PoolName     string                            `json:"poolName"`
	PoolType     string                            `json:"poolType"`
	Result       string                            `json:"result" enum:"triggered,not_met,cooldown,no_data,error"`
	StreakDays   int                               `json:"streakDays"`
	RequiredDays int                               `json:"requiredDays"`
	Reason       string                            `json:"reason"`
	Error        string                            `json:"error,omitempty"`
	Readings     map[string]events.ResourceReading `json:"readings,omitempty" doc:"The window's last day per resource (cpu, memory)."`
	Match        *MatchResult                      `json:"match,omitempty" doc:"Triggered pools only."`
}

// MatchResult is what matching decided (or, in a dry run, would decide).
type MatchResult struct {
	Status      string          `json:"status" enum:"created,existing,shortage,nothing,no_template,bad_template,skipped,would_create"`
	OrderID     *int64          `json:"orderId,omitempty"`
	OrderNumber string          `json:"orderNumber,omitempty"`
	Template    *MatchTemplate  `json:"template,omitempty"`
	Devices     []MatchedDevice `json:"devices"`
	Needed      int             `json:"needed"`
	Found       int             `json:"found"`
	Shortage    bool            `json:"shortage"`
	Reason      string          `json:"reason"`
}

// MatchTemplate names the query template used.
type MatchTemplate struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Source string `json:"source" enum:"strategy,policy"`
}

// MatchedDevice is a chosen device.
type MatchedDevice struct {
	ID          int64  `json:"id"`
	Hostname    string `json:"hostname"`
	CPUCores    int    `json:"cpuCores"`
	MemoryBytes int64  `json:"memoryBytes"`
}

// registerEvaluations adds POST /evaluations. redisPrefix is REDIS_PREFIX,
// so run-now takes the same cooldown locks as the evaluate function.
func (f *Function) registerEvaluations(redisPrefix string) {
	var locks *lock.Client
	if f.rdb != nil {
		locks = lock.New(f.rdb, redisPrefix)
	}
	eval := &pipeline.Evaluator{DB: f.db, Locks: locks, Location: f.loc, Now: f.now}
	matcher := &pipeline.Matcher{DB: f.db, Location: f.loc, Now: f.now}

	huma.Register(f.api, huma.Operation{
		OperationID: "run-evaluation", Method: http.MethodPost, Path: httpapi.Prefix + "/evaluations",
		Summary: "Run now or dry-run one strategy (or all) at a time T", Tags: []string{"evaluations"},
		Description: "Runs the daily pipeline in process: evaluation (history rows), then matching for every triggered " +
			"cluster+pool (orders), then order.created / inventory.shortage events. Idempotent like the daily run: " +
			"the same T reuses its history rows, the same day's order is found again by its key. With dryRun " +
			"nothing is written, locked or sent.",
	}, func(ctx context.Context, in *struct {
		Traceparent string `header:"traceparent" doc:"W3C trace context; the events sent continue it."`
		Body        EvaluationRequest
	}) (*struct{ Body EvaluationResult }, error) {
		ctx = events.ContextWithTrace(ctx, events.Trace{Parent: in.Traceparent})
		b := in.Body
		now := f.now()
		at := now
		if b.EvaluationTime != nil {
			at = *b.EvaluationTime
		}
		if !b.DryRun && at.After(now.Add(5*time.Minute)) {
			return nil, httpapi.Invalid("evaluationTime is in the future", &httpapi.FieldError{Location: "body.evaluationTime",
				Message: "a run for real cannot be in the future (its orders would carry a future date); use dryRun", Value: at})
		}
		at = at.Truncate(time.Microsecond)
		res := EvaluationResult{EvaluationTime: at, DryRun: b.DryRun, Strategies: []StrategyRun{}}
		var ids []int64
		if b.StrategyID != nil {
			ids = []int64{*b.StrategyID}
		} else {
			var err error
			if ids, err = pipeline.EnabledStrategies(ctx, f.db); err != nil {
				return nil, httpapi.StoreError(err, "strategies")
			}
		}
		for _, id := range ids {
			sr, err := f.runStrategy(ctx, eval, matcher, id, at, b.DryRun, &res)
			if err != nil && b.StrategyID != nil {
				return nil, evaluationError(err, id)
			}
			if err != nil {
				slog.WarnContext(ctx, "run-now: strategy failed", "strategy", id, "err", err)
				sr.Error = err.Error()
			}
			res.Strategies = append(res.Strategies, sr)
		}
		return &struct{ Body EvaluationResult }{Body: res}, nil
	})
}

func evaluationError(err error, id int64) error {
	switch {
	case errors.Is(err, pipeline.ErrStrategyNotFound):
		return huma.Error404NotFound(fmt.Sprintf("strategy %d not found", id))
	case errors.Is(err, pipeline.ErrStrategyDisabled):
		return httpapi.Invalid(fmt.Sprintf("strategy %d is disabled: enable it, or run it with dryRun", id),
			&httpapi.FieldError{Location: "body.strategyId", Message: "is disabled", Value: id})
	}
	return httpapi.StoreError(err, fmt.Sprintf("evaluation of strategy %d", id))
}

// runStrategy evaluates one strategy and matches its triggered pools, in
// process, through the same engines as the evaluate and match functions.
func (f *Function) runStrategy(ctx context.Context, eval *pipeline.Evaluator, matcher *pipeline.Matcher, id int64, at time.Time, dry bool, res *EvaluationResult) (StrategyRun, error) {
	sr := StrategyRun{StrategyID: id, Decisions: []PoolDecision{}}
	run, err := eval.Evaluate(ctx, id, at, pipeline.EvalOptions{DryRun: dry, IncludeDisabled: dry})
	if err != nil {
		return sr, err
	}
	sr.StrategyName, sr.Action, sr.Reused = run.StrategyName, string(run.Action), run.Reused
	for _, d := range run.Decisions {
		pd := PoolDecision{ClusterID: d.ClusterID, ClusterName: d.ClusterName, PoolID: d.PoolID, PoolName: d.PoolName,
			PoolType: d.PoolType, Result: d.Result, StreakDays: d.StreakDays, RequiredDays: d.RequiredDays,
			Reason: d.Reason, Error: d.Error, Readings: d.Observed.Resources}
		if d.HistoryID != 0 {
			pd.HistoryID = &d.HistoryID
		}
		if d.Result == string(scaling.ResultTriggered) {
			var out pipeline.Outcome
			if dry {
				out, err = matcher.Preview(ctx, id, d, at)
			} else {
				out, err = matcher.Match(ctx, run.Breach(d))
			}
			if err != nil {
				return sr, fmt.Errorf("match %s/%s: %w", d.ClusterName, d.PoolName, err)
			}
			pd.Match = matchResult(out)
			if out.Status == pipeline.MatchCreated {
				res.OrdersCreated++
			}
			if !dry && f.emitter != nil {
				if err := events.EmitAll(ctx, f.emitter, out.Events); err != nil {
					res.Warnings = append(res.Warnings, fmt.Sprintf("%s/%s: the order is saved but its events were not sent: %v", d.ClusterName, d.PoolName, err))
				}
			}
		}
		sr.Decisions = append(sr.Decisions, pd)
	}
	return sr, nil
}

func matchResult(o pipeline.Outcome) *MatchResult {
	m := &MatchResult{Status: o.Status, OrderID: o.OrderID, OrderNumber: o.OrderNumber, Needed: o.Needed, Found: o.Found,
		Shortage: o.Shortage, Reason: o.Reason, Devices: []MatchedDevice{}}
	if o.Template != nil {
		m.Template = &MatchTemplate{ID: o.Template.ID, Name: o.Template.Name, Source: o.Template.Source}
	}
	for _, d := range o.Devices {
		m.Devices = append(m.Devices, MatchedDevice{ID: d.ID, Hostname: d.Hostname, CPUCores: d.CPUCores, MemoryBytes: d.MemoryBytes})
	}
	return m
}
