// Package httpapi is the HTTP plumbing shared by the API functions: the huma
// API with its OpenAPI document, authentication by role, RFC 9457 problem
// errors with field paths, and keyset cursors.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

func init() {
	base := huma.NewError
	// huma reports a missing required property at its parent ("body"); name the field itself.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		se := base(status, msg, errs...)
		if em, ok := se.(*huma.ErrorModel); ok {
			for _, d := range em.Errors {
				if d == nil {
					continue
				}
				if name, ok := strings.CutPrefix(d.Message, "expected required property "); ok {
					if name, ok = strings.CutSuffix(name, " to be present"); ok {
						d.Location += "." + name
						d.Message = "is required"
					}
				}
			}
		}
		return se
	}
}

// Prefix is where the API lives.
const Prefix = "/api/v1"

// MaxBodyBytes caps request bodies; bulk imports raise it per operation.
const MaxBodyBytes = 1 << 20

// MetaRole is the operation metadata key that overrides the role an operation needs.
const MetaRole = "role"

// MetaPublic marks an operation that needs no credentials.
const MetaPublic = "public"

// MetaServedBy names the function that serves an operation another API's
// document describes (the whole API's document includes the maintenance
// function's operations); that function's tests exercise it.
const MetaServedBy = "servedBy"

// NewAPI mounts a huma API on mux, serving its OpenAPI document at
// /api/v1/openapi.json. Every operation requires a user: viewer for reads,
// operator for writes, unless its metadata says otherwise.
func NewAPI(mux *http.ServeMux, title, version string, authn *auth.Authenticator) huma.API {
	cfg := huma.DefaultConfig(title, version)
	cfg.OpenAPIPath = Prefix + "/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.Transformers = nil // no "$schema" links injected into bodies
	cfg.CreateHooks = nil
	cfg.RejectUnknownQueryParameters = true
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "A token from AUTH_TOKENS."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	api := humago.New(mux, cfg)
	api.UseMiddleware(requestID, authenticate(api, authn))
	return api
}

type requestIDKey struct{}

func requestID(ctx huma.Context, next func(huma.Context)) {
	id := ctx.Header("X-Request-Id")
	if id == "" || len(id) > 128 {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	ctx.SetHeader("X-Request-Id", id)
	next(huma.WithValue(ctx, requestIDKey{}, id))
}

// RequestID returns the request's id (for the audit log).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func authenticate(api huma.API, authn *auth.Authenticator) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		if public, _ := op.Metadata[MetaPublic].(bool); public {
			next(ctx)
			return
		}
		r, _ := humago.Unwrap(ctx)
		u, err := authn.Authenticate(r)
		if err != nil {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="elasticpool"`)
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		need := RequiredRole(op)
		if !u.Can(need) {
			_ = huma.WriteErr(api, ctx, http.StatusForbidden,
				fmt.Sprintf("%s %s needs role %s; %s has %s", op.Method, op.Path, need, u.Name, u.Role))
			return
		}
		next(huma.WithValue(ctx, authCtxKey{}, u))
	}
}

type authCtxKey struct{}

// RequiredRole is the role an operation needs.
func RequiredRole(op *huma.Operation) auth.Role {
	if r, ok := op.Metadata[MetaRole].(auth.Role); ok {
		return r
	}
	switch op.Method {
	case http.MethodGet, http.MethodHead:
		return auth.RoleViewer
	}
	return auth.RoleOperator
}

// User returns the authenticated user of a huma handler's context.
func User(ctx context.Context) auth.User {
	u, _ := ctx.Value(authCtxKey{}).(auth.User)
	return u
}

// Actor names the user behind a handler's context.
func Actor(ctx context.Context) string {
	if u := User(ctx); u.Name != "" {
		return u.Name
	}
	return auth.Actor(ctx)
}

// FieldError is one bad field, named by its path (e.g. body.groups[1].blocks[0].op).
type FieldError struct {
	Location string
	Message  string
	Value    any
}

func (e *FieldError) Error() string { return e.Location + ": " + e.Message }

// ErrorDetail lets huma render it with its location.
func (e *FieldError) ErrorDetail() *huma.ErrorDetail {
	return &huma.ErrorDetail{Location: e.Location, Message: e.Message, Value: e.Value}
}

// Invalid is a 422 naming every bad field.
func Invalid(detail string, errs ...*FieldError) error {
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return huma.Error422UnprocessableEntity(detail, list...)
}

// StoreError maps store sentinels to problem responses; anything else is a 500
// whose detail does not leak internals.
func StoreError(err error, what string) error {
	if err == nil {
		return nil
	}
	var se huma.StatusError
	if errors.As(err, &se) {
		return se
	}
	var ce *postgres.ConstraintError
	switch {
	case errors.Is(err, postgres.ErrNotFound):
		return huma.Error404NotFound(what + " not found")
	case errors.Is(err, postgres.ErrStale):
		return huma.Error412PreconditionFailed(what + " was changed by someone else; reload it and retry")
	case errors.As(err, &ce) && errors.Is(ce.Kind, postgres.ErrConflict):
		return huma.Error409Conflict(fmt.Sprintf("%s conflicts with an existing one: %s", what, ce.Detail))
	case errors.As(err, &ce) && errors.Is(ce.Kind, postgres.ErrReference):
		return huma.Error422UnprocessableEntity(fmt.Sprintf("%s refers to something that does not exist (or is still referenced): %s", what, ce.Detail))
	case errors.As(err, &ce):
		return huma.Error422UnprocessableEntity(fmt.Sprintf("%s violates %s: %s", what, ce.Constraint, ce.Detail))
	case errors.Is(err, context.Canceled):
		return huma.NewError(499, "request cancelled")
	}
	return huma.Error500InternalServerError("internal error while handling " + what)
}

// ExpectedVersion resolves optimistic concurrency from an If-Match header
// (`"3"` or `3`) or a body version; neither is a 428.
func ExpectedVersion(ifMatch string, bodyVersion int) (int, error) {
	if ifMatch != "" {
		s := strings.Trim(strings.TrimPrefix(strings.TrimSpace(ifMatch), "W/"), `"`)
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return 0, huma.Error422UnprocessableEntity("bad If-Match", &FieldError{Location: "header.If-Match", Message: "want the ETag (version) returned by GET", Value: ifMatch})
		}
		if bodyVersion != 0 && bodyVersion != v {
			return 0, huma.Error422UnprocessableEntity("If-Match and body version disagree", &FieldError{Location: "body.version", Message: "differs from If-Match", Value: bodyVersion})
		}
		return v, nil
	}
	if bodyVersion > 0 {
		return bodyVersion, nil
	}
	return 0, huma.NewError(http.StatusPreconditionRequired, "send the current version in If-Match or in the body's version field")
}

// ETag formats a version for the ETag header.
func ETag(version int) string { return strconv.Quote(strconv.Itoa(version)) }
