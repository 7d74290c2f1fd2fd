package orders

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Notification is an in-app notification of the current user (the notify
// function writes them for the on-duty person, whose roster "person" is
// their user name).
type Notification struct {
	ID        int64      `json:"id"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Link      string     `json:"link" doc:"Where it points in the workbench (UI_BASE_URL + /orders/<id>)."`
	EventID   string     `json:"eventId"`
	Read      bool       `json:"read"`
	ReadAt    *time.Time `json:"readAt"`
	CreatedAt time.Time  `json:"createdAt"`
}

const notificationColumns = `id, title, body, link, coalesce(event_id, ''), read_at, created_at`

func scanNotification(row pgx.Row) (Notification, error) {
	var n Notification
	err := row.Scan(&n.ID, &n.Title, &n.Body, &n.Link, &n.EventID, &n.ReadAt, &n.CreatedAt)
	n.Read = n.ReadAt != nil
	return n, postgres.Translate(err)
}

var notificationSorts = map[string]string{"id": "id", "createdAt": "created_at"}

func notificationCursor(s httpapi.Sort) func(Notification) httpapi.Cursor {
	return func(n Notification) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: n.ID}
		if s.Key == "createdAt" {
			c.Value = n.CreatedAt
		}
		return c
	}
}

// UnreadCount is the badge number.
type UnreadCount struct {
	Count int64 `json:"count"`
}

// ReadAll says how many notifications were marked read.
type ReadAll struct {
	Updated int64 `json:"updated"`
}

// Marking one's own notifications read is not an operator action: viewers may.
var ownNotifications = map[string]any{httpapi.MetaRole: auth.RoleViewer}

// Read marks are per-user UI state, not configuration: they are not audited.
func (f *Function) registerNotifications() {
	huma.Register(f.api, huma.Operation{
		OperationID: "list-notifications", Method: http.MethodGet, Path: httpapi.Prefix + "/notifications",
		Summary: "List my in-app notifications", Tags: []string{"notifications"},
	}, func(ctx context.Context, in *struct {
		Unread bool `query:"unread" doc:"Only unread ones."`
		ListParams
	}) (*struct{ Body List[Notification] }, error) {
		sort, err := httpapi.ParseSort(in.Sort, "-createdAt", notificationSorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		w := newWhere()
		w.add("recipient = " + w.arg(httpapi.Actor(ctx)))
		if in.Unread {
			w.add("read_at IS NULL")
		}
		items, next, err := listPage(ctx, f.db, "SELECT "+notificationColumns+" FROM notifications", w, sort, cur, in.Limit,
			scanNotification, notificationCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "notifications")
		}
		return &struct{ Body List[Notification] }{Body: List[Notification]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "count-unread-notifications", Method: http.MethodGet, Path: httpapi.Prefix + "/notifications/unread-count",
		Summary: "Count my unread notifications", Tags: []string{"notifications"},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body UnreadCount }, error) {
		var c UnreadCount
		err := f.db.QueryRow(ctx, "SELECT count(*) FROM notifications WHERE recipient = $1 AND read_at IS NULL", httpapi.Actor(ctx)).Scan(&c.Count)
		if err != nil {
			return nil, httpapi.StoreError(postgres.Translate(err), "notifications")
		}
		return &struct{ Body UnreadCount }{Body: c}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "read-notification", Method: http.MethodPost, Path: httpapi.Prefix + "/notifications/{id}/read",
		Summary: "Mark one of my notifications read", Tags: []string{"notifications"}, Metadata: ownNotifications,
		Description: "Idempotent: a notification already read keeps its first read time. Another user's notification is 404.",
	}, func(ctx context.Context, in *idPath) (*struct{ Body Notification }, error) {
		n, err := scanNotification(f.db.QueryRow(ctx, `UPDATE notifications SET read_at = coalesce(read_at, now()), updated_at = now()
			WHERE id = $1 AND recipient = $2 RETURNING `+notificationColumns, in.ID, httpapi.Actor(ctx)))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("notification %d", in.ID))
		}
		return &struct{ Body Notification }{Body: n}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "read-all-notifications", Method: http.MethodPost, Path: httpapi.Prefix + "/notifications/read-all",
		Summary: "Mark all my notifications read", Tags: []string{"notifications"}, Metadata: ownNotifications,
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body ReadAll }, error) {
		tag, err := f.db.Exec(ctx, `UPDATE notifications SET read_at = now(), updated_at = now() WHERE recipient = $1 AND read_at IS NULL`,
			httpapi.Actor(ctx))
		if err != nil {
			return nil, httpapi.StoreError(postgres.Translate(err), "notifications")
		}
		return &struct{ Body ReadAll }{Body: ReadAll{Updated: tag.RowsAffected()}}, nil
	})
}
