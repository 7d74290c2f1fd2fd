package orders

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

// stratTemplate inserts a query template directly (the template API is not
// this file's subject) and returns its id.
func stratTemplate(t *testing.T, e *env, name string) int64 {
	t.Helper()
	var id int64
	err := e.db.Pool.QueryRow(context.Background(), `INSERT INTO query_templates (name, groups)
		VALUES ($1, '{"logic":"AND","groups":[{"blocks":[{"type":"device","key":"cpuCores","op":"gte","value":"64"}]}]}') RETURNING id`,
		name).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// stratCluster creates a cluster through the API.
func stratCluster(t *testing.T, e *env, name string) Cluster {
	t.Helper()
	var c Cluster
	e.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": name, "idc": "bj1"}).JSON(t, &c)
	return c
}

// stratBody is a valid pool_entry strategy; overrides replace or (nil) delete keys.
func stratBody(name string, overrides map[string]any) map[string]any {
	b := map[string]any{
		"name": name, "thresholdTriggerAction": "pool_entry",
		"cpuThresholdValue": 80.0, "cpuThresholdType": "allocated", "cpuTargetValue": 60.0,
		"durationMinutes": 4320, "cooldownMinutes": 1440,
	}
	for k, v := range overrides {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// stratAudit counts audit rows of a strategy by action.
func stratAudit(t *testing.T, e *env, targetType string, id int64) map[string]int {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(),
		"SELECT action, actor FROM audit_log WHERE target_type = $1 AND target_id = $2", targetType, fmt.Sprint(id))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var action, actor string
		if err := rows.Scan(&action, &actor); err != nil {
			t.Fatal(err)
		}
		if actor == "" {
			t.Errorf("audit row %s without actor", action)
		}
		got[action]++
	}
	return got
}

func TestStrategyCRUD(t *testing.T) {
	e := newEnv(t)
	c1, c2, c3 := stratCluster(t, e, "c1"), stratCluster(t, e, "c2"), stratCluster(t, e, "c3")
	entryT, exitT := stratTemplate(t, e, "entry"), stratTemplate(t, e, "exit")

	var s Strategy
	r := e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies", stratBody("gpu-entry", map[string]any{
		"description": "grow gpu pools", "memoryThresholdValue": 85.5, "memoryThresholdType": "usage", "memoryTargetValue": 70,
		"conditionLogic": "OR", "deviceCount": 4, "nodeSelector": "gpu=true, zone in (a,b), !retired",
		"resourceTypes": " gpu , highmem,gpu", "entryQueryTemplateId": entryT, "selectionPolicy": "largest-first",
		"clusterIds": []int64{c2.ID, c1.ID},
	}))
	r.JSON(t, &s)
	if r.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q, want \"1\"", r.Header.Get("ETag"))
	}
	if s.ID == 0 || s.Name != "gpu-entry" || s.Status != "enabled" || s.Version != 1 || s.CreatedBy != "oscar" || s.UpdatedBy != "oscar" {
		t.Fatalf("created %+v", s)
	}
	if s.CPUThresholdValue == nil || *s.CPUThresholdValue != 80 || s.CPUThresholdType == nil || *s.CPUThresholdType != "allocated" ||
		s.MemoryTargetValue == nil || *s.MemoryTargetValue != 70 || s.ConditionLogic != "OR" || s.SelectionPolicy != "largest-first" {
		t.Fatalf("created %+v", s)
	}
	if s.ResourceTypes != "gpu,highmem" {
		t.Errorf("resourceTypes got %q, want normalized gpu,highmem", s.ResourceTypes)
	}
	if s.EntryQueryTemplateID == nil || *s.EntryQueryTemplateID != entryT || s.ExitQueryTemplateID != nil {
		t.Errorf("templates got %v %v", s.EntryQueryTemplateID, s.ExitQueryTemplateID)
	}
	if want := []int64{c1.ID, c2.ID}; !slices.Equal(s.ClusterIDs, want) {
		t.Errorf("clusterIds got %v, want %v", s.ClusterIDs, want)
	}
	path := fmt.Sprintf("/api/v1/elastic-scaling/strategies/%d", s.ID)

	// defaults: a minimal strategy gets AND, random, enabled, no clusters
	var minimal Strategy
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies", stratBody("minimal", nil)).JSON(t, &minimal)
	if minimal.ConditionLogic != "AND" || minimal.SelectionPolicy != "random" || minimal.Status != "enabled" ||
		minimal.ClusterIDs == nil || len(minimal.ClusterIDs) != 0 || minimal.MemoryThresholdValue != nil || minimal.MemoryThresholdType != nil {
		t.Fatalf("minimal %+v", minimal)
	}

	var got Strategy
	e.viewer.Must(http.StatusOK, "GET", path, nil).JSON(t, &got)
	if got.Name != s.Name || !slices.Equal(got.ClusterIDs, s.ClusterIDs) || got.NodeSelector != "gpu=true, zone in (a,b), !retired" {
		t.Fatalf("get %+v", got)
	}
	e.viewer.Must(http.StatusNotFound, "GET", "/api/v1/elastic-scaling/strategies/99999", nil)

	// full update with If-Match: memory dropped, clusters replaced, exit template set
	var u Strategy
	e.operator.Must(http.StatusOK, "PUT", path, stratBody("gpu-entry", map[string]any{
		"cpuThresholdValue": 90, "cpuTargetValue": 75, "exitQueryTemplateId": exitT, "clusterIds": []int64{c3.ID},
	}), "If-Match", `"1"`).JSON(t, &u)
	if u.Version != 2 || *u.CPUThresholdValue != 90 || u.MemoryThresholdValue != nil || u.MemoryThresholdType != nil ||
		u.EntryQueryTemplateID != nil || u.ExitQueryTemplateID == nil || *u.ExitQueryTemplateID != exitT ||
		!slices.Equal(u.ClusterIDs, []int64{c3.ID}) || u.ConditionLogic != "AND" || u.CreatedBy != "oscar" {
		t.Fatalf("updated %+v", u)
	}
	// a template in use by a strategy cannot be deleted from under it
	if _, err := e.db.Pool.Exec(context.Background(), "DELETE FROM query_templates WHERE id = $1", exitT); err == nil {
		t.Fatal("deleted a template a strategy refers to")
	}

	// an update without clusterIds keeps them (the rest is replaced); admin is recorded as updater
	e.admin.Must(http.StatusOK, "PUT", path, stratBody("gpu-entry", map[string]any{"version": 2, "description": "kept"})).JSON(t, &u)
	if u.Version != 3 || !slices.Equal(u.ClusterIDs, []int64{c3.ID}) || u.UpdatedBy != "alice" || u.Status != "enabled" {
		t.Fatalf("updated %+v", u)
	}
	// stale and missing versions; a version that disagrees with If-Match
	e.operator.Must(http.StatusPreconditionFailed, "PUT", path, stratBody("gpu-entry", map[string]any{"version": 1}))
	e.operator.Must(http.StatusPreconditionRequired, "PUT", path, stratBody("gpu-entry", nil))
	e.operator.Must(http.StatusUnprocessableEntity, "PUT", path, stratBody("gpu-entry", map[string]any{"version": 2}), "If-Match", `"3"`)
	e.operator.Must(http.StatusNotFound, "PUT", "/api/v1/elastic-scaling/strategies/99999", stratBody("x", map[string]any{"version": 1}))
	// renaming onto another strategy's name
	e.operator.Must(http.StatusConflict, "PUT", path, stratBody("minimal", map[string]any{"version": 3}))
	e.operator.Must(http.StatusConflict, "POST", "/api/v1/elastic-scaling/strategies", stratBody("gpu-entry", nil))

	// status
	var st Strategy
	e.operator.Must(http.StatusOK, "PUT", path+"/status", map[string]any{"status": "disabled", "version": 3}).JSON(t, &st)
	if st.Status != "disabled" || st.Version != 4 {
		t.Fatalf("status %+v", st)
	}
	// the same status again changes nothing
	r = e.operator.Must(http.StatusOK, "PUT", path+"/status", map[string]any{"status": "disabled"}, "If-Match", `"4"`)
	r.JSON(t, &st)
	if st.Version != 4 || r.Header.Get("ETag") != `"4"` {
		t.Fatalf("idempotent status %+v", st)
	}
	e.operator.Must(http.StatusPreconditionFailed, "PUT", path+"/status", map[string]any{"status": "enabled", "version": 3})
	e.operator.Must(http.StatusPreconditionRequired, "PUT", path+"/status", map[string]any{"status": "enabled"})
	p := e.operator.Must(http.StatusUnprocessableEntity, "PUT", path+"/status", map[string]any{"status": "paused", "version": 4}).Problem(t)
	if !slices.Equal(p.Locations(), []string{"body.status"}) {
		t.Fatalf("got %v", p.Locations())
	}
	e.operator.Must(http.StatusNotFound, "PUT", "/api/v1/elastic-scaling/strategies/99999/status", map[string]any{"status": "enabled", "version": 1})
	// a full update without status leaves it disabled
	e.operator.Must(http.StatusOK, "PUT", path, stratBody("gpu-entry", map[string]any{"version": 4})).JSON(t, &u)
	if u.Status != "disabled" || u.Version != 5 {
		t.Fatalf("updated %+v", u)
	}

	// associated clusters
	var sc StrategyClusters
	r = e.viewer.Must(http.StatusOK, "GET", path+"/clusters", nil)
	r.JSON(t, &sc)
	if sc.StrategyID != s.ID || sc.Version != 5 || !slices.Equal(sc.ClusterIDs, []int64{c3.ID}) || len(sc.Clusters) != 1 || sc.Clusters[0].Name != "c3" {
		t.Fatalf("clusters %+v", sc)
	}
	if r.Header.Get("ETag") != `"5"` {
		t.Errorf("ETag %q", r.Header.Get("ETag"))
	}
	// replace without a version (optional here): the version is bumped
	e.operator.Must(http.StatusOK, "PUT", path+"/clusters", map[string]any{"clusterIds": []int64{c2.ID, c1.ID}}).JSON(t, &sc)
	if sc.Version != 6 || !slices.Equal(sc.ClusterIDs, []int64{c1.ID, c2.ID}) || len(sc.Clusters) != 2 || sc.Clusters[0].Name != "c1" || sc.Clusters[1].Name != "c2" {
		t.Fatalf("replaced %+v", sc)
	}
	// the same set again: no change, no version bump
	e.operator.Must(http.StatusOK, "PUT", path+"/clusters", map[string]any{"clusterIds": []int64{c1.ID, c2.ID}, "version": 6}).JSON(t, &sc)
	if sc.Version != 6 {
		t.Fatalf("same set bumped the version: %+v", sc)
	}
	// stale version refused; If-Match honoured
	e.operator.Must(http.StatusPreconditionFailed, "PUT", path+"/clusters", map[string]any{"clusterIds": []int64{}}, "If-Match", `"5"`)
	e.operator.Must(http.StatusOK, "PUT", path+"/clusters", map[string]any{"clusterIds": []int64{}}, "If-Match", `"6"`).JSON(t, &sc)
	if sc.Version != 7 || len(sc.ClusterIDs) != 0 || len(sc.Clusters) != 0 {
		t.Fatalf("cleared %+v", sc)
	}
	e.viewer.Must(http.StatusNotFound, "GET", "/api/v1/elastic-scaling/strategies/99999/clusters", nil)
	e.operator.Must(http.StatusNotFound, "PUT", "/api/v1/elastic-scaling/strategies/99999/clusters", map[string]any{"clusterIds": []int64{c1.ID}})
	// deleting a cluster drops the association
	e.operator.Must(http.StatusOK, "PUT", path+"/clusters", map[string]any{"clusterIds": []int64{c1.ID, c3.ID}}).JSON(t, &sc)
	e.admin.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/clusters/%d", c3.ID), nil)
	e.viewer.Must(http.StatusOK, "GET", path, nil).JSON(t, &got)
	if !slices.Equal(got.ClusterIDs, []int64{c1.ID}) {
		t.Fatalf("after cluster delete: clusterIds %v", got.ClusterIDs)
	}

	// audit: one row per change, in the same transaction as the change
	if got, want := stratAudit(t, e, "strategy", s.ID), map[string]int{
		"strategy.create": 1, "strategy.update": 3, "strategy.status": 1, "strategy.clusters": 3,
	}; !maps.Equal(got, want) {
		t.Fatalf("audit got %v, want %v", got, want)
	}
	var before, after string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT before->>'status', after->>'status' FROM audit_log
		WHERE target_type = 'strategy' AND action = 'strategy.status' AND target_id = $1`, fmt.Sprint(s.ID)).Scan(&before, &after); err != nil {
		t.Fatal(err)
	}
	if before != "enabled" || after != "disabled" {
		t.Fatalf("status audit before %q after %q", before, after)
	}

	e.operator.Must(http.StatusNoContent, "DELETE", path, nil)
	e.viewer.Must(http.StatusNotFound, "GET", path, nil)
	e.operator.Must(http.StatusNotFound, "DELETE", path, nil)
	if got := stratAudit(t, e, "strategy", s.ID)["strategy.delete"]; got != 1 {
		t.Fatalf("delete audit rows %d, want 1", got)
	}
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM strategy_clusters WHERE strategy_id = $1", s.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("associations left after delete: %d (%v)", n, err)
	}
}

func TestStrategyValidation(t *testing.T) {
	e := newEnv(t)
	c := stratCluster(t, e, "c1")
	tmpl := stratTemplate(t, e, "t1")
	tests := []struct {
		name string
		body any
		want []string
	}{
		{"entry target equal to threshold", stratBody("s", map[string]any{"cpuTargetValue": 80}), []string{"body.cpuTargetValue"}},
		{"entry target above threshold", stratBody("s", map[string]any{"cpuTargetValue": 95}), []string{"body.cpuTargetValue"}},
		{"exit target below threshold", stratBody("s", map[string]any{"thresholdTriggerAction": "pool_exit",
			"cpuThresholdValue": 20, "cpuTargetValue": 50, "memoryThresholdValue": 30, "memoryThresholdType": "usage", "memoryTargetValue": 10}),
			[]string{"body.memoryTargetValue"}},
		{"threshold above 100", stratBody("s", map[string]any{"cpuThresholdValue": 100.5}), []string{"body.cpuThresholdValue"}},
		{"threshold zero", stratBody("s", map[string]any{"cpuThresholdValue": 0}), []string{"body.cpuThresholdValue"}},
		{"target above 100", stratBody("s", map[string]any{"thresholdTriggerAction": "pool_exit", "cpuThresholdValue": 20, "cpuTargetValue": 101}),
			[]string{"body.cpuTargetValue"}},
		{"no resource configured", stratBody("s", map[string]any{"cpuThresholdValue": nil, "cpuThresholdType": nil, "cpuTargetValue": nil}),
			[]string{"body.cpuThresholdValue"}},
		{"threshold without type", stratBody("s", map[string]any{"cpuThresholdType": nil}), []string{"body.cpuThresholdType"}},
		{"threshold without target", stratBody("s", map[string]any{"cpuTargetValue": nil}), []string{"body.cpuTargetValue"}},
		{"null threshold with type and target", `{"name":"s","thresholdTriggerAction":"pool_entry","durationMinutes":60,
			"cpuThresholdValue":null,"cpuThresholdType":"usage","cpuTargetValue":50,
			"memoryThresholdValue":90,"memoryThresholdType":"usage","memoryTargetValue":50}`,
			[]string{"body.cpuTargetValue", "body.cpuThresholdType"}},
		{"bad threshold type", stratBody("s", map[string]any{"cpuThresholdType": "requests"}), []string{"body.cpuThresholdType"}},
		{"bad condition logic", stratBody("s", map[string]any{"conditionLogic": "XOR"}), []string{"body.conditionLogic"}},
		{"bad action", stratBody("s", map[string]any{"thresholdTriggerAction": "grow"}), []string{"body.thresholdTriggerAction"}},
		{"missing action", stratBody("s", map[string]any{"thresholdTriggerAction": nil}), []string{"body.thresholdTriggerAction"}},
		{"zero duration", stratBody("s", map[string]any{"durationMinutes": 0}), []string{"body.durationMinutes"}},
		{"duration beyond a year", stratBody("s", map[string]any{"durationMinutes": 367 * 1440}), []string{"body.durationMinutes"}},
		{"missing duration", stratBody("s", map[string]any{"durationMinutes": nil}), []string{"body.durationMinutes"}},
		{"negative cooldown", stratBody("s", map[string]any{"cooldownMinutes": -1}), []string{"body.cooldownMinutes"}},
		{"negative device count", stratBody("s", map[string]any{"deviceCount": -2}), []string{"body.deviceCount"}},
		{"bad selection policy", stratBody("s", map[string]any{"selectionPolicy": "biggest"}), []string{"body.selectionPolicy"}},
		{"unterminated selector", stratBody("s", map[string]any{"nodeSelector": "gpu in (a,b"}), []string{"body.nodeSelector"}},
		{"unsupported selector operator", stratBody("s", map[string]any{"nodeSelector": "cores>8"}), []string{"body.nodeSelector"}},
		{"bad selector key", stratBody("s", map[string]any{"nodeSelector": "-gpu=true"}), []string{"body.nodeSelector"}},
		{"empty resource type", stratBody("s", map[string]any{"resourceTypes": "gpu,,general"}), []string{"body.resourceTypes"}},
		{"bad resource type", stratBody("s", map[string]any{"resourceTypes": "GPU"}), []string{"body.resourceTypes"}},
		{"unknown field", stratBody("s", map[string]any{"color": "red"}), []string{"body.color"}},
		{"missing name", stratBody("s", map[string]any{"name": nil}), []string{"body.name"}},
		{"empty name", stratBody("", nil), []string{"body.name"}},
		{"wrong type", stratBody("s", map[string]any{"cpuThresholdValue": "80"}), []string{"body.cpuThresholdValue"}},
		{"unknown entry template", stratBody("s", map[string]any{"entryQueryTemplateId": 9999, "exitQueryTemplateId": tmpl}),
			[]string{"body.entryQueryTemplateId"}},
		{"unknown exit template", stratBody("s", map[string]any{"exitQueryTemplateId": 9999}), []string{"body.exitQueryTemplateId"}},
		{"unknown clusters", stratBody("s", map[string]any{"clusterIds": []int64{c.ID, 9999, 0}}),
			[]string{"body.clusterIds[1]", "body.clusterIds[2]"}},
		{"duplicate cluster", stratBody("s", map[string]any{"clusterIds": []int64{c.ID, c.ID}}), []string{"body.clusterIds[1]"}},
		{"every bad field at once", stratBody("s", map[string]any{"cpuTargetValue": 85, "nodeSelector": "a in ()", "durationMinutes": -5}),
			[]string{"body.cpuTargetValue", "body.durationMinutes", "body.nodeSelector"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/elastic-scaling/strategies", tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got locations %v, want %v (%+v)", got, tt.want, p)
			}
			for _, fe := range p.Errors {
				if fe.Message == "" {
					t.Errorf("%s without a message", fe.Location)
				}
			}
		})
	}
	e.operator.Must(http.StatusBadRequest, "POST", "/api/v1/elastic-scaling/strategies", `{"name":`)
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM elastic_scaling_strategies").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d strategies written by refused requests (%v)", n, err)
	}

	// the update path runs the same checks
	var s Strategy
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies", stratBody("s", nil)).JSON(t, &s)
	path := fmt.Sprintf("/api/v1/elastic-scaling/strategies/%d", s.ID)
	for _, tt := range []struct {
		name string
		body map[string]any
		want []string
	}{
		{"selector", stratBody("s", map[string]any{"version": 1, "nodeSelector": "=x"}), []string{"body.nodeSelector"}},
		{"target", stratBody("s", map[string]any{"version": 1, "cpuTargetValue": 99}), []string{"body.cpuTargetValue"}},
		{"clusters", stratBody("s", map[string]any{"version": 1, "clusterIds": []int64{9999}}), []string{"body.clusterIds[0]"}},
		{"template", stratBody("s", map[string]any{"version": 1, "entryQueryTemplateId": 9999}), []string{"body.entryQueryTemplateId"}},
	} {
		t.Run("update "+tt.name, func(t *testing.T) {
			p := e.operator.Must(http.StatusUnprocessableEntity, "PUT", path, tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got locations %v, want %v (%+v)", got, tt.want, p)
			}
		})
	}
	// and the clusters endpoint names the bad index
	p := e.operator.Must(http.StatusUnprocessableEntity, "PUT", path+"/clusters", map[string]any{"clusterIds": []int64{c.ID, 4242}}).Problem(t)
	if got := p.Locations(); !slices.Equal(got, []string{"body.clusterIds[1]"}) {
		t.Fatalf("clusters: got %v", got)
	}
	p = e.operator.Must(http.StatusUnprocessableEntity, "PUT", path+"/clusters", map[string]any{"clusterIds": []int64{c.ID, c.ID}}).Problem(t)
	if got := p.Locations(); !slices.Equal(got, []string{"body.clusterIds[1]"}) {
		t.Fatalf("clusters duplicate: got %v", got)
	}
	e.operator.Must(http.StatusUnprocessableEntity, "PUT", path+"/clusters", map[string]any{})
	p = e.operator.Must(http.StatusUnprocessableEntity, "PUT", path+"/clusters", `{"clusterIds":null}`).Problem(t)
	if got := p.Locations(); !slices.Equal(got, []string{"body.clusterIds"}) {
		t.Fatalf("clusters null: got %v", got)
	}
	var got Strategy
	e.viewer.Must(http.StatusOK, "GET", path, nil).JSON(t, &got)
	if got.Version != 1 || len(got.ClusterIDs) != 0 {
		t.Fatalf("refused updates changed the strategy: %+v", got)
	}
}

// Every selector the API accepts is also a valid Kubernetes label selector.
func TestStrategySelectorsAreKubernetesSelectors(t *testing.T) {
	e := newEnv(t)
	for i, sel := range []string{"", "gpu", "!retired", "a=b", "a==b", "a!=b", "zone in (a, b)", "tier notin (x)",
		"example.com/gpu=true,kubernetes.io/arch=amd64", "a=", " a = b , c "} {
		e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies",
			stratBody(fmt.Sprintf("s%d", i), map[string]any{"nodeSelector": sel}))
		if _, err := labels.Parse(sel); err != nil {
			t.Errorf("accepted %q, which Kubernetes rejects: %v", sel, err)
		}
	}
}

func TestStrategyListFiltersAndPaging(t *testing.T) {
	e := newEnv(t)
	c1, c2 := stratCluster(t, e, "c1"), stratCluster(t, e, "c2")
	type spec struct {
		name     string
		exit     bool
		disabled bool
		clusters []int64
	}
	for _, sp := range []spec{
		{"alpha-entry", false, false, []int64{c1.ID}},
		{"beta-entry", false, true, []int64{c1.ID, c2.ID}},
		{"gamma-exit", true, false, []int64{c2.ID}},
		{"delta-exit", true, true, nil},
		{"epsilon_entry", false, false, nil},
	} {
		o := map[string]any{}
		if sp.exit {
			o = map[string]any{"thresholdTriggerAction": "pool_exit", "cpuThresholdValue": 20, "cpuTargetValue": 50}
		}
		if sp.disabled {
			o["status"] = "disabled"
		}
		if sp.clusters != nil {
			o["clusterIds"] = sp.clusters
		}
		e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies", stratBody(sp.name, o))
	}
	names := func(query string) []string {
		t.Helper()
		var l List[Strategy]
		e.viewer.Must(http.StatusOK, "GET", "/api/v1/elastic-scaling/strategies"+query, nil).JSON(t, &l)
		var out []string
		for _, s := range l.Items {
			out = append(out, s.Name)
		}
		return out
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"alpha-entry", "beta-entry", "delta-exit", "epsilon_entry", "gamma-exit"}},
		{"?status=disabled", []string{"beta-entry", "delta-exit"}},
		{"?action=pool_exit", []string{"delta-exit", "gamma-exit"}},
		{"?action=pool_entry&status=enabled", []string{"alpha-entry", "epsilon_entry"}},
		{"?name=ENTRY", []string{"alpha-entry", "beta-entry", "epsilon_entry"}},
		{"?name=_", []string{"epsilon_entry"}}, // LIKE wildcards match literally
		{fmt.Sprintf("?clusterId=%d", c1.ID), []string{"alpha-entry", "beta-entry"}},
		{fmt.Sprintf("?clusterId=%d&status=enabled", c2.ID), []string{"gamma-exit"}},
		{"?sort=-name", []string{"gamma-exit", "epsilon_entry", "delta-exit", "beta-entry", "alpha-entry"}},
		{"?sort=createdAt", []string{"alpha-entry", "beta-entry", "gamma-exit", "delta-exit", "epsilon_entry"}},
		{"?sort=-id", []string{"epsilon_entry", "delta-exit", "gamma-exit", "beta-entry", "alpha-entry"}},
	} {
		t.Run(tt.query, func(t *testing.T) {
			if got := names(tt.query); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}

	for _, sort := range []string{"-name", "createdAt", "-updatedAt", "id"} {
		t.Run("paging "+sort, func(t *testing.T) {
			var got []string
			cursor := ""
			for page := 0; ; page++ {
				var l List[Strategy]
				e.viewer.Must(http.StatusOK, "GET", "/api/v1/elastic-scaling/strategies?limit=2&sort="+sort+"&cursor="+cursor, nil).JSON(t, &l)
				if len(l.Items) > 2 {
					t.Fatalf("page of %d", len(l.Items))
				}
				for _, s := range l.Items {
					got = append(got, s.Name)
				}
				if l.NextCursor == "" {
					break
				}
				cursor = l.NextCursor
				if page > 5 {
					t.Fatal("pagination does not end")
				}
			}
			if want := names("?sort=" + sort); !slices.Equal(got, want) || len(got) != 5 {
				t.Fatalf("paged %v, want %v", got, want)
			}
		})
	}

	var first List[Strategy]
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/elastic-scaling/strategies?limit=2&sort=name", nil).JSON(t, &first)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/elastic-scaling/strategies?sort=-name&cursor="+first.NextCursor, nil)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/elastic-scaling/strategies?sort=cpuThresholdValue", nil)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/elastic-scaling/strategies?status=paused", nil)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/elastic-scaling/strategies?owner=me", nil)
}

func TestStrategyRoles(t *testing.T) {
	e := newEnv(t)
	c := stratCluster(t, e, "c1")
	var s Strategy
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies", stratBody("s", nil)).JSON(t, &s)
	path := fmt.Sprintf("/api/v1/elastic-scaling/strategies/%d", s.ID)

	e.anon.Must(http.StatusUnauthorized, "GET", "/api/v1/elastic-scaling/strategies", nil)
	e.anon.Must(http.StatusUnauthorized, "GET", path, nil)
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/elastic-scaling/strategies", nil)
	e.viewer.Must(http.StatusOK, "GET", path+"/clusters", nil)
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/elastic-scaling/strategies", stratBody("v", nil)},
		{"PUT", path, stratBody("s", map[string]any{"version": 1})},
		{"PUT", path + "/status", map[string]any{"status": "disabled", "version": 1}},
		{"PUT", path + "/clusters", map[string]any{"clusterIds": []int64{c.ID}}},
		{"DELETE", path, nil},
	} {
		p := e.viewer.Must(http.StatusForbidden, req.method, req.path, req.body).Problem(t)
		if !strings.Contains(p.Detail, "operator") {
			t.Errorf("%s %s: 403 detail %q does not name the role needed", req.method, req.path, p.Detail)
		}
		e.anon.Must(http.StatusUnauthorized, req.method, req.path, req.body)
	}
	var got Strategy
	e.viewer.Must(http.StatusOK, "GET", path, nil).JSON(t, &got)
	if got.Version != 1 || got.Status != "enabled" || len(got.ClusterIDs) != 0 {
		t.Fatalf("refused requests changed the strategy: %+v", got)
	}
	if n := len(stratAudit(t, e, "strategy", s.ID)); n != 1 {
		t.Fatalf("audit actions %d, want only the create", n)
	}
}
