// Package inapp is the in-app channel: a row in the notifications table that
// the workbench lists for its recipient (an app user name). The table's
// unique (event_id, recipient) makes a second delivery of the same event a no-op.
package inapp

import (
	"context"
	"fmt"

	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Store writes in-app notifications.
type Store struct {
	db postgres.Querier
}

var _ notify.Notifier = (*Store)(nil)

// New returns the channel over db.
func New(db postgres.Querier) *Store { return &Store{db: db} }

// Notify inserts the notification for user to; a duplicate is not an error.
func (s *Store) Notify(ctx context.Context, to string, m notify.Message) (bool, error) {
	if to == "" {
		return false, fmt.Errorf("inapp: empty recipient")
	}
	var eventID *string
	if m.EventID != "" {
		eventID = &m.EventID
	}
	_, err := s.db.Exec(ctx, `INSERT INTO notifications (recipient, title, body, link, event_id)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, recipient) DO NOTHING`,
		to, m.Title, m.Text, m.Link, eventID)
	if err != nil {
		// Our own database: a failure here is an outage, worth retrying.
		return true, fmt.Errorf("inapp: insert for %s: %w", to, postgres.Translate(err))
	}
	return false, nil
}
