package events

import "context"

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
}
