// Package pipeline is the I/O half of the decision pipeline (DESIGN §5, §6):
// the Evaluator reads a strategy's snapshots set-based, applies
// shared/scaling to every cluster+pool and writes the execution history; the
// Matcher turns one breach into an order through the device query engine.
// Both are called by the evaluate and match CloudEvent functions and, in
// process, by POST /api/v1/evaluations (run now, dry run). They never emit:
// they return the events to send after their transaction committed, so the
// caller decides how (STYLE habit 5). docs/pipeline.md records the decisions.
package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// Errors the callers map to a status.
var (
	// ErrStrategyNotFound: no such strategy (deleted since the fan-out, or a bad id).
	ErrStrategyNotFound = errors.New("strategy not found")
	// ErrStrategyDisabled: the strategy is disabled; only a dry run evaluates it.
	ErrStrategyDisabled = errors.New("strategy is disabled")
	// ErrBadBreach: a threshold.breached event that does not match its history row.
	ErrBadBreach = errors.New("breach does not match its execution history")
)

// Strategy is a strategy row: the decision math's part plus what the
// pipeline needs around it.
type Strategy struct {
	scaling.Strategy
	Name            string
	Enabled         bool
	NodeSelector    string
	ResourceTypes   []string // empty: every pool type
	EntryTemplateID *int64
	ExitTemplateID  *int64
}

const strategyColumns = `id, name, status = 'enabled', threshold_trigger_action, cpu_threshold_value, cpu_threshold_type,
	cpu_target_value, memory_threshold_value, memory_threshold_type, memory_target_value, condition_logic,
	duration_minutes, cooldown_minutes, device_count, node_selector, resource_types, entry_query_template_id,
	exit_query_template_id, selection_policy`

// LoadStrategy reads one strategy; ErrStrategyNotFound when absent.
func LoadStrategy(ctx context.Context, q postgres.Querier, id int64) (Strategy, error) {
	var (
		s                     Strategy
		action, logic, policy string
		cpuType, memType      *string
		types                 string
	)
	err := q.QueryRow(ctx, "SELECT "+strategyColumns+" FROM elastic_scaling_strategies WHERE id = $1", id).Scan(
		&s.ID, &s.Name, &s.Enabled, &action, &s.CPUThresholdValue, &cpuType, &s.CPUTargetValue,
		&s.MemoryThresholdValue, &memType, &s.MemoryTargetValue, &logic, &s.DurationMinutes, &s.CooldownMinutes,
		&s.DeviceCount, &s.NodeSelector, &types, &s.EntryTemplateID, &s.ExitTemplateID, &policy)
	if errors.Is(err, pgx.ErrNoRows) {
		return Strategy{}, fmt.Errorf("%w: %d", ErrStrategyNotFound, id)
	}
	if err != nil {
		return Strategy{}, fmt.Errorf("load strategy %d: %w", id, postgres.Translate(err))
	}
	s.ThresholdTriggerAction = scaling.Action(action)
	s.ConditionLogic = scaling.Logic(logic)
	s.SelectionPolicy = scaling.SelectionPolicy(policy)
	if cpuType != nil {
		s.CPUThresholdType = scaling.ThresholdType(*cpuType)
	}
	if memType != nil {
		s.MemoryThresholdType = scaling.ThresholdType(*memType)
	}
	s.ResourceTypes = splitTypes(types)
	return s, nil
}

func splitTypes(s string) []string {
	out := []string{}
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// EnabledStrategies lists the ids the daily fan-out evaluates.
func EnabledStrategies(ctx context.Context, q postgres.Querier) ([]int64, error) {
	rows, err := q.Query(ctx, "SELECT id FROM elastic_scaling_strategies WHERE status = 'enabled' ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list enabled strategies: %w", postgres.Translate(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list enabled strategies: %w", postgres.Translate(err))
	}
	return ids, nil
}

// Target is one cluster+pool in a strategy's scope.
type Target struct {
	ClusterID   int64
	ClusterName string
	IDC         string
	Zone        string
	PoolID      int64
	PoolName    string
	PoolType    string
	MinNodes    int
	MaxNodes    *int
}

const targetColumns = `c.id, c.name, c.idc, c.zone, p.id, p.name, p.pool_type, p.min_nodes, p.max_nodes`

func scanTarget(row pgx.CollectableRow) (Target, error) {
	var t Target
	err := row.Scan(&t.ClusterID, &t.ClusterName, &t.IDC, &t.Zone, &t.PoolID, &t.PoolName, &t.PoolType, &t.MinNodes, &t.MaxNodes)
	return t, err
}

// loadScope is DESIGN §5.1: the pools of the strategy's associated active
// clusters whose type is in resourceTypes (every pool when it is empty).
func loadScope(ctx context.Context, q postgres.Querier, s Strategy) ([]Target, error) {
	rows, err := q.Query(ctx, `SELECT `+targetColumns+`
		FROM strategy_clusters sc
		JOIN clusters c ON c.id = sc.cluster_id AND c.status = 'active'
		JOIN resource_pools p ON p.cluster_id = c.id
		WHERE sc.strategy_id = $1 AND (cardinality($2::text[]) = 0 OR p.pool_type = ANY($2::text[]))`, s.ID, s.ResourceTypes)
	if err != nil {
		return nil, fmt.Errorf("load scope of strategy %d: %w", s.ID, postgres.Translate(err))
	}
	ts, err := pgx.CollectRows(rows, scanTarget)
	if err != nil {
		return nil, fmt.Errorf("load scope of strategy %d: %w", s.ID, postgres.Translate(err))
	}
	// Ordered by cluster, then pool, here rather than by an ORDER BY: for
	// 10,000 pools the server's sort cost more than the join.
	slices.SortFunc(ts, func(a, b Target) int {
		return cmp.Or(cmp.Compare(a.ClusterID, b.ClusterID), cmp.Compare(a.PoolID, b.PoolID))
	})
	return ts, nil
}

// loadTarget reads one cluster+pool.
func loadTarget(ctx context.Context, q postgres.Querier, clusterID, poolID int64) (Target, error) {
	rows, err := q.Query(ctx, `SELECT `+targetColumns+` FROM resource_pools p JOIN clusters c ON c.id = p.cluster_id
		WHERE p.id = $1 AND c.id = $2`, poolID, clusterID)
	if err != nil {
		return Target{}, postgres.Translate(err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTarget)
	if err != nil {
		return Target{}, fmt.Errorf("cluster %d pool %d: %w", clusterID, poolID, postgres.Translate(err))
	}
	return t, nil
}
