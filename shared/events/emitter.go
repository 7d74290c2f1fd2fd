package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
)

// Emitter sends one event. Callers emit after their transaction commits; an
// error means the event may not have been delivered (the caller decides
// whether that is retryable for its own handler).
type Emitter interface {
	// Emit sends an event of type eventType with data (JSON). id, when not
	// empty, is the event id (deterministic ids let consumers dedupe); subject
	// is the CloudEvents subject (e.g. "order/42").
	Emit(ctx context.Context, e Outgoing) error
}

// Outgoing is an event to send.
type Outgoing struct {
	ID      string // empty: a random UUID
	Type    string
	Source  string
	Subject string
	Data    any
	// Time is the event time; zero means when it is sent. The local cron
	// sets it to the tick, as PingSource does.
	Time time.Time
}

// Event builds the CloudEvent of o at time now, continuing ctx's trace.
func (o Outgoing) Event(ctx context.Context, now time.Time) (cloudevents.Event, error) {
	e := cloudevents.NewEvent()
	id := o.ID
	if id == "" {
		id = uuid.NewString()
	}
	e.SetID(id)
	e.SetType(o.Type)
	e.SetSource(o.Source)
	if !o.Time.IsZero() {
		now = o.Time
	}
	e.SetTime(now)
	if o.Subject != "" {
		e.SetSubject(o.Subject)
	}
	if o.Data != nil {
		if err := e.SetData(cloudevents.ApplicationJSON, o.Data); err != nil {
			return e, fmt.Errorf("events: encode %s data: %w", o.Type, err)
		}
	}
	setTrace(&e, childTrace(ctx))
	if err := e.Validate(); err != nil {
		return e, fmt.Errorf("events: invalid %s event: %w", o.Type, err)
	}
	return e, nil
}

// HTTPEmitter sends events to a sink (K_SINK) with the CloudEvents HTTP
// binding in binary mode, adding the K_CE_OVERRIDES extensions, retrying
// transient failures with exponential backoff.
type HTTPEmitter struct {
	sink      string
	overrides map[string]string
	client    cloudevents.Client
	tries     int
	backoff   time.Duration
	now       func() time.Time
}

// EmitterOptions tune an HTTPEmitter; the zero value is the production default.
type EmitterOptions struct {
	// Retries after the first attempt (default 4); negative means none.
	Retries int
	// Backoff is the first retry delay, doubled each time (default 100ms).
	Backoff time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// Now is the clock for the event time (default time.Now).
	Now func() time.Time
}

// NewHTTPEmitter returns an emitter to sink, the K_SINK URL. ceOverrides is
// K_CE_OVERRIDES: JSON {"extensions": {"name": "value"}} (Knative's
// duck/v1 CloudEventOverrides), empty for none.
func NewHTTPEmitter(sink, ceOverrides string, opts EmitterOptions) (*HTTPEmitter, error) {
	u, err := url.Parse(sink)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("events: K_SINK %q is not an http(s) URL", sink)
	}
	overrides, err := ParseOverrides(ceOverrides)
	if err != nil {
		return nil, err
	}
	if opts.Retries == 0 {
		opts.Retries = 4
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 100 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p, err := cloudevents.NewHTTP(
		cloudevents.WithTarget(sink),
		cehttp.WithClient(http.Client{Timeout: opts.Timeout}),
		// sdk-go's default retries 404, 413, 425, 429, 502-504; use Knative's set.
		cehttp.WithIsRetriableFunc(RetryableStatus),
	)
	if err != nil {
		return nil, fmt.Errorf("events: http protocol: %w", err)
	}
	c, err := cloudevents.NewClient(p)
	if err != nil {
		return nil, fmt.Errorf("events: client: %w", err)
	}
	return &HTTPEmitter{sink: sink, overrides: overrides, client: c, tries: opts.Retries, backoff: opts.Backoff, now: opts.Now}, nil
}

// ParseOverrides reads K_CE_OVERRIDES.
func ParseOverrides(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var o struct {
		Extensions map[string]string `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, fmt.Errorf("events: K_CE_OVERRIDES: %w", err)
	}
	return o.Extensions, nil
}

// Emit sends o and waits for the sink to acknowledge it (2xx).
func (h *HTTPEmitter) Emit(ctx context.Context, o Outgoing) error {
	e, err := o.Event(ctx, h.now())
	if err != nil {
		return err
	}
	for k, v := range h.overrides {
		e.SetExtension(k, v)
	}
	sendCtx := binding.WithForceBinary(ctx)
	if h.tries > 0 {
		sendCtx = cloudevents.ContextWithRetriesExponentialBackoff(sendCtx, h.backoff, h.tries)
	}
	res := h.client.Send(sendCtx, e)
	if !cloudevents.IsACK(res) {
		return fmt.Errorf("events: emit %s %s to %s: %w", e.Type(), e.ID(), h.sink, res)
	}
	return nil
}

// EmitAll sends events in order and stops at the first failure. A nil
// emitter with something to send is an error: a function that must emit is
// misconfigured without a sink.
func EmitAll(ctx context.Context, em Emitter, out []Outgoing) error {
	if len(out) == 0 {
		return nil
	}
	if em == nil {
		return fmt.Errorf("events: %d event(s) to send but no emitter (K_SINK) configured", len(out))
	}
	for _, o := range out {
		if err := em.Emit(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// Recorder is an Emitter that keeps events in memory, for tests of code that
// emits but whose test does not need a sink. Err, when set, fails every Emit.
type Recorder struct {
	mu   sync.Mutex
	sent []Outgoing
	Err  error
}

var _ Emitter = (*Recorder)(nil)

// Emit records o.
func (r *Recorder) Emit(_ context.Context, o Outgoing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return r.Err
	}
	r.sent = append(r.sent, o)
	return nil
}

// Sent returns a copy of what was emitted, in order.
func (r *Recorder) Sent() []Outgoing {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Outgoing(nil), r.sent...)
}

// OfType returns the recorded events of one type.
func (r *Recorder) OfType(t string) []Outgoing {
	var out []Outgoing
	for _, o := range r.Sent() {
		if o.Type == t {
			out = append(out, o)
		}
	}
	return out
}
