package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticpool/elasticpool/functions/maintenance"
	"github.com/elasticpool/elasticpool/functions/orders"
)

// `elasticpool openapi` prints what the API serves at /api/v1/openapi.json.
func TestPrintOpenAPIIsTheServedDocument(t *testing.T) {
	var out bytes.Buffer
	if err := printOpenAPI(&out); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	orders.New(orders.Deps{}).Routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	var printed, served map[string]any
	if err := json.Unmarshal(out.Bytes(), &printed); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &served); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(served, printed); diff != "" {
		t.Fatalf("printed document differs from the served one (-served +printed):\n%s", diff)
	}
	if paths, _ := printed["paths"].(map[string]any); paths[maintenance.APIPrefix+"/requests"] == nil {
		t.Fatal("maintenance operations missing")
	}
}
