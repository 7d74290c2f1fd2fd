package orders

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

func TestRosterCRUD(t *testing.T) {
	e := newEnv(t)
	var a RosterEntry
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/duty-roster", map[string]any{
		"weekStart": "2026-11-23", "person": "alice", "email": "alice@example.com", "phone": "13800000000", "chatId": "U-ALICE",
	}).JSON(t, &a)
	if a.ID == 0 || a.WeekStart != "2026-11-23" || a.Person != "alice" || a.Version != 1 || a.CreatedBy != "oscar" {
		t.Fatalf("created %+v", a)
	}
	r := e.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/duty-roster/%d", a.ID), nil)
	if got := r.Header.Get("ETag"); got != `"1"` {
		t.Fatalf("got ETag %q", got)
	}
	// a second person the same week is fine (primary and secondary); the same person twice is not
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/duty-roster", map[string]any{"weekStart": "2026-11-23", "person": "bob"})
	e.operator.Must(http.StatusConflict, "POST", "/api/v1/duty-roster", map[string]any{"weekStart": "2026-11-23", "person": "alice"})
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/duty-roster", map[string]any{"weekStart": "2026-11-30", "person": "carol"})

	var u RosterEntry
	e.operator.Must(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/duty-roster/%d", a.ID), map[string]any{
		"weekStart": "2026-11-23", "person": "alice", "email": "alice@corp.example.com",
	}, "If-Match", `"1"`).JSON(t, &u)
	if u.Version != 2 || u.Email != "alice@corp.example.com" || u.Phone != "" || u.UpdatedBy != "oscar" {
		t.Fatalf("updated %+v", u)
	}
	e.operator.Must(http.StatusPreconditionFailed, "PUT", fmt.Sprintf("/api/v1/duty-roster/%d", a.ID),
		map[string]any{"weekStart": "2026-11-23", "person": "alice", "version": 1})
	e.operator.Must(http.StatusPreconditionRequired, "PUT", fmt.Sprintf("/api/v1/duty-roster/%d", a.ID),
		map[string]any{"weekStart": "2026-11-23", "person": "alice"})

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"alice", "bob", "carol"}},
		{"?from=2026-11-30", []string{"carol"}},
		{"?to=2026-11-29", []string{"alice", "bob"}},
		{"?person=bob", []string{"bob"}},
		{"?sort=-weekStart", []string{"carol", "bob", "alice"}}, // id breaks ties the same way
	}
	for _, tt := range tests {
		var l List[RosterEntry]
		e.viewer.Must(http.StatusOK, "GET", "/api/v1/duty-roster"+tt.query, nil).JSON(t, &l)
		var got []string
		for _, it := range l.Items {
			got = append(got, it.Person)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
		}
	}
	// paging
	var p1, p2 List[RosterEntry]
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/duty-roster?limit=2", nil).JSON(t, &p1)
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/duty-roster?limit=2&cursor="+p1.NextCursor, nil).JSON(t, &p2)
	if len(p1.Items) != 2 || p1.NextCursor == "" || len(p2.Items) != 1 || p2.Items[0].Person != "carol" || p2.NextCursor != "" {
		t.Fatalf("pages %+v / %+v", p1, p2)
	}

	e.viewer.Must(http.StatusForbidden, "POST", "/api/v1/duty-roster", map[string]any{"weekStart": "2026-12-07", "person": "x"})
	e.operator.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/duty-roster/%d", a.ID), nil)
	e.viewer.Must(http.StatusNotFound, "GET", fmt.Sprintf("/api/v1/duty-roster/%d", a.ID), nil)

	var n int
	if err := e.db.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM audit_log WHERE target_type = 'duty_roster' AND target_id = $1", fmt.Sprint(a.ID)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("got %d audit rows, want 3 (create, update, delete)", n)
	}
}

func TestRosterValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"not a Monday", map[string]any{"weekStart": "2026-11-24", "person": "alice"}, []string{"body.weekStart"}},
		{"not a date", map[string]any{"weekStart": "next week", "person": "alice"}, []string{"body.weekStart"}},
		{"bad email", map[string]any{"weekStart": "2026-11-23", "person": "alice", "email": "alice"}, []string{"body.email"}},
		{"missing person", map[string]any{"weekStart": "2026-11-23"}, []string{"body.person"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/duty-roster", tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got locations %v, want %v (%+v)", got, tt.want, p)
			}
		})
	}
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/duty-roster/on-duty?at=yesterday", nil)
	e.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/duty-roster?sort=email", nil)
}

func TestRosterOnDuty(t *testing.T) {
	e := newEnv(t) // now: Sunday 2026-11-29 06:00 Shanghai, in the week of Monday 2026-11-23
	var none OnDuty
	e.viewer.Must(http.StatusOK, "GET", "/api/v1/duty-roster/on-duty", nil).JSON(t, &none)
	if len(none.People) != 0 || none.Week != "2026-11-23" || none.WeekStart != "" {
		t.Fatalf("empty roster: got %+v", none)
	}
	for _, b := range []map[string]any{
		{"weekStart": "2026-11-23", "person": "alice", "email": "alice@example.com"},
		{"weekStart": "2026-11-23", "person": "bob"},
		{"weekStart": "2026-11-30", "person": "carol"},
	} {
		e.operator.Must(http.StatusCreated, "POST", "/api/v1/duty-roster", b)
	}
	tests := []struct {
		name, query string
		week        string
		from        string
		carried     bool
		want        []string
	}{
		{"now", "", "2026-11-23", "2026-11-23", false, []string{"alice", "bob"}},
		// Sunday 16:30 UTC is Monday 00:30 in Shanghai: carol's week has begun.
		{"handover is Monday 00:00 local", "?at=2026-11-29T16:30:00Z", "2026-11-30", "2026-11-30", false, []string{"carol"}},
		{"an unfilled week carries over", "?at=2026-12-09T12:00:00%2B08:00", "2026-12-07", "2026-11-30", true, []string{"carol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d OnDuty
			e.viewer.Must(http.StatusOK, "GET", "/api/v1/duty-roster/on-duty"+tt.query, nil).JSON(t, &d)
			var got []string
			for _, p := range d.People {
				got = append(got, p.Person)
			}
			if !slices.Equal(got, tt.want) || d.Week != tt.week || d.WeekStart != tt.from || d.CarriedOver != tt.carried {
				t.Fatalf("got %+v, want %v in week %s from %s (carried %v)", d, tt.want, tt.week, tt.from, tt.carried)
			}
		})
	}
}

func TestRosterRotation(t *testing.T) {
	e := newEnv(t)
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/duty-roster", map[string]any{"weekStart": "2026-12-07", "person": "zoe"})
	body := map[string]any{"startWeek": "2026-11-30", "weeks": 4, "people": []map[string]any{
		{"person": "bob", "email": "bob@example.com"}, {"person": "carol", "chatId": "U-CAROL"},
	}}
	var r Rotation
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/duty-roster/rotation", body).JSON(t, &r)
	var got []string
	for _, c := range r.Created {
		got = append(got, c.WeekStart+" "+c.Person)
	}
	// Week i gets people[i % n]; the staffed week is skipped, not shifted.
	if want := []string{"2026-11-30 bob", "2026-12-14 bob", "2026-12-21 carol"}; !slices.Equal(got, want) || !slices.Equal(r.SkippedWeeks, []string{"2026-12-07"}) {
		t.Fatalf("got created %v skipped %v", got, r.SkippedWeeks)
	}
	var again Rotation
	e.operator.Must(http.StatusCreated, "POST", "/api/v1/duty-roster/rotation", body).JSON(t, &again)
	if len(again.Created) != 0 || len(again.SkippedWeeks) != 4 {
		t.Fatalf("a second run changed the roster: %+v", again)
	}
	p := e.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/duty-roster/rotation", map[string]any{
		"startWeek": "2026-12-01", "weeks": 1, "people": []map[string]any{{"person": "x"}}}).Problem(t)
	if !slices.Equal(p.Locations(), []string{"body.startWeek"}) {
		t.Fatalf("got %v", p.Locations())
	}
	p = e.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/duty-roster/rotation", map[string]any{
		"startWeek": "2026-11-30", "weeks": 1, "people": []map[string]any{{"person": "x", "email": "nope"}}}).Problem(t)
	if !slices.Equal(p.Locations(), []string{"body.people[0].email"}) {
		t.Fatalf("got %v", p.Locations())
	}
	e.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/duty-roster/rotation", map[string]any{
		"startWeek": "2026-11-30", "weeks": 0, "people": []map[string]any{{"person": "x"}}})
}
