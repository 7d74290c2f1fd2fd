package apitest

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/elasticpool/elasticpool/shared/httpapi"
)

// Operations another function serves are left out of Missing: the whole
// API's document lists them, their own function's tests exercise them.
func TestMissingSkipsOperationsServedElsewhere(t *testing.T) {
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("t", "1"))
	ok := func(ctx context.Context, _ *struct{}) (*struct{}, error) { return &struct{}{}, nil }
	huma.Register(api, huma.Operation{OperationID: "hit", Method: http.MethodGet, Path: "/hit"}, ok)
	huma.Register(api, huma.Operation{OperationID: "unhit", Method: http.MethodGet, Path: "/unhit"}, ok)
	api.OpenAPI().Paths["/elsewhere"] = &huma.PathItem{Get: &huma.Operation{OperationID: "elsewhere", Method: http.MethodGet,
		Metadata: map[string]any{httpapi.MetaServedBy: "other"}}}

	cov := NewCoverage()
	New(t, mux, api, "", cov).Must(http.StatusNoContent, http.MethodGet, "/hit", nil)
	if got, want := cov.Missing(api), []string{"GET /unhit (unhit)"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
