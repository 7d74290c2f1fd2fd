package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/extensions"
)

// Trace context travels as the W3C traceparent of the CloudEvents
// distributed-tracing extension: a handler puts the incoming event's
// traceparent into its context (Wrap does it), and every event emitted with
// that context continues the same trace with a new span id. No tracing SDK is
// linked: the ids flow so logs and an external collector can join them, and
// the functions stay lean (STYLE habit 15).

type traceKey struct{}

// Trace is a W3C trace context.
type Trace struct {
	Parent string // traceparent: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>
	State  string // tracestate, passed through untouched
}

// TraceID is the 32-hex trace id of a valid traceparent, "" otherwise.
func (t Trace) TraceID() string {
	if !validTraceparent(t.Parent) {
		return ""
	}
	return t.Parent[3:35]
}

// ContextWithTrace returns ctx carrying t. An invalid traceparent is dropped.
func ContextWithTrace(ctx context.Context, t Trace) context.Context {
	if !validTraceparent(t.Parent) {
		return ctx
	}
	return context.WithValue(ctx, traceKey{}, t)
}

// TraceFrom returns the trace context of ctx.
func TraceFrom(ctx context.Context) (Trace, bool) {
	t, ok := ctx.Value(traceKey{}).(Trace)
	return t, ok
}

// TraceOf reads the traceparent extension of an event.
func TraceOf(e cloudevents.Event) (Trace, bool) {
	d, ok := extensions.GetDistributedTracingExtension(e)
	if !ok || !validTraceparent(d.TraceParent) {
		return Trace{}, false
	}
	return Trace{Parent: d.TraceParent, State: d.TraceState}, true
}

// childTrace is the trace context for a new event sent from ctx: the same
// trace id and flags with a fresh span id, or a new sampled trace when ctx
// carries none, so every event of the pipeline can be followed.
func childTrace(ctx context.Context) Trace {
	if t, ok := TraceFrom(ctx); ok {
		return Trace{Parent: t.Parent[:36] + randomHex(8) + t.Parent[52:], State: t.State}
	}
	return Trace{Parent: "00-" + randomHex(16) + "-" + randomHex(8) + "-01"}
}

func setTrace(e *cloudevents.Event, t Trace) {
	extensions.DistributedTracingExtension{TraceParent: t.Parent, TraceState: t.State}.AddTracingAttributes(e)
}

// validTraceparent accepts version 00 traceparents with non-zero ids.
func validTraceparent(s string) bool {
	if len(s) != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || !strings.HasPrefix(s, "00") {
		return false
	}
	for i, c := range s {
		if i == 2 || i == 35 || i == 52 {
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s[3:35] != strings.Repeat("0", 32) && s[36:52] != strings.Repeat("0", 16)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
