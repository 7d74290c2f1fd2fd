package inapp_test

import (
	"context"
	"testing"

	"github.com/elasticpool/elasticpool/shared/notify/inapp"
	"github.com/elasticpool/elasticpool/shared/notify/notifytest"
	"github.com/elasticpool/elasticpool/shared/pgtest"
)

func TestNotifyOncePerEventAndRecipient(t *testing.T) {
	db := pgtest.NewPool(t)
	s := inapp.New(db)
	ctx := context.Background()
	m := notifytest.Message()
	for _, to := range []string{"alice", "alice", "bob"} {
		if retry, err := s.Notify(ctx, to, m); err != nil {
			t.Fatalf("got %v (retry %v)", err, retry)
		}
	}
	var alice, bob int
	var title, link string
	if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE recipient = 'alice'), count(*) FILTER (WHERE recipient = 'bob'),
		max(title), max(link) FROM notifications WHERE event_id = $1`, m.EventID).Scan(&alice, &bob, &title, &link); err != nil {
		t.Fatal(err)
	}
	if alice != 1 || bob != 1 || title != m.Title || link != m.Link {
		t.Fatalf("got alice %d bob %d title %q link %q", alice, bob, title, link)
	}
	if retry, err := s.Notify(ctx, "", m); err == nil || retry {
		t.Fatalf("empty recipient: got retry %v err %v, want a permanent error", retry, err)
	}
	db.Close() // the database is gone: an outage, worth a retry
	if retry, err := s.Notify(ctx, "carol", m); err == nil || !retry {
		t.Fatalf("closed pool: got retry %v err %v, want a retryable error", retry, err)
	}
}
