package orders

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/elasticpool/elasticpool/shared/httpapi"
)

// Me is the signed-in user as the server sees them; the workbench shows
// or hides its mutation buttons by Role. It never carries the credential.
type Me struct {
	Subject    string `json:"subject" doc:"The user name of the token (AUTH_TOKENS) or of the auth proxy's header."`
	Role       string `json:"role" enum:"viewer,operator,admin" doc:"viewer reads; operator also writes; admin also manages clusters, credentials and device deletion."`
	AuthMethod string `json:"authMethod" enum:"token,proxy" doc:"A bearer token, or the trusted proxy header."`
}

func (f *Function) registerMe() {
	huma.Register(f.api, huma.Operation{
		OperationID: "get-me", Method: http.MethodGet, Path: httpapi.Prefix + "/me",
		Summary: "Who the caller is: subject, role and how they signed in", Tags: []string{"auth"},
		Errors: []int{http.StatusUnauthorized},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body Me }, error) {
		u := httpapi.User(ctx) // the middleware has refused unauthenticated calls
		return &struct{ Body Me }{Body: Me{Subject: u.Name, Role: u.Role.String(), AuthMethod: u.Method}}, nil
	})
}
