package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/elasticpool/elasticpool/functions/maintenance"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/httpapi/apitest"
)

// servedDoc is what GET path answers on the orders function's routes.
func servedDoc(t *testing.T, path string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	New(Deps{Auth: mustAuth()}).Routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: got %d, want 200; %s", path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func jsonMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func object(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

// The served document loads and validates as OpenAPI 3 (3.1), every $ref
// resolving, maintenance's included.
func TestWholeAPIDocumentIsValidOpenAPI(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(servedDoc(t, httpapi.Prefix+"/openapi.json"))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("got openapi %q, want 3.1", doc.OpenAPI)
	}
	if doc.Paths.Find(maintenance.APIPrefix+"/requests/{id}/confirm") == nil {
		t.Fatal("got no maintenance paths")
	}

	// The 3.0 rendering too, for generators that only read 3.0.
	doc30, err := openapi3.NewLoader().LoadFromData(servedDoc(t, httpapi.Prefix+"/openapi-3.0.json"))
	if err != nil {
		t.Fatalf("load 3.0: %v", err)
	}
	if err := doc30.Validate(context.Background()); err != nil {
		t.Fatalf("validate 3.0: %v", err)
	}
}

// Every maintenance operation is in the whole API's document exactly as the
// maintenance function documents it, with the same schemas and security
// schemes under the same names: a name both functions use for different
// schemas (or a path or operation id both define) fails here, not at start-up.
// Rename the Go type (or the operation) on one side when it does.
func TestWholeAPIDocumentIncludesMaintenance(t *testing.T) {
	whole := jsonMap(t, servedDoc(t, httpapi.Prefix+"/openapi.json"))
	b, err := json.Marshal(maintenance.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	maint := jsonMap(t, b)

	for _, section := range [][]string{{"paths"}, {"components", "schemas"}, {"components", "securitySchemes"}} {
		want := object(maint, section...)
		if len(want) == 0 {
			t.Fatalf("maintenance document has no %v", section)
		}
		got := object(whole, section...)
		for name, w := range want {
			if diff := cmp.Diff(w, got[name]); diff != "" {
				t.Errorf("%v %q differs from the maintenance function's own (-maintenance +whole):\n%s", section, name, diff)
			}
		}
	}

	// Operation ids stay unique: clients are generated from them.
	seen := map[string]string{}
	for path, item := range object(whole, "paths") {
		for method, op := range item.(map[string]any) {
			o, _ := op.(map[string]any)
			id, _ := o["operationId"].(string)
			if id == "" {
				continue
			}
			if other, ok := seen[id]; ok {
				t.Errorf("operation id %q used by %s and %s %s", id, other, method, path)
			}
			seen[id] = method + " " + path
		}
	}
	for _, id := range []string{"list-maintenance-requests", "create-maintenance-request", "get-maintenance-request",
		"confirm-maintenance-request", "complete-maintenance-request", "cancel-maintenance-request"} {
		if seen[id] == "" {
			t.Errorf("operation %s missing from the whole API's document", id)
		}
	}
}

// The orders function's own paths all stay its own: merging adds, never replaces.
func TestMergeOpenAPIKeepsExisting(t *testing.T) {
	doc := &huma.OpenAPI{Paths: map[string]*huma.PathItem{"/a": {Get: &huma.Operation{OperationID: "mine"}}},
		Components: &huma.Components{Schemas: huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer),
			SecuritySchemes: map[string]*huma.SecurityScheme{"bearer": {Type: "http", Scheme: "bearer"}}}}
	doc.Components.Schemas.Map()["Thing"] = &huma.Schema{Type: "string"}
	from := &huma.OpenAPI{Paths: map[string]*huma.PathItem{
		"/a": {Get: &huma.Operation{OperationID: "theirs"}},
		"/b": {Post: &huma.Operation{OperationID: "b", Metadata: map[string]any{httpapi.MetaPublic: true}}},
	}, Components: &huma.Components{Schemas: huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer),
		SecuritySchemes: map[string]*huma.SecurityScheme{"bearer": {Type: "http", Scheme: "basic"}, "sig": {Type: "apiKey", In: "header", Name: "X-Sig"}}},
		Tags: []*huma.Tag{{Name: "b"}}}
	from.Components.Schemas.Map()["Thing"] = &huma.Schema{Type: "integer"}
	from.Components.Schemas.Map()["Other"] = &huma.Schema{Type: "boolean"}

	mergeOpenAPI(doc, from, "other")

	tests := []struct {
		name      string
		got, want any
	}{
		{"existing path kept", doc.Paths["/a"].Get.OperationID, "mine"},
		{"new path added", doc.Paths["/b"].Post.OperationID, "b"},
		{"added operation marked", doc.Paths["/b"].Post.Metadata[httpapi.MetaServedBy], "other"},
		{"added operation not public here", doc.Paths["/b"].Post.Metadata[httpapi.MetaPublic], nil},
		{"source operation untouched", from.Paths["/b"].Post.Metadata[httpapi.MetaServedBy], nil},
		{"existing schema kept", doc.Components.Schemas.Map()["Thing"].Type, "string"},
		{"new schema added", doc.Components.Schemas.Map()["Other"].Type, "boolean"},
		{"existing scheme kept", doc.Components.SecuritySchemes["bearer"].Scheme, "bearer"},
		{"new scheme added", doc.Components.SecuritySchemes["sig"].Name, "X-Sig"},
		{"tag added", len(doc.Tags), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// The maintenance function's handlers answer as the whole API's document
// says: its routes driven through apitest with the orders API's (merged)
// document, on a real database.
func TestWholeAPIDocumentMatchesMaintenanceHandlers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var cluster, pool int64
	if err := e.db.Pool.QueryRow(ctx, `INSERT INTO clusters (name, idc) VALUES ('maint-1', 'idc1') RETURNING id`).Scan(&cluster); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Pool.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type) VALUES ($1, 'general', 'general') RETURNING id`,
		cluster).Scan(&pool); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"maint-node-1", "maint-node-2"} {
		if _, err := e.db.Pool.Exec(ctx, `INSERT INTO devices (hostname, serial, idc, status, cluster_id, pool_id)
			VALUES ($1, $1, 'idc1', 'in_pool', $2, $3)`, h, cluster, pool); err != nil {
			t.Fatal(err)
		}
	}
	m := maintenance.New(maintenance.Deps{DB: e.db.Pool, Auth: mustAuth(), Now: func() time.Time { return e.now }})
	c := apitest.New(t, m.Routes(), e.f.API(), operatorToken, nil)
	p := maintenance.APIPrefix + "/requests"

	var v struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	c.Must(http.StatusCreated, http.MethodPost, p, map[string]any{"hostname": "maint-node-1", "externalTicketId": "CHG-1", "reason": "disk"}).JSON(t, &v)
	c.Must(http.StatusOK, http.MethodPost, p, map[string]any{"hostname": "maint-node-1", "externalTicketId": "CHG-1", "reason": "disk"})
	c.Must(http.StatusOK, http.MethodGet, fmt.Sprintf("%s/%d", p, v.ID), nil)
	c.Must(http.StatusOK, http.MethodGet, p+"?status=pending&limit=10", nil)
	c.Must(http.StatusOK, http.MethodPost, fmt.Sprintf("%s/%d/confirm", p, v.ID), map[string]any{"reason": "approved"})
	c.Must(http.StatusOK, http.MethodPost, fmt.Sprintf("%s/%d/complete", p, v.ID), nil).JSON(t, &v)
	if v.Status != "completed" {
		t.Fatalf("complete: got status %q, want completed", v.Status)
	}
	c.Must(http.StatusCreated, http.MethodPost, p, map[string]any{"hostname": "maint-node-2", "externalTicketId": "CHG-2", "reason": "fan"}).JSON(t, &v)
	c.Must(http.StatusOK, http.MethodPost, fmt.Sprintf("%s/%d/cancel", p, v.ID), nil)
	// Refusals too: problem bodies against the documented error responses.
	c.Must(http.StatusConflict, http.MethodPost, fmt.Sprintf("%s/%d/confirm", p, v.ID), nil)
	c.Must(http.StatusNotFound, http.MethodGet, p+"/999999", nil)
	c.As("").Must(http.StatusUnauthorized, http.MethodGet, p, nil)
	c.As(viewerToken).Must(http.StatusForbidden, http.MethodPost, p, map[string]any{"hostname": "maint-node-2", "externalTicketId": "CHG-3", "reason": "x"})
}

// BenchmarkIncludeMaintenanceAPI is what merging adds to the orders
// function's start: building the maintenance document and merging it into a
// fresh orders-sized document.
func BenchmarkIncludeMaintenanceAPI(b *testing.B) {
	for b.Loop() {
		doc := &huma.OpenAPI{Paths: map[string]*huma.PathItem{}, Components: &huma.Components{
			Schemas: huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)}}
		mergeOpenAPI(doc, maintenance.OpenAPI(), "maintenance")
	}
}

// BenchmarkNew is the orders function's whole API construction (with the merge), for scale.
func BenchmarkNew(b *testing.B) {
	a := mustAuth()
	for b.Loop() {
		New(Deps{Auth: a})
	}
}
