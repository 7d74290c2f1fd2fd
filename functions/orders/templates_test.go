package orders

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

const templatesPath = "/api/v1/device-query/templates"

// gpuGroups is the example of DESIGN.md §6.
var gpuGroups = map[string]any{"logic": "AND", "groups": []any{map[string]any{"logic": "OR", "blocks": []any{
	map[string]any{"type": "device", "key": "cpuCores", "op": "gte", "value": "64"},
	map[string]any{"type": "nodeLabel", "key": "gpu", "op": "exists"},
	map[string]any{"type": "taint", "key": "dedicated", "op": "eq", "value": "ai:NoSchedule"},
}}}}

func createTemplate(t *testing.T, e *env, name string, groups any) QueryTemplate {
	t.Helper()
	var qt QueryTemplate
	e.operator.Must(http.StatusCreated, "POST", templatesPath, map[string]any{"name": name, "groups": groups}).JSON(t, &qt)
	return qt
}

func TestTemplateCRUD(t *testing.T) {
	e := newEnv(t)
	var qt QueryTemplate
	r := e.operator.Must(http.StatusCreated, "POST", templatesPath, map[string]any{
		"name": "gpu-hosts", "description": "big or GPU hosts", "groups": gpuGroups,
	})
	r.JSON(t, &qt)
	if qt.ID == 0 || qt.Version != 1 || qt.CreatedBy != "oscar" || qt.UpdatedBy != "oscar" || qt.Description != "big or GPU hosts" ||
		len(qt.Groups.Groups) != 1 || len(qt.Groups.Groups[0].Blocks) != 3 || qt.Groups.Groups[0].Logic != "OR" {
		t.Fatalf("created %+v", qt)
	}
	if got := r.Header.Get("ETag"); got != `"1"` {
		t.Fatalf("ETag %q", got)
	}
	path := fmt.Sprintf("%s/%d", templatesPath, qt.ID)

	var got QueryTemplate
	e.viewer.Must(http.StatusOK, "GET", path, nil).JSON(t, &got)
	if got.Name != "gpu-hosts" || got.Groups.Groups[0].Blocks[2].Value != "ai:NoSchedule" || got.UsedBy != nil {
		t.Fatalf("get %+v", got)
	}
	e.viewer.Must(http.StatusNotFound, "GET", templatesPath+"/9999", nil)
	e.viewer.Must(http.StatusForbidden, "POST", templatesPath, map[string]any{"name": "x", "groups": gpuGroups})

	// update: version and updatedBy move; a stale version loses
	var u QueryTemplate
	e.admin.Must(http.StatusOK, "PUT", path, map[string]any{
		"name": "gpu-hosts", "groups": map[string]any{"groups": []any{map[string]any{"blocks": []any{
			map[string]any{"type": "nodeLabel", "key": "gpu", "op": "eq", "value": "true"}}}}},
	}, "If-Match", `"1"`).JSON(t, &u)
	if u.Version != 2 || u.UpdatedBy != "alice" || u.CreatedBy != "oscar" || u.Description != "" || u.Groups.Groups[0].Blocks[0].Op != "eq" {
		t.Fatalf("updated %+v", u)
	}
	e.admin.Must(http.StatusPreconditionFailed, "PUT", path, map[string]any{"name": "gpu-hosts", "groups": gpuGroups, "version": 1})
	e.admin.Must(http.StatusPreconditionRequired, "PUT", path, map[string]any{"name": "gpu-hosts", "groups": gpuGroups})
	e.admin.Must(http.StatusNotFound, "PUT", templatesPath+"/9999", map[string]any{"name": "x", "groups": gpuGroups, "version": 1})

	// names are unique
	createTemplate(t, e, "other", gpuGroups)
	e.operator.Must(http.StatusConflict, "POST", templatesPath, map[string]any{"name": "other", "groups": gpuGroups})
	e.operator.Must(http.StatusConflict, "PUT", path, map[string]any{"name": "other", "groups": gpuGroups, "version": 2})

	if n := stratAudit(t, e, "query_template", qt.ID); n["query_template.create"] != 1 || n["query_template.update"] != 1 {
		t.Fatalf("audit %v", n)
	}
	e.operator.Must(http.StatusNoContent, "DELETE", path, nil)
	e.viewer.Must(http.StatusNotFound, "GET", path, nil)
	e.operator.Must(http.StatusNotFound, "DELETE", path, nil)
	if n := stratAudit(t, e, "query_template", qt.ID); n["query_template.delete"] != 1 {
		t.Fatalf("audit %v", n)
	}
}

func TestTemplateValidation(t *testing.T) {
	e := newEnv(t)
	block := func(typ, key, op, value string) map[string]any {
		b := map[string]any{"type": typ, "key": key, "op": op}
		if value != "" {
			b["value"] = value
		}
		return b
	}
	groups := func(blocks ...any) map[string]any {
		return map[string]any{"groups": []any{map[string]any{"blocks": blocks}}}
	}
	tests := []struct {
		name   string
		groups any
		want   []string
	}{
		{"no groups", map[string]any{"groups": []any{}}, []string{"body.groups.groups"}},
		{"empty group", groups(), []string{"body.groups.groups[0].blocks"}},
		{"unknown device field", groups(block("device", "password", "eq", "x")), []string{"body.groups.groups[0].blocks[0].key"}},
		{"numeric op on text", groups(block("device", "hostname", "gt", "3")), []string{"body.groups.groups[0].blocks[0].op"}},
		{"bad number and bad label key", groups(block("device", "cpuCores", "gte", "lots"), block("nodeLabel", "bad key!", "exists", "")),
			[]string{"body.groups.groups[0].blocks[0].value", "body.groups.groups[0].blocks[1].key"}},
		{"taint effect", groups(block("taint", "dedicated", "eq", "ai:Sometimes")), []string{"body.groups.groups[0].blocks[0].value"}},
		{"exists with a value", groups(block("nodeLabel", "gpu", "exists", "true")), []string{"body.groups.groups[0].blocks[0].value"}},
		{"status typo", groups(block("device", "status", "eq", "idel")), []string{"body.groups.groups[0].blocks[0].value"}},
		// refused by the schema before the engine sees them
		{"unknown op", groups(block("device", "cpuCores", "like", "1")), []string{"body.groups.groups[0].blocks[0].op"}},
		{"unknown type", groups(block("rack", "x", "eq", "1")), []string{"body.groups.groups[0].blocks[0].type"}},
		{"lower-case logic", map[string]any{"logic": "or", "groups": []any{map[string]any{"blocks": []any{block("nodeLabel", "gpu", "exists", "")}}}},
			[]string{"body.groups.logic"}},
		{"number value", groups(map[string]any{"type": "device", "key": "cpuCores", "op": "gte", "value": 64}), []string{"body.groups.groups[0].blocks[0].value"}},
		{"unknown field", groups(map[string]any{"type": "nodeLabel", "key": "gpu", "op": "exists", "vaule": "x"}),
			[]string{"body.groups.groups[0].blocks[0].vaule"}},
		{"missing", nil, []string{"body.groups"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"name": "t-" + strings.ReplaceAll(tt.name, " ", "-")}
			if tt.groups != nil {
				body["groups"] = tt.groups
			}
			p := e.operator.Must(http.StatusUnprocessableEntity, "POST", templatesPath, body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got locations %v, want %v (%+v)", got, tt.want, p)
			}
			for _, fe := range p.Errors {
				if fe.Message == "" {
					t.Fatalf("error without message: %+v", p)
				}
			}
		})
	}
	// the same rules on update
	qt := createTemplate(t, e, "valid", gpuGroups)
	p := e.operator.Must(http.StatusUnprocessableEntity, "PUT", fmt.Sprintf("%s/%d", templatesPath, qt.ID),
		map[string]any{"name": "valid", "version": 1, "groups": groups(block("taint", "dedicated", "in", "a,b"))}).Problem(t)
	if got := p.Locations(); !slices.Equal(got, []string{"body.groups.groups[0].blocks[0].op"}) {
		t.Fatalf("update: got %v", got)
	}
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM query_templates").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d templates stored (%v), want only the valid one", n, err)
	}
}

func TestTemplateListPaging(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"idle-gpu", "big-memory", "gpu-a100", "arm", "gpu-h100"} {
		createTemplate(t, e, n, gpuGroups)
	}
	var names []string
	cursor := ""
	for page := 0; ; page++ {
		var l List[QueryTemplate]
		e.viewer.Must(http.StatusOK, "GET", templatesPath+"?limit=2&cursor="+cursor, nil).JSON(t, &l)
		for _, qt := range l.Items {
			names = append(names, qt.Name)
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if want := []string{"arm", "big-memory", "gpu-a100", "gpu-h100", "idle-gpu"}; !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
	var l List[QueryTemplate]
	e.viewer.Must(http.StatusOK, "GET", templatesPath+"?name=GPU&sort=-createdAt", nil).JSON(t, &l)
	if len(l.Items) != 3 || l.Items[0].Name != "gpu-h100" {
		t.Fatalf("name=GPU: got %+v", l.Items)
	}
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", templatesPath+"?sort=groups", nil)
}

func TestTemplateDeleteInUse(t *testing.T) {
	e := newEnv(t)
	used := createTemplate(t, e, "used", gpuGroups)
	free := createTemplate(t, e, "free", gpuGroups)

	var pol MatchingPolicy
	e.operator.Must(http.StatusCreated, "POST", policiesPath, policyBody("gpu-entry", "gpu", "pool_entry", used.ID, nil)).JSON(t, &pol)
	var off MatchingPolicy
	e.operator.Must(http.StatusCreated, "POST", policiesPath, policyBody("gpu-exit-old", "gpu", "pool_exit", used.ID,
		map[string]any{"status": "disabled"})).JSON(t, &off)
	var st Strategy
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/strategies", stratBody("gpu-grow", map[string]any{
		"entryQueryTemplateId": used.ID, "exitQueryTemplateId": free.ID,
	})).JSON(t, &st)

	var got QueryTemplate
	e.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("%s/%d", templatesPath, used.ID), nil).JSON(t, &got)
	want := []TemplateUser{
		{Kind: "matchingPolicy", ID: pol.ID, Name: "gpu-entry", Status: "enabled", Use: "pool_entry"},
		{Kind: "matchingPolicy", ID: off.ID, Name: "gpu-exit-old", Status: "disabled", Use: "pool_exit"},
		{Kind: "strategy", ID: st.ID, Name: "gpu-grow", Status: "enabled", Use: "pool_entry"},
	}
	if !slices.Equal(got.UsedBy, want) {
		t.Fatalf("usedBy %+v, want %+v", got.UsedBy, want)
	}

	p := e.operator.Must(http.StatusConflict, "DELETE", fmt.Sprintf("%s/%d", templatesPath, used.ID), nil).Problem(t)
	for _, s := range []string{`matching policy %d ("gpu-entry", enabled`, `matching policy %d ("gpu-exit-old", disabled`, `strategy %d ("gpu-grow", enabled, pool_entry)`} {
		id := map[string]int64{"gpu-entry": pol.ID, "gpu-exit-old": off.ID, "gpu-grow": st.ID}[strings.Split(s, `"`)[1]]
		if want := fmt.Sprintf(s, id); !strings.Contains(p.Detail, want) {
			t.Fatalf("409 detail %q does not contain %q", p.Detail, want)
		}
	}
	p = e.operator.Must(http.StatusConflict, "DELETE", fmt.Sprintf("%s/%d", templatesPath, free.ID), nil).Problem(t)
	if !strings.Contains(p.Detail, "pool_exit") || strings.Contains(p.Detail, "matching policy") {
		t.Fatalf("409 detail %q", p.Detail)
	}

	// Once nothing refers to it, it goes.
	e.operator.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("%s/%d", policiesPath, pol.ID), nil)
	e.operator.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("%s/%d", policiesPath, off.ID), nil)
	e.operator.Must(http.StatusConflict, "DELETE", fmt.Sprintf("%s/%d", templatesPath, used.ID), nil)
	e.admin.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/elastic-scaling/strategies/%d", st.ID), nil)
	e.operator.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("%s/%d", templatesPath, used.ID), nil)
	e.operator.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("%s/%d", templatesPath, free.ID), nil)
}

// A policy created while the template is being deleted either lands before
// the delete (which then refuses) or fails for want of the template: never
// a policy pointing at nothing, never a 500.
func TestTemplateDeleteRacesPolicyCreate(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 5; i++ {
		qt := createTemplate(t, e, fmt.Sprintf("race-%d", i), gpuGroups)
		var wg sync.WaitGroup
		var del, create *struct{ status int }
		wg.Add(2)
		go func() {
			defer wg.Done()
			r := e.operator.Do("DELETE", fmt.Sprintf("%s/%d", templatesPath, qt.ID), nil)
			del = &struct{ status int }{r.Status}
		}()
		go func() {
			defer wg.Done()
			r := e.operator.Do("POST", policiesPath, policyBody(fmt.Sprintf("race-%d", i), fmt.Sprintf("t%d", i), "pool_entry", qt.ID, nil))
			create = &struct{ status int }{r.Status}
		}()
		wg.Wait()
		switch {
		case del.status == http.StatusNoContent && create.status == http.StatusUnprocessableEntity:
		case del.status == http.StatusConflict && create.status == http.StatusCreated:
		default:
			t.Fatalf("round %d: delete %d, create policy %d", i, del.status, create.status)
		}
	}
}
