package orders

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	e := newEnv(t)
	e.anon.Must(http.StatusOK, "GET", "/healthz", nil)
	r := e.anon.Must(http.StatusOK, "GET", "/readyz", nil)
	var h Health
	r.JSON(t, &h)
	if h.Checks["postgres"] != "ok" || h.Checks["redis"] != "ok" {
		t.Fatalf("got checks %v, want postgres and redis ok", h.Checks)
	}
	e.db.Pool.Close() // Postgres gone → not ready
	e.anon.Must(http.StatusServiceUnavailable, "GET", "/readyz", nil)
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	r := e.anon.Must(http.StatusOK, "GET", "/api/v1/openapi.json", nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	r.JSON(t, &doc)
	if doc.Paths["/api/v1/clusters"] == nil {
		t.Fatalf("openapi %s has no /api/v1/clusters", doc.OpenAPI)
	}
}

func TestClusterCRUD(t *testing.T) {
	e := newEnv(t)
	var c Cluster
	e.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{
		"name": "bj-prod-1", "displayName": "Beijing prod 1", "region": "cn-north", "zone": "a", "idc": "bj1",
		"labels": map[string]string{"env": "prod"},
	}).JSON(t, &c)
	if c.ID == 0 || c.Name != "bj-prod-1" || c.Status != "active" || c.Version != 1 || c.CreatedBy != "alice" {
		t.Fatalf("created %+v", c)
	}

	r := e.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/clusters/%d", c.ID), nil)
	if got := r.Header.Get("ETag"); got != `"1"` {
		t.Fatalf("ETag %q, want \"1\"", got)
	}

	// update with If-Match, then a stale update loses with 412
	var u Cluster
	e.admin.Must(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/clusters/%d", c.ID), map[string]any{
		"name": "bj-prod-1", "displayName": "Beijing production 1", "idc": "bj1",
	}, "If-Match", `"1"`).JSON(t, &u)
	if u.Version != 2 || u.DisplayName != "Beijing production 1" {
		t.Fatalf("updated %+v", u)
	}
	e.admin.Must(http.StatusPreconditionFailed, "PUT", fmt.Sprintf("/api/v1/clusters/%d", c.ID), map[string]any{"name": "bj-prod-1", "version": 1})
	e.admin.Must(http.StatusPreconditionRequired, "PUT", fmt.Sprintf("/api/v1/clusters/%d", c.ID), map[string]any{"name": "bj-prod-1"})

	// duplicate name
	p := e.admin.Must(http.StatusConflict, "POST", "/api/v1/clusters", map[string]any{"name": "bj-prod-1"}).Problem(t)
	if p.Detail == "" {
		t.Fatal("409 without detail")
	}

	// audit trail
	var n int
	if err := e.db.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM audit_log WHERE target_type = 'cluster' AND target_id = $1", fmt.Sprint(c.ID)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("got %d audit rows, want 2 (create, update)", n)
	}

	e.admin.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/clusters/%d", c.ID), nil)
	e.admin.Must(http.StatusNotFound, "GET", fmt.Sprintf("/api/v1/clusters/%d", c.ID), nil)
}

func TestClusterValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"bad name and unknown field", `{"name":"Bad_Name","color":"red"}`, []string{"body.color", "body.name"}},
		{"missing name", `{"idc":"x"}`, []string{"body.name"}},
		{"bad status", `{"name":"ok","status":"gone"}`, []string{"body.status"}},
		{"wrong type", `{"name":"ok","labels":{"a":1}}`, []string{"body.labels.a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.admin.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/clusters", tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got locations %v, want %v (%+v)", got, tt.want, p)
			}
		})
	}
	e.admin.Must(http.StatusBadRequest, "POST", "/api/v1/clusters", `{"name":`)
	e.admin.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/clusters?sort=password", nil)
	e.admin.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/clusters?cursor=garbage", nil)
	e.admin.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/clusters?bogus=1", nil)
	big := `{"name":"big","displayName":"` + strings.Repeat("x", 2<<20) + `"}`
	e.admin.Must(http.StatusRequestEntityTooLarge, "POST", "/api/v1/clusters", big)
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	e.anon.Must(http.StatusUnauthorized, "GET", "/api/v1/clusters", nil)
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/clusters", nil)
	e.viewer.Must(http.StatusForbidden, "POST", "/api/v1/clusters", map[string]any{"name": "x"})
	e.operator.Must(http.StatusForbidden, "POST", "/api/v1/clusters", map[string]any{"name": "x"})
	e.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": "x"})
}

func TestClusterListPaging(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 7; i++ {
		e.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": fmt.Sprintf("c%d", i), "idc": []string{"a", "b"}[i%2]})
	}
	var names []string
	cursor := ""
	for page := 0; ; page++ {
		var l List[Cluster]
		e.viewer.Must(http.StatusOK, "GET", "/api/v1/clusters?limit=3&sort=-name&cursor="+cursor, nil).JSON(t, &l)
		for _, c := range l.Items {
			names = append(names, c.Name)
		}
		if l.NextCursor == "" {
			break
		}
		cursor = l.NextCursor
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if want := []string{"c6", "c5", "c4", "c3", "c2", "c1", "c0"}; !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
	var l List[Cluster]
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/clusters?idc=b", nil).JSON(t, &l)
	if len(l.Items) != 3 {
		t.Fatalf("idc=b: got %d, want 3", len(l.Items))
	}
	// a cursor of one sort is refused by another
	var first List[Cluster]
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/clusters?limit=2&sort=name", nil).JSON(t, &first)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/clusters?sort=-createdAt&cursor="+first.NextCursor, nil)
}

func TestPools(t *testing.T) {
	e := newEnv(t)
	var c Cluster
	e.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": "c1"}).JSON(t, &c)
	var p Pool
	e.operator.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/clusters/%d/pools", c.ID), map[string]any{
		"name": "general", "poolType": "general", "nodeSelector": "pool=general", "maxNodes": 10,
	}).JSON(t, &p)
	if p.MinNodes != 1 || p.MaxNodes == nil || *p.MaxNodes != 10 || p.ClusterID != c.ID {
		t.Fatalf("created %+v", p)
	}
	pr := e.operator.Must(http.StatusUnprocessableEntity, "POST", fmt.Sprintf("/api/v1/clusters/%d/pools", c.ID), map[string]any{
		"name": "gpu", "poolType": "gpu", "minNodes": 3, "maxNodes": 2,
	}).Problem(t)
	if !slices.Equal(pr.Locations(), []string{"body.maxNodes"}) {
		t.Fatalf("got %v", pr.Locations())
	}
	e.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/clusters/999/pools", map[string]any{"name": "x", "poolType": "general"})
	e.operator.Must(http.StatusConflict, "POST", fmt.Sprintf("/api/v1/clusters/%d/pools", c.ID), map[string]any{"name": "general", "poolType": "general"})

	var l List[Pool]
	e.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/pools?clusterId=%d&poolType=general", c.ID), nil).JSON(t, &l)
	if len(l.Items) != 1 {
		t.Fatalf("got %d pools", len(l.Items))
	}
	e.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/pools/%d", p.ID), nil)
	var u Pool
	e.operator.Must(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/pools/%d", p.ID), map[string]any{
		"name": "general", "poolType": "general", "minNodes": 2, "version": 1,
	}).JSON(t, &u)
	if u.MinNodes != 2 || u.MaxNodes != nil || u.Version != 2 {
		t.Fatalf("updated %+v", u)
	}
	e.operator.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/pools/%d", p.ID), nil)
}

func TestClusterUpdateWithoutStatusKeepsIt(t *testing.T) {
	e := newEnv(t)
	var c Cluster
	e.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": "c1", "status": "disabled"}).JSON(t, &c)
	var u Cluster
	e.admin.Must(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/clusters/%d", c.ID), map[string]any{"name": "c1", "version": c.Version}).JSON(t, &u)
	if u.Status != "disabled" {
		t.Fatalf("status after update without status: got %q, want disabled", u.Status)
	}
}
