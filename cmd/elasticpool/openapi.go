package main

import (
	"encoding/json"
	"io"

	"github.com/elasticpool/elasticpool/functions/orders"
)

// printOpenAPI writes the whole API's OpenAPI document, the one the orders
// function serves at /api/v1/openapi.json (maintenance's operations
// included), to w. Building the API touches no dependency, so no database
// or server is needed: web's gen:api reads it from here.
func printOpenAPI(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(orders.New(orders.Deps{}).API().OpenAPI())
}
