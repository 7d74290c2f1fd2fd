package scaling

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-29", -1, "2026-11-28"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2028-03-01", -1, "2028-02-29"},
		{"2026-12-31", 1, "2027-01-01"},
		{"2026-03-09", -3, "2026-03-06"}, // across the US spring-forward day
		{"2026-11-02", -2, "2026-10-31"}, // across the fall-back day
	}
	for _, tt := range tests {
		if got := mustDate(t, tt.from).AddDays(tt.n).String(); got != tt.want {
			t.Errorf("%s%+d: got %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
	if !mustDate(t, "2026-11-28").Before(mustDate(t, "2026-11-29")) || mustDate(t, "2026-12-01").Before(mustDate(t, "2026-11-29")) {
		t.Error("Before is wrong")
	}
	if _, err := ParseDate("2026-13-01"); err == nil {
		t.Error("got no error for month 13")
	}
}

func TestDateOfUsesTheTimeZone(t *testing.T) {
	sh := loadLoc(t, "Asia/Shanghai")
	instant := time.Date(2026, 11, 28, 22, 30, 0, 0, time.UTC)
	if got := DateOf(instant.In(sh)).String(); got != "2026-11-29" {
		t.Errorf("Shanghai: got %s, want 2026-11-29", got)
	}
	if got := DateOf(instant).String(); got != "2026-11-28" {
		t.Errorf("UTC: got %s, want 2026-11-28", got)
	}
}

func TestDateJSON(t *testing.T) {
	b, err := json.Marshal(struct{ D Date }{mustDate(t, "2026-03-08")})
	if err != nil || string(b) != `{"D":"2026-03-08"}` {
		t.Fatalf("got %s %v", b, err)
	}
	var back struct{ D Date }
	if err := json.Unmarshal(b, &back); err != nil || back.D.String() != "2026-03-08" {
		t.Fatalf("got %v %v", back, err)
	}
}

// next, dayNumber and appendTo are the allocation-free paths Evaluate uses;
// they must agree with AddDays and fmt on every day of several centuries
// (leap years, the 1900/2000/2100 rules, year 0 and negative years).
func TestDateFastPaths(t *testing.T) {
	start := Date{-401, time.January, 1}
	prev := start
	for i := 1; i < 3000*366; i++ {
		want := start.AddDays(i)
		if got := prev.next(); got != want {
			t.Fatalf("got %v.next() = %v, want %v", prev, got, want)
		}
		if got := want.dayNumber() - start.dayNumber(); got != i {
			t.Fatalf("got dayNumber(%v) − dayNumber(%v) = %d, want %d", want, start, got, i)
		}
		if got, w := want.String(), fmt.Sprintf("%04d-%02d-%02d", want.Year, int(want.Month), want.Day); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
		prev = want
	}
	if got := (Date{1970, time.January, 1}).dayNumber(); got != 0 {
		t.Errorf("got dayNumber(1970-01-01) = %d, want 0", got)
	}
	for _, d := range []Date{{}, {12345, 13, 123}, {-5, 0, -1}} {
		if got, w := d.String(), fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day); got != w {
			t.Errorf("got %q, want %q", got, w)
		}
	}
}
