// Package deadletter is the dead-letter sink of the Knative Broker and of
// every Trigger (infra/): it receives each event whose delivery failed
// permanently (400/422) or exhausted its retries, and logs it at error level
// with the reason Knative attached, so an operator can find it and replay it.
// It always answers 200: refusing a dead letter would only lose it.
package deadletter

import (
	"context"
	"encoding/base64"
	"log/slog"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// maxLogged bounds how much of an event's data goes into one log line.
const maxLogged = 4096

// Function logs dead letters.
type Function struct {
	log *slog.Logger
}

// New returns the function; log is where dead letters are written.
func New(log *slog.Logger) *Function { return &Function{log: log} }

// Handle logs e with Knative's knativeerror* extensions: the destination that
// failed, its last status code and (base64) response body.
func (f *Function) Handle(ctx context.Context, e cloudevents.Event) error {
	ext := e.Extensions()
	attrs := []any{
		"id", e.ID(), "type", e.Type(), "source", e.Source(), "subject", e.Subject(), "time", e.Time(),
		"errorDestination", ext["knativeerrordest"], "errorCode", ext["knativeerrorcode"],
	}
	if s, ok := ext["knativeerrordata"].(string); ok {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			attrs = append(attrs, "errorData", truncate(string(b)))
		} else {
			attrs = append(attrs, "errorData", truncate(s))
		}
	}
	attrs = append(attrs, "data", truncate(string(e.Data())))
	f.log.ErrorContext(ctx, "dead letter: event not delivered", attrs...)
	return nil
}

func truncate(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	return s[:maxLogged] + "…(truncated)"
}
