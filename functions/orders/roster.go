package orders

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/notify/roster"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// RosterEntry is one person on duty for one week. Person is the app user name
// (as in AUTH_TOKENS or the auth proxy): in-app notifications go to that user;
// email, phone and chat id are how the other channels reach them.
type RosterEntry struct {
	ID        int64     `json:"id"`
	WeekStart string    `json:"weekStart" format:"date" doc:"The Monday the duty week starts, in TIMEZONE; weeks hand over at Monday 00:00."`
	Person    string    `json:"person" doc:"App user name of the on-duty person."`
	Email     string    `json:"email"`
	Phone     string    `json:"phone" doc:"Mentioned by DingTalk robots."`
	ChatID    string    `json:"chatId" doc:"Chat user id (Slack member id, Feishu open_id, WeCom userid) used for mentions."`
	Version   int       `json:"version"`
	CreatedBy string    `json:"createdBy"`
	UpdatedBy string    `json:"updatedBy"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// RosterEntryInput is what a client writes.
type RosterEntryInput struct {
	WeekStart string `json:"weekStart" format:"date" doc:"A Monday (YYYY-MM-DD)."`
	Person    string `json:"person" minLength:"1" maxLength:"100" doc:"App user name; in-app notifications go to this user."`
	Email     string `json:"email,omitempty" maxLength:"254"`
	Phone     string `json:"phone,omitempty" maxLength:"50"`
	ChatID    string `json:"chatId,omitempty" maxLength:"200"`
	Version   int    `json:"version,omitempty" minimum:"1" doc:"Current version, for updates (or send If-Match)."`
}

func (in RosterEntryInput) validate() (time.Time, error) {
	var errs []*httpapi.FieldError
	week, err := time.Parse(time.DateOnly, in.WeekStart)
	if err != nil {
		errs = append(errs, &httpapi.FieldError{Location: "body.weekStart", Message: "want a date, YYYY-MM-DD", Value: in.WeekStart})
	} else if !roster.IsMonday(week) {
		errs = append(errs, &httpapi.FieldError{Location: "body.weekStart", Message: "must be a Monday (weeks start on Monday)", Value: in.WeekStart})
	}
	if in.Email != "" {
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			errs = append(errs, &httpapi.FieldError{Location: "body.email", Message: "not an email address", Value: in.Email})
		}
	}
	if len(errs) > 0 {
		return week, httpapi.Invalid("bad roster entry", errs...)
	}
	return week, nil
}

const rosterColumns = `id, week_start, person, email, phone, chat_id, version, created_by, updated_by, created_at, updated_at`

func scanRosterEntry(row pgx.Row) (RosterEntry, error) {
	var e RosterEntry
	var week time.Time
	err := row.Scan(&e.ID, &week, &e.Person, &e.Email, &e.Phone, &e.ChatID, &e.Version, &e.CreatedBy, &e.UpdatedBy, &e.CreatedAt, &e.UpdatedAt)
	e.WeekStart = week.Format(time.DateOnly)
	return e, postgres.Translate(err)
}

type rosterOutput struct {
	ETag string `header:"ETag"`
	Body RosterEntry
}

// OnDuty answers "who is on duty at a time".
type OnDuty struct {
	At          time.Time     `json:"at"`
	Week        string        `json:"week" format:"date" doc:"The Monday of at's week."`
	WeekStart   string        `json:"weekStart,omitempty" format:"date" doc:"The roster week the answer comes from; earlier than week when nobody was entered for it and the last roster carries over."`
	CarriedOver bool          `json:"carriedOver"`
	People      []RosterEntry `json:"people"`
}

// RotationInput fills future weeks round-robin.
type RotationInput struct {
	StartWeek string         `json:"startWeek" format:"date" doc:"A Monday: the first week to fill."`
	Weeks     int            `json:"weeks" minimum:"1" maximum:"104"`
	People    []RosterPerson `json:"people" minItems:"1" maxItems:"100" doc:"In rotation order."`
}

// RosterPerson is someone in a rotation.
type RosterPerson struct {
	Person string `json:"person" minLength:"1" maxLength:"100" doc:"App user name; in-app notifications go to this user."`
	Email  string `json:"email,omitempty" maxLength:"254"`
	Phone  string `json:"phone,omitempty" maxLength:"50"`
	ChatID string `json:"chatId,omitempty" maxLength:"200"`
}

func (p RosterPerson) entry(week string) RosterEntryInput {
	return RosterEntryInput{WeekStart: week, Person: p.Person, Email: p.Email, Phone: p.Phone, ChatID: p.ChatID}
}

// Rotation is what a rotation created.
type Rotation struct {
	Created      []RosterEntry `json:"created"`
	SkippedWeeks []string      `json:"skippedWeeks" doc:"Weeks that already had someone on duty; they are left as they are."`
}

var rosterSorts = map[string]string{"id": "id", "weekStart": "week_start", "person": "person", "createdAt": "created_at"}

func rosterCursor(s httpapi.Sort) func(RosterEntry) httpapi.Cursor {
	return func(e RosterEntry) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: e.ID}
		switch s.Key {
		case "weekStart":
			c.Value = e.WeekStart
		case "person":
			c.Value = e.Person
		case "createdAt":
			c.Value = e.CreatedAt
		}
		return c
	}
}

func (f *Function) registerRoster() {
	huma.Register(f.api, huma.Operation{
		OperationID: "list-duty-roster", Method: http.MethodGet, Path: httpapi.Prefix + "/duty-roster",
		Summary: "List the duty roster", Tags: []string{"duty roster"},
	}, func(ctx context.Context, in *struct {
		From   string `query:"from" format:"date" doc:"Weeks starting on or after this date."`
		To     string `query:"to" format:"date" doc:"Weeks starting on or before this date."`
		Person string `query:"person"`
		ListParams
	}) (*struct{ Body List[RosterEntry] }, error) {
		sort, err := httpapi.ParseSort(in.Sort, "weekStart", rosterSorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		w := newWhere()
		if in.From != "" {
			w.add("week_start >= " + w.arg(in.From) + "::date")
		}
		if in.To != "" {
			w.add("week_start <= " + w.arg(in.To) + "::date")
		}
		if in.Person != "" {
			w.add("person = " + w.arg(in.Person))
		}
		items, next, err := listPage(ctx, f.db, "SELECT "+rosterColumns+" FROM duty_roster", w, sort, cur, in.Limit, scanRosterEntry, rosterCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "duty roster")
		}
		return &struct{ Body List[RosterEntry] }{Body: List[RosterEntry]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-on-duty", Method: http.MethodGet, Path: httpapi.Prefix + "/duty-roster/on-duty",
		Summary: "Who is on duty at a time (default now)", Tags: []string{"duty roster"},
		Description: "Reads the local roster: the people of at's week (Monday 00:00 in TIMEZONE), or the latest earlier week's " +
			"when nobody was entered for it. The notify function asks ROSTER_URL first when one is configured.",
	}, func(ctx context.Context, in *struct {
		At time.Time `query:"at" doc:"RFC 3339 time; default now."`
	}) (*struct{ Body OnDuty }, error) {
		at := in.At
		if at.IsZero() {
			at = f.now()
		}
		d, err := roster.NewLocal(f.db, f.loc).OnDuty(ctx, at)
		if err != nil {
			return nil, httpapi.StoreError(err, "duty roster")
		}
		out := OnDuty{At: at, Week: d.Week.Format(time.DateOnly), CarriedOver: d.CarriedOver(), People: []RosterEntry{}}
		if !d.WeekStart.IsZero() {
			out.WeekStart = d.WeekStart.Format(time.DateOnly)
		}
		if len(d.Entries) > 0 {
			ids := make([]int64, len(d.Entries))
			for i, e := range d.Entries {
				ids[i] = e.ID
			}
			rows, err := f.db.Query(ctx, "SELECT "+rosterColumns+" FROM duty_roster WHERE id = ANY($1) ORDER BY id", ids)
			if err != nil {
				return nil, httpapi.StoreError(postgres.Translate(err), "duty roster")
			}
			if out.People, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RosterEntry, error) { return scanRosterEntry(r) }); err != nil {
				return nil, httpapi.StoreError(err, "duty roster")
			}
		}
		return &struct{ Body OnDuty }{Body: out}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-duty-roster-entry", Method: http.MethodGet, Path: httpapi.Prefix + "/duty-roster/{id}",
		Summary: "Get a roster entry", Tags: []string{"duty roster"},
	}, func(ctx context.Context, in *idPath) (*rosterOutput, error) {
		e, err := scanRosterEntry(f.db.QueryRow(ctx, "SELECT "+rosterColumns+" FROM duty_roster WHERE id = $1", in.ID))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("roster entry %d", in.ID))
		}
		return &rosterOutput{ETag: httpapi.ETag(e.Version), Body: e}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "create-duty-roster-entry", Method: http.MethodPost, Path: httpapi.Prefix + "/duty-roster",
		Summary: "Put someone on duty for a week", Tags: []string{"duty roster"}, DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *struct{ Body RosterEntryInput }) (*rosterOutput, error) {
		b := in.Body
		week, err := b.validate()
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var e RosterEntry
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			var err error
			if e, err = insertRosterEntry(ctx, tx, week, b, actor); err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "roster.create", TargetType: "duty_roster",
				TargetID: e.ID, After: e, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("roster entry %s for week %s", b.Person, b.WeekStart))
		}
		return &rosterOutput{ETag: httpapi.ETag(e.Version), Body: e}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-duty-roster-entry", Method: http.MethodPut, Path: httpapi.Prefix + "/duty-roster/{id}",
		Summary: "Update a roster entry", Tags: []string{"duty roster"},
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    RosterEntryInput
	}) (*rosterOutput, error) {
		b := in.Body
		week, err := b.validate()
		if err != nil {
			return nil, err
		}
		version, err := httpapi.ExpectedVersion(in.IfMatch, b.Version)
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var after RosterEntry
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanRosterEntry(tx.QueryRow(ctx, "SELECT "+rosterColumns+" FROM duty_roster WHERE id = $1 FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			after, err = scanRosterEntry(tx.QueryRow(ctx, `UPDATE duty_roster SET week_start = $2, person = $3, email = $4, phone = $5,
				chat_id = $6, updated_by = $7, version = version + 1, updated_at = now() WHERE id = $1 RETURNING `+rosterColumns,
				in.ID, week, b.Person, b.Email, b.Phone, b.ChatID, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "roster.update", TargetType: "duty_roster",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("roster entry %d", in.ID))
		}
		return &rosterOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "delete-duty-roster-entry", Method: http.MethodDelete, Path: httpapi.Prefix + "/duty-roster/{id}",
		Summary: "Delete a roster entry", Tags: []string{"duty roster"}, DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		err := deleteAudited(ctx, f, "duty_roster", in.ID, "SELECT "+rosterColumns+" FROM duty_roster WHERE id = $1 FOR UPDATE",
			scanRosterEntry, "DELETE FROM duty_roster WHERE id = $1")
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("roster entry %d", in.ID))
		}
		return nil, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "rotate-duty-roster", Method: http.MethodPost, Path: httpapi.Prefix + "/duty-roster/rotation",
		Summary: "Fill weeks with a weekly rotation", Tags: []string{"duty roster"}, DefaultStatus: http.StatusCreated,
		Description: "Puts people[0] on duty for startWeek, people[1] for the next week, and so on round-robin for `weeks` weeks. " +
			"Weeks that already have someone on duty are skipped, so running it again only fills gaps.",
	}, func(ctx context.Context, in *struct{ Body RotationInput }) (*struct{ Body Rotation }, error) {
		b := in.Body
		start, err := time.Parse(time.DateOnly, b.StartWeek)
		if err != nil || !roster.IsMonday(start) {
			return nil, httpapi.Invalid("bad rotation", &httpapi.FieldError{Location: "body.startWeek", Message: "must be a Monday (YYYY-MM-DD)", Value: b.StartWeek})
		}
		var errs []*httpapi.FieldError
		for i, p := range b.People {
			if _, err := p.entry(b.StartWeek).validate(); err != nil {
				errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("body.people[%d].email", i), Message: "not an email address", Value: p.Email})
			}
		}
		if len(errs) > 0 {
			return nil, httpapi.Invalid("bad rotation", errs...)
		}
		actor := httpapi.Actor(ctx)
		out := Rotation{Created: []RosterEntry{}, SkippedWeeks: []string{}}
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			// Serialize rotations so two of them cannot both see a week empty.
			if _, err := tx.Exec(ctx, "LOCK TABLE duty_roster IN SHARE ROW EXCLUSIVE MODE"); err != nil {
				return err
			}
			end := start.AddDate(0, 0, 7*(b.Weeks-1))
			rows, err := tx.Query(ctx, "SELECT DISTINCT week_start FROM duty_roster WHERE week_start BETWEEN $1 AND $2", start, end)
			if err != nil {
				return err
			}
			staffed, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
			if err != nil {
				return err
			}
			has := map[string]bool{}
			for _, w := range staffed {
				has[w.Format(time.DateOnly)] = true
			}
			for i := 0; i < b.Weeks; i++ {
				week := start.AddDate(0, 0, 7*i)
				if has[week.Format(time.DateOnly)] {
					out.SkippedWeeks = append(out.SkippedWeeks, week.Format(time.DateOnly))
					continue
				}
				e, err := insertRosterEntry(ctx, tx, week, b.People[i%len(b.People)].entry(""), actor)
				if err != nil {
					return err
				}
				out.Created = append(out.Created, e)
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "roster.rotate", TargetType: "duty_roster",
				TargetID: b.StartWeek, After: out, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(postgres.Translate(err), "duty roster rotation")
		}
		return &struct{ Body Rotation }{Body: out}, nil
	})
}

func insertRosterEntry(ctx context.Context, q postgres.Querier, week time.Time, b RosterEntryInput, actor string) (RosterEntry, error) {
	return scanRosterEntry(q.QueryRow(ctx, `INSERT INTO duty_roster (week_start, person, email, phone, chat_id, created_by, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING `+rosterColumns, week, b.Person, b.Email, b.Phone, b.ChatID, actor))
}
