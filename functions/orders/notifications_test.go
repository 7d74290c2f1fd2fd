package orders

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// notificationFixture: alice (the admin token's user) has three notifications,
// oscar (the operator) one.
func notificationFixture(t *testing.T) (*env, []int64) {
	t.Helper()
	e := newEnv(t)
	var ids []int64
	for i, r := range []struct{ recipient, title string }{
		{"alice", "first"}, {"alice", "second"}, {"oscar", "oscar's"}, {"alice", "third"},
	} {
		var id int64
		if err := e.db.Pool.QueryRow(context.Background(), `INSERT INTO notifications (recipient, title, body, link, event_id, created_at)
			VALUES ($1, $2, 'body', 'http://ui.test/orders/1', $3, now() + make_interval(secs => $4)) RETURNING id`,
			r.recipient, r.title, fmt.Sprintf("evt-%d", i), i).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return e, ids
}

func titles(l List[Notification]) []string {
	var out []string
	for _, n := range l.Items {
		out = append(out, n.Title)
	}
	return out
}

func TestNotificationsListAndRead(t *testing.T) {
	e, ids := notificationFixture(t)
	var l List[Notification]
	e.admin.Must(http.StatusOK, "GET", "/api/v1/notifications", nil).JSON(t, &l)
	if got, want := titles(l), []string{"third", "second", "first"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v (newest first, only mine)", got, want)
	}
	if n := l.Items[0]; n.Read || n.ReadAt != nil || n.Link != "http://ui.test/orders/1" || n.EventID != "evt-3" {
		t.Fatalf("got %+v", n)
	}

	var c UnreadCount
	e.admin.Must(http.StatusOK, "GET", "/api/v1/notifications/unread-count", nil).JSON(t, &c)
	if c.Count != 3 {
		t.Fatalf("got unread %d, want 3", c.Count)
	}

	var n Notification
	e.admin.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", ids[1]), nil).JSON(t, &n)
	if !n.Read || n.ReadAt == nil || n.Title != "second" {
		t.Fatalf("got %+v", n)
	}
	var again Notification
	e.admin.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", ids[1]), nil).JSON(t, &again)
	if !again.ReadAt.Equal(*n.ReadAt) {
		t.Fatalf("read twice moved the read time: %v then %v", n.ReadAt, again.ReadAt)
	}
	// someone else's notification does not exist for me
	e.admin.Must(http.StatusNotFound, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", ids[2]), nil)

	var unread List[Notification]
	e.admin.Must(http.StatusOK, "GET", "/api/v1/notifications?unread=true", nil).JSON(t, &unread)
	if got, want := titles(unread), []string{"third", "first"}; !slices.Equal(got, want) {
		t.Fatalf("unread: got %v, want %v", got, want)
	}

	var ra ReadAll
	e.admin.Must(http.StatusOK, "POST", "/api/v1/notifications/read-all", nil).JSON(t, &ra)
	if ra.Updated != 2 {
		t.Fatalf("got %d updated, want 2", ra.Updated)
	}
	e.admin.Must(http.StatusOK, "GET", "/api/v1/notifications/unread-count", nil).JSON(t, &c)
	if c.Count != 0 {
		t.Fatalf("got unread %d after read-all", c.Count)
	}
	// oscar's notification is untouched
	e.operator.Must(http.StatusOK, "GET", "/api/v1/notifications/unread-count", nil).JSON(t, &c)
	if c.Count != 1 {
		t.Fatalf("oscar: got unread %d, want 1", c.Count)
	}
}

func TestNotificationsPagingAndRoles(t *testing.T) {
	e, _ := notificationFixture(t)
	var p1, p2 List[Notification]
	e.admin.Must(http.StatusOK, "GET", "/api/v1/notifications?limit=2", nil).JSON(t, &p1)
	e.admin.Must(http.StatusOK, "GET", "/api/v1/notifications?limit=2&cursor="+p1.NextCursor, nil).JSON(t, &p2)
	if got := append(titles(p1), titles(p2)...); !slices.Equal(got, []string{"third", "second", "first"}) || p2.NextCursor != "" {
		t.Fatalf("got pages %v / %v", titles(p1), titles(p2))
	}
	var asc List[Notification]
	e.admin.Must(http.StatusOK, "GET", "/api/v1/notifications?sort=id", nil).JSON(t, &asc)
	if got := titles(asc); !slices.Equal(got, []string{"first", "second", "third"}) {
		t.Fatalf("sort=id: got %v", got)
	}
	// a viewer reads and clears their own notifications
	var l List[Notification]
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/notifications", nil).JSON(t, &l)
	if len(l.Items) != 0 {
		t.Fatalf("victor sees %v", titles(l))
	}
	e.viewer.Must(http.StatusOK, "POST", "/api/v1/notifications/read-all", nil)
	e.anon.Must(http.StatusUnauthorized, "GET", "/api/v1/notifications", nil)
	e.admin.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/notifications?sort=title", nil)
}
