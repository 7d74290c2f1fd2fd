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
// mode) built on cloudevents.NewHTTPReceiveHandler, as functions-framework-go
// does, with Wrap applied; the answer's status is fn's error (status.go).
//
// Unlike functions-framework-go it builds one protocol per request and hands
// the receive handler a context that ends only when the request is answered.
// sdk-go v2.16.2 pairs requests with receiver goroutines through one shared
// unbuffered channel, and a receiver that gives up on its request's
// cancellation orphans another request's message: that request hangs for
// ever and later events run under other requests' (cancelled) contexts
// (cloudevents/sdk-go#1224, #1332, both open). A client that goes away no
// longer cancels the handler: the work finishes, and the sender's retry
// finds it done (every handler is idempotent).
func Handler(ctx context.Context, fn HandlerFunc) (http.Handler, error) {
	wrapped := Wrap(fn)
	if _, err := receiveHandler(ctx, wrapped); err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, err := receiveHandler(ctx, wrapped)
		if err != nil {
			slog.ErrorContext(r.Context(), "events: receive handler", "err", err)
			http.Error(w, "cannot receive events", http.StatusInternalServerError)
			return
		}
		rctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		defer cancel()
		h.ServeHTTP(w, r.WithContext(rctx))
	}), nil
}

func receiveHandler(ctx context.Context, fn HandlerFunc) (http.Handler, error) {
	p, err := cloudevents.NewHTTP()
	if err != nil {
		return nil, fmt.Errorf("events: http protocol: %w", err)
	}
	h, err := cloudevents.NewHTTPReceiveHandler(ctx, p, fn)
	if err != nil {
		return nil, fmt.Errorf("events: receive handler: %w", err)
	}
	return h, nil
}
