package orders

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/elasticpool/elasticpool/functions/maintenance"
	"github.com/elasticpool/elasticpool/shared/httpapi"
)

// includeMaintenanceAPI makes /api/v1/openapi.json describe the whole API
// (DESIGN §8): the maintenance function serves its operations (its own
// document stays at /api/v1/maintenance/openapi.json for external systems),
// and its document is built here from the same Go types, once per New.
func (f *Function) includeMaintenanceAPI() {
	mergeOpenAPI(f.api.OpenAPI(), maintenance.OpenAPI(), "maintenance")
}

// mergeOpenAPI adds from's paths, component schemas, security schemes and
// tags to doc. Operations are copied and marked httpapi.MetaServedBy, so
// this function's coverage check leaves them to servedBy's tests. Something
// doc already has wins: collisions are a test failure (openapi_merge_test.go),
// not a start-up cost or a crash in production.
func mergeOpenAPI(doc, from *huma.OpenAPI, servedBy string) {
	if doc.Paths == nil {
		doc.Paths = map[string]*huma.PathItem{}
	}
	for path, item := range from.Paths {
		if _, ok := doc.Paths[path]; ok {
			continue
		}
		cp := *item
		for _, op := range []**huma.Operation{&cp.Get, &cp.Put, &cp.Post, &cp.Delete, &cp.Options, &cp.Head, &cp.Patch, &cp.Trace} {
			if *op == nil {
				continue
			}
			o := **op
			o.Metadata = map[string]any{httpapi.MetaServedBy: servedBy}
			*op = &o
		}
		doc.Paths[path] = &cp
	}

	if from.Components == nil {
		return
	}
	if doc.Components == nil {
		doc.Components = &huma.Components{}
	}
	if from.Components.Schemas != nil {
		if doc.Components.Schemas == nil {
			doc.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
		}
		schemas := doc.Components.Schemas.Map()
		for name, s := range from.Components.Schemas.Map() {
			if _, ok := schemas[name]; !ok {
				schemas[name] = s
			}
		}
	}
	for name, s := range from.Components.SecuritySchemes {
		if doc.Components.SecuritySchemes == nil {
			doc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
		}
		if _, ok := doc.Components.SecuritySchemes[name]; !ok {
			doc.Components.SecuritySchemes[name] = s
		}
	}
	for _, t := range from.Tags {
		if !hasTag(doc.Tags, t.Name) {
			doc.Tags = append(doc.Tags, t)
		}
	}
}

func hasTag(tags []*huma.Tag, name string) bool {
	for _, t := range tags {
		if t.Name == name {
			return true
		}
	}
	return false
}
