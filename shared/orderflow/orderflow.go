// Package orderflow is the order state machine of DESIGN.md §7: which action
// moves an order of a given type from one status to the next, which actions
// a status allows (for the API's 409 "allowed: …"), which statuses still hold
// their devices, and which actions need a reason. No I/O.
//
//	pool_entry, pool_exit, uncordon:
//	  pending    ─execute→ processing ─complete→ completed
//	  pending    ─ignore→  ignored    (still counts for cooldown)
//	  pending    ─cancel→  cancelled
//	  processing ─fail→    failed     (needs a failure reason)
//	  failed     ─retry→   processing
//	  failed     ─cancel→  cancelled  (give up; releases the devices)
//	maintenance:
//	  pending    ─confirm→ maintenance_in_progress ─complete→ completed (+ uncordon order)
//	  pending    ─cancel→  cancelled
//
// See docs/decisions-scaling.md for the choices beyond the DESIGN diagram.
package orderflow

import (
	"errors"
	"fmt"
	"strings"
)

// Status is an order's status (elastic_scaling_orders.status).
type Status string

const (
	StatusPending               Status = "pending"
	StatusProcessing            Status = "processing"
	StatusCompleted             Status = "completed"
	StatusFailed                Status = "failed"
	StatusCancelled             Status = "cancelled"
	StatusIgnored               Status = "ignored"
	StatusMaintenanceInProgress Status = "maintenance_in_progress"
)

// ActionType is an order's kind (elastic_scaling_orders.action_type).
type ActionType string

const (
	TypePoolEntry   ActionType = "pool_entry"
	TypePoolExit    ActionType = "pool_exit"
	TypeMaintenance ActionType = "maintenance"
	TypeUncordon    ActionType = "uncordon"
)

// Action is what a person or an external system does to an order.
// Maintenance uses the same `complete` as the other types: Next tells them
// apart by the order's type.
type Action string

const (
	ActionExecute  Action = "execute"
	ActionComplete Action = "complete"
	ActionFail     Action = "fail"
	ActionRetry    Action = "retry"
	ActionIgnore   Action = "ignore"
	ActionCancel   Action = "cancel"
	ActionConfirm  Action = "confirm"
)

// Statuses, ActionTypes and Actions list every value in a stable order (for
// OpenAPI enums and exhaustive tests).
func Statuses() []Status {
	return []Status{StatusPending, StatusProcessing, StatusCompleted, StatusFailed,
		StatusCancelled, StatusIgnored, StatusMaintenanceInProgress}
}

// ActionTypes lists every order type.
func ActionTypes() []ActionType {
	return []ActionType{TypePoolEntry, TypePoolExit, TypeMaintenance, TypeUncordon}
}

// Actions lists every action.
func Actions() []Action {
	return []Action{ActionExecute, ActionComplete, ActionFail, ActionRetry, ActionIgnore, ActionCancel, ActionConfirm}
}

// Transition is one allowed step.
type Transition struct {
	From   Status
	Action Action
	To     Status
	// NeedsReason: the request must carry a non-empty reason (fail →
	// failureReason).
	NeedsReason bool
	// Releases: the order stops holding its devices (order_devices.active
	// becomes false), i.e. it goes from an open status to a closed one.
	Releases bool
	// FollowUp is the order type to create after this step ("" for none):
	// completing maintenance opens an uncordon order.
	FollowUp ActionType
}

type step struct {
	action Action
	to     Status
}

// The tables list steps in the order Allowed reports them.
var (
	workFlow = map[Status][]step{
		StatusPending:    {{ActionExecute, StatusProcessing}, {ActionIgnore, StatusIgnored}, {ActionCancel, StatusCancelled}},
		StatusProcessing: {{ActionComplete, StatusCompleted}, {ActionFail, StatusFailed}},
		StatusFailed:     {{ActionRetry, StatusProcessing}, {ActionCancel, StatusCancelled}},
	}
	maintenanceFlow = map[Status][]step{
		StatusPending:               {{ActionConfirm, StatusMaintenanceInProgress}, {ActionCancel, StatusCancelled}},
		StatusMaintenanceInProgress: {{ActionComplete, StatusCompleted}},
	}
)

func flow(t ActionType) map[Status][]step {
	if t == TypeMaintenance {
		return maintenanceFlow
	}
	return workFlow
}

// ErrUnknown marks a value that is not an order type, status or action at
// all: a bad request (400/422), not a conflict.
var ErrUnknown = errors.New("orderflow: unknown value")

// ErrNotAllowed is what every *TransitionError matches with errors.Is.
var ErrNotAllowed = errors.New("orderflow: transition not allowed")

// TransitionError refuses an action that the order's status does not allow.
// The API answers 409 with Allowed.
type TransitionError struct {
	Type    ActionType
	From    Status
	Action  Action
	Allowed []Action
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot %s a %s order in status %s; allowed: %s", e.Action, e.Type, e.From, joinActions(e.Allowed))
}

func (e *TransitionError) Unwrap() error { return ErrNotAllowed }

func joinActions(as []Action) string {
	if len(as) == 0 {
		return "none"
	}
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = string(a)
	}
	return strings.Join(parts, ", ")
}

// Lookup returns the transition for action a on an order of type t in status
// from: an error wrapping ErrUnknown for a value outside the enums, a
// *TransitionError when the step is not allowed.
func Lookup(t ActionType, from Status, a Action) (Transition, error) {
	if err := check(t, from, a); err != nil {
		return Transition{}, err
	}
	for _, s := range flow(t)[from] {
		if s.action == a {
			tr := Transition{
				From:        from,
				Action:      a,
				To:          s.to,
				NeedsReason: NeedsReason(a),
				Releases:    IsOpen(from) && !IsOpen(s.to),
			}
			if t == TypeMaintenance && s.to == StatusCompleted {
				tr.FollowUp = TypeUncordon
			}
			return tr, nil
		}
	}
	return Transition{}, &TransitionError{Type: t, From: from, Action: a, Allowed: Allowed(t, from)}
}

// Next is the status after action a, or the error Lookup gives.
func Next(t ActionType, from Status, a Action) (Status, error) {
	tr, err := Lookup(t, from, a)
	if err != nil {
		return "", err
	}
	return tr.To, nil
}

// Allowed lists the actions an order of type t in status from accepts; empty
// for a final status, or for a status the type never has.
func Allowed(t ActionType, from Status) []Action {
	steps := flow(t)[from]
	if !validType(t) || len(steps) == 0 {
		return []Action{}
	}
	out := make([]Action, len(steps))
	for i, s := range steps {
		out[i] = s.action
	}
	return out
}

// IsOpen reports whether an order in status s still holds its devices and
// shows on the workbench. failed is open: its devices may be half-joined or
// half-drained, so they stay with the order until it is retried or cancelled.
func IsOpen(s Status) bool {
	switch s {
	case StatusPending, StatusProcessing, StatusFailed, StatusMaintenanceInProgress:
		return true
	}
	return false
}

// NeedsReason reports whether action a must carry a reason: fail needs the
// failureReason that the order keeps.
func NeedsReason(a Action) bool { return a == ActionFail }

// ParseStatus, ParseActionType and ParseAction read API input; their errors
// wrap ErrUnknown.
func ParseStatus(s string) (Status, error) {
	for _, v := range Statuses() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: status %q", ErrUnknown, s)
}

func ParseActionType(s string) (ActionType, error) {
	for _, v := range ActionTypes() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: action type %q", ErrUnknown, s)
}

func ParseAction(s string) (Action, error) {
	for _, v := range Actions() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: action %q", ErrUnknown, s)
}

func validType(t ActionType) bool {
	_, err := ParseActionType(string(t))
	return err == nil
}

func check(t ActionType, s Status, a Action) error {
	if _, err := ParseActionType(string(t)); err != nil {
		return err
	}
	if _, err := ParseStatus(string(s)); err != nil {
		return err
	}
	_, err := ParseAction(string(a))
	return err
}
