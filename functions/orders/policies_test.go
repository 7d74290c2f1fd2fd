package orders

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

const policiesPath = "/api/v1/resource-pool/matching-policies"

func policyBody(name, poolType, action string, templateID int64, overrides map[string]any) map[string]any {
	b := map[string]any{"name": name, "resourcePoolType": poolType, "actionType": action, "queryTemplateId": templateID}
	for k, v := range overrides {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func TestMatchingPolicyCRUD(t *testing.T) {
	e := newEnv(t)
	t1, t2 := stratTemplate(t, e, "gpu-hosts"), stratTemplate(t, e, "big-hosts")

	var p MatchingPolicy
	r := e.operator.Must(http.StatusCreated, "POST", policiesPath, policyBody("gpu-entry", "gpu", "pool_entry", t1,
		map[string]any{"description": "GPU hosts for gpu pools"}))
	r.JSON(t, &p)
	if p.ID == 0 || p.Status != "enabled" || p.Version != 1 || p.QueryTemplateID != t1 || p.QueryTemplateName != "gpu-hosts" ||
		p.CreatedBy != "oscar" || p.ResourcePoolType != "gpu" || p.ActionType != "pool_entry" || p.Description != "GPU hosts for gpu pools" {
		t.Fatalf("created %+v", p)
	}
	if r.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q", r.Header.Get("ETag"))
	}
	path := fmt.Sprintf("%s/%d", policiesPath, p.ID)

	var got MatchingPolicy
	e.viewer.Must(http.StatusOK, "GET", path, nil).JSON(t, &got)
	if got != p {
		t.Fatalf("get %+v, want %+v", got, p)
	}
	e.viewer.Must(http.StatusNotFound, "GET", policiesPath+"/9999", nil)

	// the same (type, action) for exit, and another type, are independent
	var exit MatchingPolicy
	e.operator.Must(http.StatusCreated, "POST", policiesPath, policyBody("gpu-exit", "gpu", "pool_exit", t1, nil)).JSON(t, &exit)
	e.operator.Must(http.StatusCreated, "POST", policiesPath, policyBody("general-entry", "general", "pool_entry", t2, nil))

	// a second enabled policy for gpu/pool_entry → 409 naming the first
	pr := e.operator.Must(http.StatusConflict, "POST", policiesPath, policyBody("gpu-entry-2", "gpu", "pool_entry", t2, nil)).Problem(t)
	if !strings.Contains(pr.Detail, `"gpu-entry"`) || !strings.Contains(pr.Detail, fmt.Sprint(p.ID)) {
		t.Fatalf("409 detail %q does not name policy %d gpu-entry", pr.Detail, p.ID)
	}
	// ...but a disabled one may wait beside it
	var second MatchingPolicy
	e.operator.Must(http.StatusCreated, "POST", policiesPath, policyBody("gpu-entry-2", "gpu", "pool_entry", t2,
		map[string]any{"status": "disabled"})).JSON(t, &second)
	secondPath := fmt.Sprintf("%s/%d", policiesPath, second.ID)
	pr = e.operator.Must(http.StatusConflict, "PUT", secondPath+"/status", map[string]any{"status": "enabled", "version": 1}).Problem(t)
	if !strings.Contains(pr.Detail, `"gpu-entry"`) {
		t.Fatalf("409 detail %q does not name gpu-entry", pr.Detail)
	}
	// an update that would move the exit policy onto the enabled entry slot
	pr = e.operator.Must(http.StatusConflict, "PUT", fmt.Sprintf("%s/%d", policiesPath, exit.ID),
		policyBody("gpu-exit", "gpu", "pool_entry", t1, map[string]any{"version": 1})).Problem(t)
	if !strings.Contains(pr.Detail, `"gpu-entry"`) {
		t.Fatalf("409 detail %q does not name gpu-entry", pr.Detail)
	}
	// a duplicate name is a conflict too
	e.operator.Must(http.StatusConflict, "POST", policiesPath, policyBody("gpu-entry", "highmem", "pool_entry", t1, nil))

	// swap: disable the first, enable the second
	var st MatchingPolicy
	e.operator.Must(http.StatusOK, "PUT", path+"/status", map[string]any{"status": "disabled"}, "If-Match", `"1"`).JSON(t, &st)
	if st.Status != "disabled" || st.Version != 2 || st.UpdatedBy != "oscar" {
		t.Fatalf("disabled %+v", st)
	}
	e.operator.Must(http.StatusOK, "PUT", secondPath+"/status", map[string]any{"status": "enabled", "version": 1}).JSON(t, &st)
	if st.Status != "enabled" || st.Version != 2 {
		t.Fatalf("enabled %+v", st)
	}
	// setting the current status again changes nothing
	e.operator.Must(http.StatusOK, "PUT", secondPath+"/status", map[string]any{"status": "enabled", "version": 2}).JSON(t, &st)
	if st.Version != 2 {
		t.Fatalf("no-op status bumped the version: %+v", st)
	}
	e.operator.Must(http.StatusPreconditionFailed, "PUT", path+"/status", map[string]any{"status": "enabled", "version": 1})
	e.operator.Must(http.StatusPreconditionRequired, "PUT", path+"/status", map[string]any{"status": "enabled"})
	e.operator.Must(http.StatusNotFound, "PUT", policiesPath+"/9999/status", map[string]any{"status": "enabled", "version": 1})
	e.operator.Must(http.StatusUnprocessableEntity, "PUT", path+"/status", map[string]any{"status": "on", "version": 2})

	// full update: new template and description; status absent stays disabled
	var u MatchingPolicy
	r = e.admin.Must(http.StatusOK, "PUT", path, policyBody("gpu-entry-old", "gpu", "pool_entry", t2,
		map[string]any{"description": "superseded"}), "If-Match", `"2"`)
	r.JSON(t, &u)
	if u.Version != 3 || u.Name != "gpu-entry-old" || u.QueryTemplateID != t2 || u.QueryTemplateName != "big-hosts" ||
		u.Status != "disabled" || u.UpdatedBy != "alice" || u.CreatedBy != "oscar" || r.Header.Get("ETag") != `"3"` {
		t.Fatalf("updated %+v", u)
	}
	// enabling through a full update is held to the same rule
	e.operator.Must(http.StatusConflict, "PUT", path, policyBody("gpu-entry-old", "gpu", "pool_entry", t2,
		map[string]any{"status": "enabled", "version": 3}))
	e.operator.Must(http.StatusPreconditionFailed, "PUT", path, policyBody("gpu-entry-old", "gpu", "pool_entry", t2, map[string]any{"version": 2}))
	e.operator.Must(http.StatusPreconditionRequired, "PUT", path, policyBody("gpu-entry-old", "gpu", "pool_entry", t2, nil))
	e.operator.Must(http.StatusNotFound, "PUT", policiesPath+"/9999", policyBody("x", "gpu", "pool_entry", t2, map[string]any{"version": 1}))
	pr = e.operator.Must(http.StatusUnprocessableEntity, "PUT", path, policyBody("gpu-entry-old", "gpu", "pool_entry", 9999,
		map[string]any{"version": 3})).Problem(t)
	if !slices.Equal(pr.Locations(), []string{"body.queryTemplateId"}) {
		t.Fatalf("got %v", pr.Locations())
	}

	// the template cannot be deleted while a policy uses it
	if _, err := e.db.Pool.Exec(context.Background(), "DELETE FROM query_templates WHERE id = $1", t2); err == nil {
		t.Fatal("deleted a template a policy refers to")
	}

	if got, want := stratAudit(t, e, "matching_policy", p.ID), map[string]int{
		"matching_policy.create": 1, "matching_policy.status": 1, "matching_policy.update": 1,
	}; !maps.Equal(got, want) {
		t.Fatalf("audit got %v, want %v", got, want)
	}

	e.operator.Must(http.StatusNoContent, "DELETE", path, nil)
	e.viewer.Must(http.StatusNotFound, "GET", path, nil)
	e.operator.Must(http.StatusNotFound, "DELETE", path, nil)
	if n := stratAudit(t, e, "matching_policy", p.ID)["matching_policy.delete"]; n != 1 {
		t.Fatalf("delete audit rows %d, want 1", n)
	}
	// once the only enabled gpu/pool_entry policy is deleted, another may be enabled
	e.operator.Must(http.StatusNoContent, "DELETE", secondPath, nil)
	e.operator.Must(http.StatusCreated, "POST", policiesPath, policyBody("gpu-entry-3", "gpu", "pool_entry", t1, nil))
}

func TestMatchingPolicyValidation(t *testing.T) {
	e := newEnv(t)
	tmpl := stratTemplate(t, e, "t")
	tests := []struct {
		name string
		body any
		want []string
	}{
		{"unknown template", policyBody("p", "gpu", "pool_entry", 9999, nil), []string{"body.queryTemplateId"}},
		{"missing template", policyBody("p", "gpu", "pool_entry", tmpl, map[string]any{"queryTemplateId": nil}), []string{"body.queryTemplateId"}},
		{"zero template", policyBody("p", "gpu", "pool_entry", 0, nil), []string{"body.queryTemplateId"}},
		{"bad action", policyBody("p", "gpu", "maintenance", tmpl, nil), []string{"body.actionType"}},
		{"missing action", policyBody("p", "gpu", "pool_entry", tmpl, map[string]any{"actionType": nil}), []string{"body.actionType"}},
		{"bad pool type", policyBody("p", "GPU pool", "pool_entry", tmpl, nil), []string{"body.resourcePoolType"}},
		{"empty pool type", policyBody("p", "", "pool_entry", tmpl, nil), []string{"body.resourcePoolType"}},
		{"empty name", policyBody("", "gpu", "pool_entry", tmpl, nil), []string{"body.name"}},
		{"bad status", policyBody("p", "gpu", "pool_entry", tmpl, map[string]any{"status": "on"}), []string{"body.status"}},
		{"unknown field", policyBody("p", "gpu", "pool_entry", tmpl, map[string]any{"priority": 1}), []string{"body.priority"}},
		{"several", policyBody("", "gpu", "exit", tmpl, nil), []string{"body.actionType", "body.name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.operator.Must(http.StatusUnprocessableEntity, "POST", policiesPath, tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got locations %v, want %v (%+v)", got, tt.want, p)
			}
		})
	}
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM resource_pool_device_matching_policies").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d policies written by refused requests (%v)", n, err)
	}
}

func TestMatchingPolicyListAndRoles(t *testing.T) {
	e := newEnv(t)
	t1, t2 := stratTemplate(t, e, "t1"), stratTemplate(t, e, "t2")
	for _, b := range []map[string]any{
		policyBody("a-gpu-entry", "gpu", "pool_entry", t1, nil),
		policyBody("b-gpu-exit", "gpu", "pool_exit", t2, nil),
		policyBody("c-general-entry", "general", "pool_entry", t1, nil),
		policyBody("d-general-entry-old", "general", "pool_entry", t2, map[string]any{"status": "disabled"}),
		policyBody("e-highmem-exit", "highmem", "pool_exit", t1, map[string]any{"status": "disabled"}),
	} {
		e.operator.Must(http.StatusCreated, "POST", policiesPath, b)
	}
	names := func(query string) []string {
		t.Helper()
		var l List[MatchingPolicy]
		e.viewer.Must(http.StatusOK, "GET", policiesPath+query, nil).JSON(t, &l)
		var out []string
		for _, p := range l.Items {
			out = append(out, p.Name)
		}
		return out
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"a-gpu-entry", "b-gpu-exit", "c-general-entry", "d-general-entry-old", "e-highmem-exit"}},
		{"?resourcePoolType=general", []string{"c-general-entry", "d-general-entry-old"}},
		{"?actionType=pool_exit", []string{"b-gpu-exit", "e-highmem-exit"}},
		{"?status=disabled", []string{"d-general-entry-old", "e-highmem-exit"}},
		{"?resourcePoolType=general&status=enabled&actionType=pool_entry", []string{"c-general-entry"}},
		{"?name=GENERAL", []string{"c-general-entry", "d-general-entry-old"}},
		{fmt.Sprintf("?queryTemplateId=%d", t2), []string{"b-gpu-exit", "d-general-entry-old"}},
		{"?sort=-name", []string{"e-highmem-exit", "d-general-entry-old", "c-general-entry", "b-gpu-exit", "a-gpu-entry"}},
	} {
		t.Run(tt.query, func(t *testing.T) {
			if got := names(tt.query); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, sort := range []string{"name", "-createdAt", "updatedAt", "-id"} {
		t.Run("paging "+sort, func(t *testing.T) {
			var got []string
			cursor := ""
			for page := 0; ; page++ {
				var l List[MatchingPolicy]
				e.viewer.Must(http.StatusOK, "GET", policiesPath+"?limit=2&sort="+sort+"&cursor="+cursor, nil).JSON(t, &l)
				for _, p := range l.Items {
					got = append(got, p.Name)
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
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", policiesPath+"?sort=priority", nil)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", policiesPath+"?cursor=garbage", nil)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", policiesPath+"?actionType=maintenance", nil)

	// roles: viewers read, never write; anonymous users do neither
	var l List[MatchingPolicy]
	e.viewer.Must(http.StatusOK, "GET", policiesPath+"?limit=1", nil).JSON(t, &l)
	path := fmt.Sprintf("%s/%d", policiesPath, l.Items[0].ID)
	e.anon.Must(http.StatusUnauthorized, "GET", policiesPath, nil)
	e.anon.Must(http.StatusUnauthorized, "GET", path, nil)
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"POST", policiesPath, policyBody("v", "x", "pool_entry", t1, nil)},
		{"PUT", path, policyBody("v", "gpu", "pool_entry", t1, map[string]any{"version": 1})},
		{"PUT", path + "/status", map[string]any{"status": "disabled", "version": 1}},
		{"DELETE", path, nil},
	} {
		e.viewer.Must(http.StatusForbidden, req.method, req.path, req.body)
		e.anon.Must(http.StatusUnauthorized, req.method, req.path, req.body)
	}
	var p MatchingPolicy
	e.viewer.Must(http.StatusOK, "GET", path, nil).JSON(t, &p)
	if p.Version != 1 || p.Status != "enabled" {
		t.Fatalf("refused requests changed the policy: %+v", p)
	}
}

// Concurrent enables of policies for the same (type, action): the partial
// unique index lets exactly one win; every loser gets a 409 naming it.
func TestMatchingPolicyConcurrentEnable(t *testing.T) {
	e := newEnv(t)
	tmpl := stratTemplate(t, e, "t")
	const n = 8
	paths := make([]string, n)
	for i := range paths {
		var p MatchingPolicy
		e.operator.Must(http.StatusCreated, "POST", policiesPath, policyBody(fmt.Sprintf("p%d", i), "gpu", "pool_entry", tmpl,
			map[string]any{"status": "disabled"})).JSON(t, &p)
		paths[i] = fmt.Sprintf("%s/%d/status", policiesPath, p.ID)
	}
	statuses := make([]int, n)
	details := make([]string, n)
	var wg sync.WaitGroup
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.operator.Do("PUT", paths[i], map[string]any{"status": "enabled", "version": 1})
			statuses[i] = r.Status
			details[i] = string(r.Body)
		}()
	}
	wg.Wait()
	var l List[MatchingPolicy]
	e.viewer.Must(http.StatusOK, "GET", policiesPath+"?status=enabled", nil).JSON(t, &l)
	if len(l.Items) != 1 {
		t.Fatalf("%d enabled policies, want 1", len(l.Items))
	}
	winner := l.Items[0].Name
	won := 0
	for i, st := range statuses {
		switch st {
		case http.StatusOK:
			won++
		case http.StatusConflict:
			if !strings.Contains(details[i], winner) {
				t.Errorf("409 %s does not name the winner %s", details[i], winner)
			}
		default:
			t.Errorf("request %d: got %d, want 200 or 409: %s", i, st, details[i])
		}
	}
	if won != 1 {
		t.Fatalf("%d requests won, want 1 (statuses %v)", won, statuses)
	}
}
