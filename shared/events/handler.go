package events

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// HandlerFunc is the one CloudEvent handler shape (STYLE habit 2).
type HandlerFunc = func(context.Context, cloudevents.Event) error

// Wrap adds what every handler needs around fn: the event's traceparent in
// the context (so emitted events continue the trace), a log line for every
// failure with the status it answers, and a recovered panic answering 500
// (redelivered) instead of killing the process. funcframework registrations
// and Handler both use it.
func Wrap(fn HandlerFunc) HandlerFunc {
	return func(ctx context.Context, e cloudevents.Event) (err error) {
		if t, ok := TraceOf(e); ok {
			ctx = ContextWithTrace(ctx, t)
		}
		defer func() {
			if p := recover(); p != nil {
				slog.ErrorContext(ctx, "event handler panicked", "id", e.ID(), "type", e.Type(), "source", e.Source(),
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic handling event %s (%s)", e.ID(), e.Type())
			}
			if err != nil {
				code := StatusCode(err)
				level := slog.LevelWarn
				if code >= 500 {
					level = slog.LevelError
				}
				slog.Log(ctx, level, "event not handled", "id", e.ID(), "type", e.Type(), "source", e.Source(),
					"status", code, "retried", RetryableStatus(code), "err", err, "trace", traceID(ctx))
			}
		}()
		return fn(ctx, e)
	}
}

func traceID(ctx context.Context) string {
	t, _ := TraceFrom(ctx)
	return t.TraceID()
}

// Handler serves fn as a CloudEvents HTTP endpoint (binary and structured
// mode), built on cloudevents.NewHTTPReceiveHandler exactly as
// functions-framework-go does, with Wrap applied. The answer's status is
// fn's error as described in status.go.
func Handler(ctx context.Context, fn HandlerFunc) (http.Handler, error) {
	p, err := cloudevents.NewHTTP()
	if err != nil {
		return nil, fmt.Errorf("events: http protocol: %w", err)
	}
	h, err := cloudevents.NewHTTPReceiveHandler(ctx, p, Wrap(fn))
	if err != nil {
		return nil, fmt.Errorf("events: receive handler: %w", err)
	}
	return h, nil
}
