package maintenance

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/go-cmp/cmp"
)

// OpenAPI (what the orders function merges into the whole API's document)
// is the document this function serves, built without any dependency.
func TestOpenAPIIsTheServedDocument(t *testing.T) {
	rec := httptest.NewRecorder()
	New(Deps{}).Routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, APIPrefix+"/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET openapi.json: got %d, want 200", rec.Code)
	}
	var served, built any
	if err := json.Unmarshal(rec.Body.Bytes(), &served); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &built); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(served, built); diff != "" {
		t.Fatalf("OpenAPI() differs from the served document (-served +built):\n%s", diff)
	}
}

// A signed request needs its three headers together; a bearer token alone
// is the other way in.
func TestOpenAPISecurityNamesTheSigningHeaders(t *testing.T) {
	doc := OpenAPI()
	for scheme, header := range map[string]string{securitySignature: HeaderSignature, securitySystem: HeaderSystem, securityTimestamp: HeaderTimestamp} {
		if s := doc.Components.SecuritySchemes[scheme]; s == nil || s.Type != "apiKey" || s.In != "header" || s.Name != header {
			t.Errorf("scheme %s: got %+v, want apiKey in header %s", scheme, s, header)
		}
	}
	want := []map[string][]string{{"bearer": {}}, {securitySignature: {}, securitySystem: {}, securityTimestamp: {}}}
	for path, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post} {
			if op == nil {
				continue
			}
			if diff := cmp.Diff(want, op.Security); diff != "" {
				t.Errorf("%s %s security (-want +got):\n%s", op.Method, path, diff)
			}
		}
	}
}
