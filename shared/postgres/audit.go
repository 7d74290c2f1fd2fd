package postgres

import (
	"context"
	"encoding/json"
	"fmt"
)

// Audit is one audit_log row: who did what to which target, before and after.
type Audit struct {
	Actor      string
	Action     string // e.g. "order.status", "strategy.create"
	TargetType string // e.g. "order"
	TargetID   any
	Before     any // marshalled to JSON; nil → NULL
	After      any
	RequestID  string
}

// WriteAudit inserts the row through q, normally the mutation's own transaction,
// so a change and its audit entry commit or roll back together.
func WriteAudit(ctx context.Context, q Querier, a Audit) error {
	before, err := jsonOrNil(a.Before)
	if err != nil {
		return err
	}
	after, err := jsonOrNil(a.After)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO audit_log (actor, action, target_type, target_id, before, after, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		a.Actor, a.Action, a.TargetType, fmt.Sprint(a.TargetID), before, after, a.RequestID)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func jsonOrNil(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: marshal: %w", err)
	}
	return b, nil
}
