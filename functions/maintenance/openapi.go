package maintenance

import (
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/elasticpool/elasticpool/shared/httpapi"
)

// Title names the maintenance API in its own OpenAPI document.
const Title = "elasticpool maintenance API"

// buildAPI creates the huma API and registers the operations. Registration
// only describes them: the handlers reach f's dependencies at request time,
// so OpenAPI can build the document with none.
func (f *Function) buildAPI() {
	f.mux = http.NewServeMux()
	f.api = httpapi.NewAPI(f.mux, Title, Version, f.auth)
	f.registerAPI()
}

// OpenAPI returns a fresh copy of the maintenance API's OpenAPI document (the
// one served at /api/v1/maintenance/openapi.json), built from the operations
// and Go types that serve it, without a database, credentials or CloudEvents
// client. The orders function merges it into the whole API's document.
func OpenAPI() *huma.OpenAPI {
	f := &Function{now: time.Now, loc: time.UTC, creds: &Credentials{window: 5 * time.Minute}}
	f.buildAPI()
	return f.api.OpenAPI()
}
