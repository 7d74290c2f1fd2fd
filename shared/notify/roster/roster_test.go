package roster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/notifytest"
	"github.com/elasticpool/elasticpool/shared/notify/roster"
	"github.com/elasticpool/elasticpool/shared/pgtest"
)

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWeekStart(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		loc  *time.Location
		want string
	}{
		{"sunday noon", time.Date(2026, 11, 29, 12, 0, 0, 0, shanghai), shanghai, "2026-11-23"},
		{"monday 00:00 hands over", time.Date(2026, 11, 30, 0, 0, 0, 0, shanghai), shanghai, "2026-11-30"},
		{"sunday 23:59 still the old week", time.Date(2026, 11, 29, 23, 59, 0, 0, shanghai), shanghai, "2026-11-23"},
		// 2026-11-29 17:00 UTC is Monday 01:00 in Shanghai: the week is local.
		{"UTC instant, local week", time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC), shanghai, "2026-11-30"},
		{"same instant in UTC", time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC), time.UTC, "2026-11-23"},
		{"across a year", time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC), time.UTC, "2026-12-28"},
		{"nil location is UTC", time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), nil, "2026-11-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roster.WeekStart(tt.at, tt.loc)
			if got.Format(time.DateOnly) != tt.want || !roster.IsMonday(got) || got.Location() != time.UTC {
				t.Fatalf("got %v, want %s (a Monday, midnight UTC)", got, tt.want)
			}
		})
	}
}

func TestLocal(t *testing.T) {
	db := pgtest.NewPool(t)
	ctx := context.Background()
	for _, r := range []struct{ week, person, email string }{
		{"2026-11-16", "bob", "bob@example.com"},
		{"2026-11-23", "alice", "alice@example.com"},
		{"2026-11-23", "carol", "carol@example.com"},
		{"2026-12-14", "dave", "dave@example.com"},
	} {
		if _, err := db.Exec(ctx, `INSERT INTO duty_roster (week_start, person, email) VALUES ($1, $2, $3)`, date(r.week), r.person, r.email); err != nil {
			t.Fatal(err)
		}
	}
	l := roster.NewLocal(db, shanghai)
	tests := []struct {
		name        string
		at          time.Time
		want        []string
		wantCarried bool
	}{
		{"a week with two people", time.Date(2026, 11, 29, 12, 0, 0, 0, shanghai), []string{"alice", "carol"}, false},
		{"an unfilled week carries the last one over", time.Date(2026, 12, 8, 12, 0, 0, 0, shanghai), []string{"alice", "carol"}, true},
		{"the next filled week", time.Date(2026, 12, 14, 0, 0, 0, 0, shanghai), []string{"dave"}, false},
		{"before any roster", time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := l.OnDuty(ctx, tt.at)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range d.People {
				got = append(got, p.Person)
			}
			if !slices.Equal(got, tt.want) || d.CarriedOver() != tt.wantCarried || d.Source != "local" {
				t.Fatalf("got %v carried %v (%+v), want %v carried %v", got, d.CarriedOver(), d, tt.want, tt.wantCarried)
			}
			if len(d.Entries) != len(d.People) {
				t.Fatalf("got %d entries for %d people", len(d.Entries), len(d.People))
			}
		})
	}
}

const token = "roster-token-7c1e9d"

func TestProviderAndFallback(t *testing.T) {
	db := pgtest.NewPool(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, shanghai)
	if _, err := db.Exec(ctx, `INSERT INTO duty_roster (week_start, person, email) VALUES ($1, 'local-lee', 'lee@example.com')`,
		roster.WeekStart(at, shanghai)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantPeople []string
		wantSource string
	}{
		{"provider answers", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token || r.URL.Query().Get("at") != at.Format(time.RFC3339) || r.URL.Query().Get("team") != "sre" {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			_ = json.NewEncoder(w).Encode(roster.ProviderResponse{OnDuty: []notify.Person{{Person: "remote-rae", Email: "rae@example.com", ChatID: "U9"}}})
		}, []string{"remote-rae"}, "provider"},
		{"provider 500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, []string{"local-lee"}, "local"},
		{"provider empty", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"onDuty":[]}`)) }, []string{"local-lee"}, "local"},
		{"provider garbage", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`<html>`)) }, []string{"local-lee"}, "local"},
		{"provider person without name", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"onDuty":[{"email":"x@example.com"}]}`))
		}, []string{"local-lee"}, "local"},
		{"provider too slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}, []string{"local-lee"}, "local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			p, err := roster.NewProvider(roster.ProviderConfig{URL: srv.URL + "/oncall?team=sre", Token: token, Timeout: 300 * time.Millisecond}, nil, shanghai)
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			f := &roster.Fallback{Primary: p, Secondary: roster.NewLocal(db, shanghai), Log: slog.New(slog.NewTextHandler(&logs, nil))}
			d, err := f.OnDuty(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range d.People {
				got = append(got, p.Person)
			}
			if !slices.Equal(got, tt.wantPeople) || d.Source != tt.wantSource {
				t.Fatalf("got %v from %s, want %v from %s", got, d.Source, tt.wantPeople, tt.wantSource)
			}
			notifytest.NoSecretIn(t, "log", logs.String(), token)
		})
	}
	if _, err := roster.NewProvider(roster.ProviderConfig{URL: "oncall.example"}, nil, nil); err == nil {
		t.Fatal("relative ROSTER_URL accepted")
	}
}
