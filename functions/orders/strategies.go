package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// Strategy is an elastic scaling strategy (seed §6.1, DESIGN §4). A resource
// whose threshold is null is not evaluated; its type and target are null too.
type Strategy struct {
	ID                     int64     `json:"id"`
	Name                   string    `json:"name"`
	Description            string    `json:"description"`
	ThresholdTriggerAction string    `json:"thresholdTriggerAction" enum:"pool_entry,pool_exit"`
	CPUThresholdValue      *float64  `json:"cpuThresholdValue"`
	CPUThresholdType       *string   `json:"cpuThresholdType"`
	CPUTargetValue         *float64  `json:"cpuTargetValue"`
	MemoryThresholdValue   *float64  `json:"memoryThresholdValue"`
	MemoryThresholdType    *string   `json:"memoryThresholdType"`
	MemoryTargetValue      *float64  `json:"memoryTargetValue"`
	ConditionLogic         string    `json:"conditionLogic" enum:"AND,OR"`
	DurationMinutes        int       `json:"durationMinutes"`
	CooldownMinutes        int       `json:"cooldownMinutes"`
	DeviceCount            int       `json:"deviceCount" doc:"0 means no cap."`
	NodeSelector           string    `json:"nodeSelector"`
	ResourceTypes          string    `json:"resourceTypes" doc:"Comma-separated pool types; empty means every pool."`
	EntryQueryTemplateID   *int64    `json:"entryQueryTemplateId"`
	ExitQueryTemplateID    *int64    `json:"exitQueryTemplateId"`
	SelectionPolicy        string    `json:"selectionPolicy" enum:"random,largest-first,smallest-first"`
	Status                 string    `json:"status" enum:"enabled,disabled"`
	ClusterIDs             []int64   `json:"clusterIds" nullable:"false" doc:"The associated clusters, ascending."`
	Version                int       `json:"version"`
	CreatedBy              string    `json:"createdBy"`
	UpdatedBy              string    `json:"updatedBy"`
	CreatedAt              time.Time `json:"createdAt"`
	UpdatedAt              time.Time `json:"updatedAt"`
}

// StrategyInput is what a client writes. Thresholds and targets are percents
// in (0,100]; the rules between fields are shared/scaling's Strategy.Validate.
type StrategyInput struct {
	Name                   string   `json:"name" minLength:"1" maxLength:"200"`
	Description            string   `json:"description,omitempty" maxLength:"2000"`
	ThresholdTriggerAction string   `json:"thresholdTriggerAction" enum:"pool_entry,pool_exit"`
	CPUThresholdValue      *float64 `json:"cpuThresholdValue,omitempty" nullable:"true" doc:"Percent in (0,100]; absent or null: CPU is not evaluated."`
	CPUThresholdType       string   `json:"cpuThresholdType,omitempty" enum:"usage,allocated" doc:"Required with cpuThresholdValue."`
	CPUTargetValue         *float64 `json:"cpuTargetValue,omitempty" nullable:"true" doc:"Percent after the action; below the threshold for pool_entry, above it for pool_exit."`
	MemoryThresholdValue   *float64 `json:"memoryThresholdValue,omitempty" nullable:"true" doc:"Percent in (0,100]; absent or null: memory is not evaluated."`
	MemoryThresholdType    string   `json:"memoryThresholdType,omitempty" enum:"usage,allocated"`
	MemoryTargetValue      *float64 `json:"memoryTargetValue,omitempty" nullable:"true"`
	ConditionLogic         string   `json:"conditionLogic,omitempty" enum:"AND,OR" doc:"How the resources combine; default AND."`
	DurationMinutes        int      `json:"durationMinutes" doc:"The condition must hold for ceil(durationMinutes/1440) consecutive days."`
	CooldownMinutes        int      `json:"cooldownMinutes,omitempty" doc:"No new order for a pool this long after its last one."`
	DeviceCount            int      `json:"deviceCount,omitempty" doc:"Caps the devices of one order; 0 means no cap."`
	NodeSelector           string   `json:"nodeSelector,omitempty" maxLength:"4096" doc:"Kubernetes label selector ANDed to device matching (=, ==, !=, in, notin, k, !k)."`
	ResourceTypes          string   `json:"resourceTypes,omitempty" maxLength:"1000" doc:"Comma-separated pool types the strategy applies to; empty means every pool."`
	EntryQueryTemplateID   *int64   `json:"entryQueryTemplateId,omitempty" nullable:"true" doc:"Query template for pool_entry; else the enabled matching policy."`
	ExitQueryTemplateID    *int64   `json:"exitQueryTemplateId,omitempty" nullable:"true" doc:"Query template for pool_exit; else the enabled matching policy."`
	SelectionPolicy        string   `json:"selectionPolicy,omitempty" enum:"random,largest-first,smallest-first" doc:"Default random."`
	Status                 string   `json:"status,omitempty" enum:"enabled,disabled" doc:"Create: default enabled. Update: unchanged when absent."`
	ClusterIDs             []int64  `json:"clusterIds,omitempty" maxItems:"10000" doc:"The associated clusters. Update: absent keeps them, a list replaces them."`
	Version                int      `json:"version,omitempty" minimum:"1" doc:"Current version, for updates (or send If-Match)."`
}

// poolTypeRE is the pool_type rule of resource_pools.
var poolTypeRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validate checks every field at once and returns the input normalized
// (defaults applied, resourceTypes trimmed and deduplicated).
func (in StrategyInput) validate() (StrategyInput, error) {
	if in.ConditionLogic == "" {
		in.ConditionLogic = string(scaling.LogicAND)
	}
	if in.SelectionPolicy == "" {
		in.SelectionPolicy = string(scaling.SelectRandom)
	}
	var errs []*httpapi.FieldError
	s := scaling.Strategy{
		ThresholdTriggerAction: scaling.Action(in.ThresholdTriggerAction),
		CPUThresholdValue:      in.CPUThresholdValue,
		CPUThresholdType:       scaling.ThresholdType(in.CPUThresholdType),
		CPUTargetValue:         in.CPUTargetValue,
		MemoryThresholdValue:   in.MemoryThresholdValue,
		MemoryThresholdType:    scaling.ThresholdType(in.MemoryThresholdType),
		MemoryTargetValue:      in.MemoryTargetValue,
		ConditionLogic:         scaling.Logic(in.ConditionLogic),
		DurationMinutes:        in.DurationMinutes,
		CooldownMinutes:        in.CooldownMinutes,
		DeviceCount:            in.DeviceCount,
		SelectionPolicy:        scaling.SelectionPolicy(in.SelectionPolicy),
	}
	if err := s.Validate(); err != nil {
		var fes scaling.FieldErrors
		if !errors.As(err, &fes) {
			return in, err
		}
		values := fieldValues(in)
		for _, fe := range fes {
			errs = append(errs, &httpapi.FieldError{Location: "body." + fe.Field, Message: fe.Message, Value: values[fe.Field]})
		}
	}
	// The matcher turns nodeSelector into nodeLabel blocks with this parser,
	// so a selector accepted here is one matching can run.
	if _, err := devicequery.SelectorBlocks(in.NodeSelector); err != nil {
		errs = append(errs, &httpapi.FieldError{Location: "body.nodeSelector", Message: err.Error(), Value: in.NodeSelector})
	}
	if rt, msg := normalizeResourceTypes(in.ResourceTypes); msg != "" {
		errs = append(errs, &httpapi.FieldError{Location: "body.resourceTypes", Message: msg, Value: in.ResourceTypes})
	} else {
		in.ResourceTypes = rt
	}
	if len(errs) > 0 {
		// Stable order: the order of the fields in the body schema is not
		// known here, so sort by location.
		slices.SortStableFunc(errs, func(a, b *httpapi.FieldError) int { return strings.Compare(a.Location, b.Location) })
		return in, httpapi.Invalid("invalid strategy", errs...)
	}
	return in, nil
}

// normalizeResourceTypes trims "gpu, general" to "gpu,general", dropping
// duplicates; it reports an empty item or one that is not a pool type.
func normalizeResourceTypes(raw string) (string, string) {
	if strings.TrimSpace(raw) == "" {
		return "", ""
	}
	var out []string
	for i, t := range strings.Split(raw, ",") {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			return "", fmt.Sprintf("item %d is empty; write pool types separated by commas, e.g. general,gpu", i+1)
		case len(t) > 63 || !poolTypeRE.MatchString(t):
			return "", fmt.Sprintf("item %d (%q) is not a pool type: lower-case letters, digits and '-', at most 63", i+1, t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return strings.Join(out, ","), ""
}

// fieldValues maps the JSON names of v's fields to their values, so a field
// error can echo the value it refers to.
func fieldValues(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// strategyColumns are selected FROM elastic_scaling_strategies without an
// alias (listPage orders by the bare id column).
const strategyColumns = `id, name, description, threshold_trigger_action,
	cpu_threshold_value, cpu_threshold_type, cpu_target_value,
	memory_threshold_value, memory_threshold_type, memory_target_value,
	condition_logic, duration_minutes, cooldown_minutes, device_count, node_selector, resource_types,
	entry_query_template_id, exit_query_template_id, selection_policy, status,
	ARRAY(SELECT sc.cluster_id FROM strategy_clusters sc WHERE sc.strategy_id = elastic_scaling_strategies.id ORDER BY sc.cluster_id),
	version, created_by, updated_by, created_at, updated_at`

func scanStrategy(row pgx.Row) (Strategy, error) {
	var s Strategy
	err := row.Scan(&s.ID, &s.Name, &s.Description, &s.ThresholdTriggerAction,
		&s.CPUThresholdValue, &s.CPUThresholdType, &s.CPUTargetValue,
		&s.MemoryThresholdValue, &s.MemoryThresholdType, &s.MemoryTargetValue,
		&s.ConditionLogic, &s.DurationMinutes, &s.CooldownMinutes, &s.DeviceCount, &s.NodeSelector, &s.ResourceTypes,
		&s.EntryQueryTemplateID, &s.ExitQueryTemplateID, &s.SelectionPolicy, &s.Status,
		&s.ClusterIDs, &s.Version, &s.CreatedBy, &s.UpdatedBy, &s.CreatedAt, &s.UpdatedAt)
	if s.ClusterIDs == nil {
		s.ClusterIDs = []int64{}
	}
	return s, postgres.Translate(err)
}

const selectStrategy = "SELECT " + strategyColumns + " FROM elastic_scaling_strategies WHERE id = $1"

type strategyOutput struct {
	ETag string `header:"ETag"`
	Body Strategy
}

// StrategyStatusInput switches a strategy on or off.
type StrategyStatusInput struct {
	Status  string `json:"status" enum:"enabled,disabled"`
	Version int    `json:"version,omitempty" minimum:"1" doc:"Current version (or send If-Match)."`
}

// StrategyClustersInput replaces a strategy's associated clusters.
type StrategyClustersInput struct {
	ClusterIDs []int64 `json:"clusterIds" nullable:"false" maxItems:"10000" doc:"The whole new set; [] removes every association (null is refused, so a client bug cannot clear it)."`
	Version    int     `json:"version,omitempty" minimum:"1" doc:"Optional: when sent (or If-Match is), a stale version is refused."`
}

// StrategyClusters is a strategy's associated clusters.
type StrategyClusters struct {
	StrategyID int64     `json:"strategyId"`
	Version    int       `json:"version" doc:"The strategy's version."`
	ClusterIDs []int64   `json:"clusterIds" nullable:"false"`
	Clusters   []Cluster `json:"clusters" nullable:"false" doc:"The associated clusters, by name."`
}

type strategyClustersOutput struct {
	ETag string `header:"ETag"`
	Body StrategyClusters
}

var strategySorts = map[string]string{"id": "id", "name": "name", "createdAt": "created_at", "updatedAt": "updated_at"}

func strategyCursor(s httpapi.Sort) func(Strategy) httpapi.Cursor {
	return func(st Strategy) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: st.ID}
		switch s.Key {
		case "name":
			c.Value = st.Name
		case "createdAt":
			c.Value = st.CreatedAt
		case "updatedAt":
			c.Value = st.UpdatedAt
		}
		return c
	}
}

// checkStrategyRefs reports template and cluster ids that do not exist, each
// at its field path. The rows found are key-share locked so they cannot be
// deleted before the transaction commits.
func checkStrategyRefs(ctx context.Context, tx pgx.Tx, entry, exit *int64, clusterIDs []int64) error {
	var errs []*httpapi.FieldError
	for _, ref := range []struct {
		field string
		id    *int64
	}{{"entryQueryTemplateId", entry}, {"exitQueryTemplateId", exit}} {
		if ref.id == nil {
			continue
		}
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM query_templates WHERE id = $1 FOR KEY SHARE", *ref.id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			errs = append(errs, &httpapi.FieldError{Location: "body." + ref.field, Message: fmt.Sprintf("query template %d does not exist", *ref.id), Value: *ref.id})
		} else if err != nil {
			return postgres.Translate(err)
		}
	}
	if len(clusterIDs) > 0 {
		rows, err := tx.Query(ctx, "SELECT id FROM clusters WHERE id = ANY($1) FOR KEY SHARE", clusterIDs)
		if err != nil {
			return postgres.Translate(err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return postgres.Translate(err)
		}
		for i, id := range clusterIDs {
			if !slices.Contains(found, id) {
				errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("body.clusterIds[%d]", i), Message: fmt.Sprintf("cluster %d does not exist", id), Value: id})
			}
		}
	}
	if len(errs) > 0 {
		return httpapi.Invalid("the strategy refers to something that does not exist", errs...)
	}
	return nil
}

// duplicateClusterIDs names repeated ids; the set is meant to be a set.
func duplicateClusterIDs(ids []int64) error {
	var errs []*httpapi.FieldError
	for i, id := range ids {
		if slices.Index(ids, id) < i {
			errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("body.clusterIds[%d]", i), Message: fmt.Sprintf("cluster %d is listed twice", id), Value: id})
		}
	}
	if len(errs) > 0 {
		return httpapi.Invalid("duplicate cluster ids", errs...)
	}
	return nil
}

// replaceStrategyClusters makes the strategy's associations exactly ids.
func replaceStrategyClusters(ctx context.Context, tx pgx.Tx, strategyID int64, ids []int64) error {
	if ids == nil {
		ids = []int64{}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM strategy_clusters WHERE strategy_id = $1 AND NOT (cluster_id = ANY($2))", strategyID, ids); err != nil {
		return postgres.Translate(err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO strategy_clusters (strategy_id, cluster_id)
		SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, strategyID, ids)
	return postgres.Translate(err)
}

// strategyClusters reads the associated clusters of s.
func (f *Function) strategyClusters(ctx context.Context, q postgres.Querier, s Strategy) (StrategyClusters, error) {
	rows, err := q.Query(ctx, "SELECT "+clusterColumns+" FROM clusters WHERE id IN (SELECT cluster_id FROM strategy_clusters WHERE strategy_id = $1) ORDER BY name", s.ID)
	if err != nil {
		return StrategyClusters{}, postgres.Translate(err)
	}
	defer rows.Close()
	out := StrategyClusters{StrategyID: s.ID, Version: s.Version, ClusterIDs: s.ClusterIDs, Clusters: []Cluster{}}
	for rows.Next() {
		c, err := scanCluster(rows)
		if err != nil {
			return StrategyClusters{}, err
		}
		out.Clusters = append(out.Clusters, c)
	}
	return out, postgres.Translate(rows.Err())
}

func (f *Function) registerStrategies() {
	const base = httpapi.Prefix + "/elastic-scaling/strategies"
	tags := []string{"strategies"}

	huma.Register(f.api, huma.Operation{
		OperationID: "list-strategies", Method: http.MethodGet, Path: base,
		Summary: "List elastic scaling strategies", Tags: tags,
	}, func(ctx context.Context, in *struct {
		Status    string `query:"status" enum:"enabled,disabled"`
		Action    string `query:"action" enum:"pool_entry,pool_exit" doc:"thresholdTriggerAction."`
		Name      string `query:"name" doc:"Substring of the name."`
		ClusterID int64  `query:"clusterId" minimum:"0" doc:"Only strategies associated with this cluster."`
		ListParams
	}) (*struct{ Body List[Strategy] }, error) {
		sort, err := httpapi.ParseSort(in.Sort, "name", strategySorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		w := newWhere()
		if in.Status != "" {
			w.add("status = " + w.arg(in.Status))
		}
		if in.Action != "" {
			w.add("threshold_trigger_action = " + w.arg(in.Action))
		}
		if in.Name != "" {
			w.add("name ILIKE '%' || " + w.arg(escapeLike(in.Name)) + " || '%'")
		}
		if in.ClusterID > 0 {
			w.add("EXISTS (SELECT 1 FROM strategy_clusters sc WHERE sc.strategy_id = elastic_scaling_strategies.id AND sc.cluster_id = " + w.arg(in.ClusterID) + ")")
		}
		items, next, err := listPage(ctx, f.db, "SELECT "+strategyColumns+" FROM elastic_scaling_strategies", w, sort, cur, in.Limit,
			scanStrategy, strategyCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "strategies")
		}
		return &struct{ Body List[Strategy] }{Body: List[Strategy]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-strategy", Method: http.MethodGet, Path: base + "/{id}",
		Summary: "Get a strategy", Tags: tags,
	}, func(ctx context.Context, in *idPath) (*strategyOutput, error) {
		s, err := scanStrategy(f.db.QueryRow(ctx, selectStrategy, in.ID))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("strategy %d", in.ID))
		}
		return &strategyOutput{ETag: httpapi.ETag(s.Version), Body: s}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "create-strategy", Method: http.MethodPost, Path: base,
		Summary: "Create a strategy", Tags: tags, DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *struct{ Body StrategyInput }) (*strategyOutput, error) {
		b, err := in.Body.validate()
		if err != nil {
			return nil, err
		}
		if err := duplicateClusterIDs(b.ClusterIDs); err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var s Strategy
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			if err := checkStrategyRefs(ctx, tx, b.EntryQueryTemplateID, b.ExitQueryTemplateID, b.ClusterIDs); err != nil {
				return err
			}
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO elastic_scaling_strategies (name, description, threshold_trigger_action,
				cpu_threshold_value, cpu_threshold_type, cpu_target_value,
				memory_threshold_value, memory_threshold_type, memory_target_value,
				condition_logic, duration_minutes, cooldown_minutes, device_count, node_selector, resource_types,
				entry_query_template_id, exit_query_template_id, selection_policy, status, created_by, updated_by)
				VALUES ($1, $2, $3, $4, nullif($5, ''), $6, $7, nullif($8, ''), $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
				coalesce(nullif($19, ''), 'enabled'), $20, $20) RETURNING id`,
				b.Name, b.Description, b.ThresholdTriggerAction,
				b.CPUThresholdValue, b.CPUThresholdType, b.CPUTargetValue,
				b.MemoryThresholdValue, b.MemoryThresholdType, b.MemoryTargetValue,
				b.ConditionLogic, b.DurationMinutes, b.CooldownMinutes, b.DeviceCount, b.NodeSelector, b.ResourceTypes,
				b.EntryQueryTemplateID, b.ExitQueryTemplateID, b.SelectionPolicy, b.Status, actor).Scan(&id)
			if err != nil {
				return postgres.Translate(err)
			}
			if err := replaceStrategyClusters(ctx, tx, id, b.ClusterIDs); err != nil {
				return err
			}
			if s, err = scanStrategy(tx.QueryRow(ctx, selectStrategy, id)); err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "strategy.create", TargetType: "strategy",
				TargetID: s.ID, After: s, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, "strategy "+b.Name)
		}
		return &strategyOutput{ETag: httpapi.ETag(s.Version), Body: s}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-strategy", Method: http.MethodPut, Path: base + "/{id}",
		Summary: "Update a strategy (the whole strategy; clusterIds, when sent, replaces the associations)", Tags: tags,
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    StrategyInput
	}) (*strategyOutput, error) {
		b, err := in.Body.validate()
		if err != nil {
			return nil, err
		}
		if err := duplicateClusterIDs(b.ClusterIDs); err != nil {
			return nil, err
		}
		version, err := httpapi.ExpectedVersion(in.IfMatch, b.Version)
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var after Strategy
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanStrategy(tx.QueryRow(ctx, selectStrategy+" FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			if err := checkStrategyRefs(ctx, tx, b.EntryQueryTemplateID, b.ExitQueryTemplateID, b.ClusterIDs); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE elastic_scaling_strategies SET name = $2, description = $3, threshold_trigger_action = $4,
				cpu_threshold_value = $5, cpu_threshold_type = nullif($6, ''), cpu_target_value = $7,
				memory_threshold_value = $8, memory_threshold_type = nullif($9, ''), memory_target_value = $10,
				condition_logic = $11, duration_minutes = $12, cooldown_minutes = $13, device_count = $14,
				node_selector = $15, resource_types = $16, entry_query_template_id = $17, exit_query_template_id = $18,
				selection_policy = $19, status = coalesce(nullif($20, ''), status), updated_by = $21,
				version = version + 1, updated_at = now()
				WHERE id = $1`,
				in.ID, b.Name, b.Description, b.ThresholdTriggerAction,
				b.CPUThresholdValue, b.CPUThresholdType, b.CPUTargetValue,
				b.MemoryThresholdValue, b.MemoryThresholdType, b.MemoryTargetValue,
				b.ConditionLogic, b.DurationMinutes, b.CooldownMinutes, b.DeviceCount,
				b.NodeSelector, b.ResourceTypes, b.EntryQueryTemplateID, b.ExitQueryTemplateID,
				b.SelectionPolicy, b.Status, actor)
			if err != nil {
				return postgres.Translate(err)
			}
			if b.ClusterIDs != nil {
				if err := replaceStrategyClusters(ctx, tx, in.ID, b.ClusterIDs); err != nil {
					return err
				}
			}
			if after, err = scanStrategy(tx.QueryRow(ctx, selectStrategy, in.ID)); err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "strategy.update", TargetType: "strategy",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("strategy %d", in.ID))
		}
		return &strategyOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-strategy-status", Method: http.MethodPut, Path: base + "/{id}/status",
		Summary: "Enable or disable a strategy", Tags: tags,
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    StrategyStatusInput
	}) (*strategyOutput, error) {
		version, err := httpapi.ExpectedVersion(in.IfMatch, in.Body.Version)
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var after Strategy
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanStrategy(tx.QueryRow(ctx, selectStrategy+" FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			if before.Status == in.Body.Status {
				// Already so: nothing changes, nothing to audit.
				after = before
				return nil
			}
			if _, err = tx.Exec(ctx, `UPDATE elastic_scaling_strategies SET status = $2, updated_by = $3,
				version = version + 1, updated_at = now() WHERE id = $1`, in.ID, in.Body.Status, actor); err != nil {
				return postgres.Translate(err)
			}
			if after, err = scanStrategy(tx.QueryRow(ctx, selectStrategy, in.ID)); err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "strategy.status", TargetType: "strategy",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("strategy %d", in.ID))
		}
		return &strategyOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "delete-strategy", Method: http.MethodDelete, Path: base + "/{id}",
		Summary: "Delete a strategy (its history goes with it; its orders stay, without the strategy)", Tags: tags,
		DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		err := deleteAudited(ctx, f, "strategy", in.ID, selectStrategy+" FOR UPDATE", scanStrategy,
			"DELETE FROM elastic_scaling_strategies WHERE id = $1")
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("strategy %d", in.ID))
		}
		return nil, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-strategy-clusters", Method: http.MethodGet, Path: base + "/{id}/clusters",
		Summary: "The clusters a strategy is associated with", Tags: tags,
	}, func(ctx context.Context, in *idPath) (*strategyClustersOutput, error) {
		s, err := scanStrategy(f.db.QueryRow(ctx, selectStrategy, in.ID))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("strategy %d", in.ID))
		}
		out, err := f.strategyClusters(ctx, f.db, s)
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("clusters of strategy %d", in.ID))
		}
		return &strategyClustersOutput{ETag: httpapi.ETag(s.Version), Body: out}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "put-strategy-clusters", Method: http.MethodPut, Path: base + "/{id}/clusters",
		Summary: "Replace the clusters a strategy is associated with", Tags: tags,
		Description: "The strategy's version is bumped. If-Match or a body version is optional here " +
			"(the body is the whole set); when sent, a stale one is refused with 412.",
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    StrategyClustersInput
	}) (*strategyClustersOutput, error) {
		ids := in.Body.ClusterIDs
		if ids == nil {
			ids = []int64{}
		}
		if err := duplicateClusterIDs(ids); err != nil {
			return nil, err
		}
		version := 0
		if in.IfMatch != "" || in.Body.Version != 0 {
			v, err := httpapi.ExpectedVersion(in.IfMatch, in.Body.Version)
			if err != nil {
				return nil, err
			}
			version = v
		}
		actor := httpapi.Actor(ctx)
		var out StrategyClusters
		err := postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanStrategy(tx.QueryRow(ctx, selectStrategy+" FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if version != 0 && before.Version != version {
				return postgres.ErrStale
			}
			if err := checkStrategyRefs(ctx, tx, nil, nil, ids); err != nil {
				return err
			}
			after := before
			if !sameSet(before.ClusterIDs, ids) {
				if err := replaceStrategyClusters(ctx, tx, in.ID, ids); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `UPDATE elastic_scaling_strategies SET updated_by = $2, version = version + 1,
					updated_at = now() WHERE id = $1`, in.ID, actor); err != nil {
					return postgres.Translate(err)
				}
				if after, err = scanStrategy(tx.QueryRow(ctx, selectStrategy, in.ID)); err != nil {
					return err
				}
				if err := postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "strategy.clusters", TargetType: "strategy",
					TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)}); err != nil {
					return err
				}
			}
			out, err = f.strategyClusters(ctx, tx, after)
			return err
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("strategy %d", in.ID))
		}
		return &strategyClustersOutput{ETag: httpapi.ETag(out.Version), Body: out}, nil
	})
}

// sameSet reports whether a and b hold the same ids (b may be unsorted).
func sameSet(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for _, id := range b {
		if !slices.Contains(a, id) {
			return false
		}
	}
	return true
}
