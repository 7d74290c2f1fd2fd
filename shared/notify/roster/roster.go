// Package roster answers "who is on duty at time T": from the duty_roster
// table (weeks starting Monday 00:00 in TIMEZONE), or from an external roster
// provider over HTTP with the local table as the fallback.
package roster

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Source is a roster.
type Source interface {
	OnDuty(ctx context.Context, at time.Time) (Duty, error)
}

// Duty is who is on duty at At.
type Duty struct {
	At time.Time
	// Week is the Monday of At's week (a date: midnight UTC).
	Week time.Time
	// WeekStart is the roster week the answer came from: Week, or an earlier
	// week when nobody was entered for Week and the last roster carries over.
	WeekStart time.Time
	// Source is "local" or "provider".
	Source string
	People []notify.Person
	// Entries are the duty_roster rows behind People (local source only).
	Entries []Entry
}

// CarriedOver reports whether the answer comes from an earlier week.
func (d Duty) CarriedOver() bool { return !d.WeekStart.IsZero() && d.WeekStart.Before(d.Week) }

// Entry is one duty_roster row.
type Entry struct {
	ID        int64
	WeekStart time.Time
	notify.Person
}

// WeekStart is the Monday of t's week in loc, as a date (midnight UTC, the
// way pgx reads a `date`). Weeks hand over at Monday 00:00 local time.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	back := (int(lt.Weekday()) + 6) % 7 // days since Monday
	y, m, d := lt.Date()
	return time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
}

// IsMonday reports whether a date is a Monday.
func IsMonday(d time.Time) bool { return d.Weekday() == time.Monday }

// Local is the duty_roster table.
type Local struct {
	db  postgres.Querier
	loc *time.Location
}

var _ Source = (*Local)(nil)

// NewLocal reads duty_roster through db; weeks are in loc (TIMEZONE).
func NewLocal(db postgres.Querier, loc *time.Location) *Local {
	if loc == nil {
		loc = time.UTC
	}
	return &Local{db: db, loc: loc}
}

// OnDuty returns the people of at's week. A week nobody was entered for keeps
// the latest earlier week's people, so an unfilled roster still pages someone.
func (l *Local) OnDuty(ctx context.Context, at time.Time) (Duty, error) {
	d := Duty{At: at, Week: WeekStart(at, l.loc), Source: "local"}
	rows, err := l.db.Query(ctx, `SELECT id, week_start, person, email, phone, chat_id FROM duty_roster
		WHERE week_start = (SELECT max(week_start) FROM duty_roster WHERE week_start <= $1)
		ORDER BY id`, d.Week)
	if err != nil {
		return d, fmt.Errorf("roster: %w", postgres.Translate(err))
	}
	d.Entries, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(&e.ID, &e.WeekStart, &e.Person.Person, &e.Email, &e.Phone, &e.ChatID)
		return e, err
	})
	if err != nil {
		return d, fmt.Errorf("roster: %w", postgres.Translate(err))
	}
	for _, e := range d.Entries {
		d.People = append(d.People, e.Person)
		d.WeekStart = e.WeekStart
	}
	return d, nil
}

// Fallback asks Primary and, when it fails, Secondary.
type Fallback struct {
	Primary   Source
	Secondary Source
	Log       *slog.Logger
}

var _ Source = (*Fallback)(nil)

// OnDuty implements Source.
func (f *Fallback) OnDuty(ctx context.Context, at time.Time) (Duty, error) {
	d, err := f.Primary.OnDuty(ctx, at)
	if err == nil {
		return d, nil
	}
	if f.Log != nil {
		f.Log.WarnContext(ctx, "roster provider failed; using the local roster", "err", err)
	}
	return f.Secondary.OnDuty(ctx, at)
}
