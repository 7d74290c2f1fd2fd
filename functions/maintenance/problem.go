package maintenance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/danielgtaylor/huma/v2"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// problem is a refusal of the maintenance service, with the status each edge
// answers. The HTTP API uses the usual REST codes; the CloudEvents ingress
// follows DESIGN §2: 404 and 409 (which Knative-style senders retry) only
// when a redelivery may succeed, 400/422 when it cannot.
type problem struct {
	status   int // HTTP API
	ceStatus int // CloudEvents ingress
	detail   string
	fields   []fieldProblem
}

// fieldProblem names a bad input by its JSON field (without "body."/"data.").
type fieldProblem struct {
	field, message string
	value          any
}

func (p *problem) Error() string {
	if len(p.fields) == 0 {
		return p.detail
	}
	parts := make([]string, len(p.fields))
	for i, f := range p.fields {
		parts[i] = f.field + ": " + f.message
	}
	return p.detail + " (" + strings.Join(parts, "; ") + ")"
}

func invalid(detail string, fields ...fieldProblem) *problem {
	return &problem{status: http.StatusUnprocessableEntity, ceStatus: http.StatusBadRequest, detail: detail, fields: fields}
}

// httpError maps an error of the service to a problem+json response.
func httpError(err error, what string) error {
	var p *problem
	switch {
	case errors.As(err, &p):
		errs := make([]error, len(p.fields))
		for i, f := range p.fields {
			errs[i] = &httpapi.FieldError{Location: "body." + f.field, Message: f.message, Value: f.value}
		}
		return huma.NewError(p.status, p.detail, errs...)
	case errors.Is(err, context.Canceled):
		return huma.NewError(499, "request cancelled")
	}
	return httpapi.StoreError(err, what)
}

// allowedActions names the maintenance actions (endpoints) that lead to the
// statuses a refusal allows.
func allowedActions(r *postgres.TransitionRefusedError) string {
	var out []string
	for _, s := range postgres.AllowedSteps(r.ActionType, r.From) {
		for _, st := range r.Allowed {
			if s.Status == st {
				out = append(out, s.Action)
			}
		}
	}
	if len(out) == 0 {
		return "none (" + r.From + " is final)"
	}
	return strings.Join(out, ", ")
}

// ceError maps an error of the service to the CloudEvents answer.
func ceError(err error) error {
	var p *problem
	if errors.As(err, &p) {
		return cloudevents.NewHTTPResult(p.ceStatus, "%s", p.Error())
	}
	if errors.Is(err, postgres.ErrNotFound) {
		return cloudevents.NewHTTPResult(http.StatusNotFound, "%s", err.Error())
	}
	return events.Retryable(fmt.Errorf("maintenance: %w", err))
}
