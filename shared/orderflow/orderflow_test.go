package orderflow

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// allowed is the whole contract: every (type, from, action) → to that is
// allowed. Everything else in Types × Statuses × Actions must be refused.
var allowed = func() map[string]Status {
	m := map[string]Status{}
	for _, t := range []ActionType{TypePoolEntry, TypePoolExit, TypeUncordon} {
		m[key(t, StatusPending, ActionExecute)] = StatusProcessing
		m[key(t, StatusPending, ActionIgnore)] = StatusIgnored
		m[key(t, StatusPending, ActionCancel)] = StatusCancelled
		m[key(t, StatusProcessing, ActionComplete)] = StatusCompleted
		m[key(t, StatusProcessing, ActionFail)] = StatusFailed
		m[key(t, StatusFailed, ActionRetry)] = StatusProcessing
		m[key(t, StatusFailed, ActionCancel)] = StatusCancelled
	}
	m[key(TypeMaintenance, StatusPending, ActionConfirm)] = StatusMaintenanceInProgress
	m[key(TypeMaintenance, StatusPending, ActionCancel)] = StatusCancelled
	m[key(TypeMaintenance, StatusMaintenanceInProgress, ActionComplete)] = StatusCompleted
	return m
}()

func key(t ActionType, s Status, a Action) string { return fmt.Sprintf("%s/%s/%s", t, s, a) }

// wantAllowed derives the allowed actions of (type, status) from the table,
// in Actions() order; TestWholeMatrix compares them as sets, TestAllowed
// checks the order the API shows.
func wantAllowed(t ActionType, s Status) []Action {
	var out []Action
	for _, a := range Actions() {
		if _, ok := allowed[key(t, s, a)]; ok {
			out = append(out, a)
		}
	}
	return out
}

func TestWholeMatrix(t *testing.T) {
	n, ok := 0, 0
	for _, typ := range ActionTypes() {
		for _, from := range Statuses() {
			for _, a := range Actions() {
				n++
				t.Run(key(typ, from, a), func(t *testing.T) {
					want, isAllowed := allowed[key(typ, from, a)]
					got, err := Next(typ, from, a)
					if isAllowed {
						if err != nil {
							t.Fatalf("got error %v, want → %s", err, want)
						}
						if got != want {
							t.Fatalf("got → %s, want → %s", got, want)
						}
						return
					}
					var te *TransitionError
					if !errors.As(err, &te) {
						t.Fatalf("got (%q, %v), want a *TransitionError", got, err)
					}
					if !errors.Is(err, ErrNotAllowed) || errors.Is(err, ErrUnknown) {
						t.Errorf("got %v, want it to match ErrNotAllowed only", err)
					}
					if got != "" {
						t.Errorf("got status %q with the error, want empty", got)
					}
					wa := wantAllowed(typ, from)
					gotSorted := slices.Clone(te.Allowed)
					slices.SortFunc(gotSorted, func(x, y Action) int {
						return slices.Index(Actions(), x) - slices.Index(Actions(), y)
					})
					if !slices.Equal(gotSorted, wa) {
						t.Errorf("got allowed %v, want %v", te.Allowed, wa)
					}
					if te.Type != typ || te.From != from || te.Action != a {
						t.Errorf("got error fields %+v", te)
					}
				})
				if _, isAllowed := allowed[key(typ, from, a)]; isAllowed {
					ok++
				}
			}
		}
	}
	if n != 4*7*7 || ok != 3*7+3 {
		t.Errorf("matrix covered %d combinations (%d allowed), want 196 (24 allowed)", n, ok)
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		typ  ActionType
		from Status
		want []Action
	}{
		{TypePoolEntry, StatusPending, []Action{ActionExecute, ActionIgnore, ActionCancel}},
		{TypePoolExit, StatusProcessing, []Action{ActionComplete, ActionFail}},
		{TypeUncordon, StatusFailed, []Action{ActionRetry, ActionCancel}},
		{TypePoolEntry, StatusCompleted, []Action{}},
		{TypePoolEntry, StatusIgnored, []Action{}},
		{TypePoolEntry, StatusCancelled, []Action{}},
		{TypePoolEntry, StatusMaintenanceInProgress, []Action{}},
		{TypeMaintenance, StatusPending, []Action{ActionConfirm, ActionCancel}},
		{TypeMaintenance, StatusMaintenanceInProgress, []Action{ActionComplete}},
		{TypeMaintenance, StatusProcessing, []Action{}},
		{TypeMaintenance, StatusIgnored, []Action{}},
		{"resize", StatusPending, []Action{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+string(tt.from), func(t *testing.T) {
			got := Allowed(tt.typ, tt.from)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %#v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrorMessageListsAllowed(t *testing.T) {
	_, err := Next(TypePoolEntry, StatusPending, ActionComplete)
	want := "cannot complete a pool_entry order in status pending; allowed: execute, ignore, cancel"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	_, err = Next(TypePoolExit, StatusCompleted, ActionRetry)
	if err == nil || !strings.HasSuffix(err.Error(), "allowed: none") {
		t.Errorf("got %v, want it to end with allowed: none", err)
	}
}

func TestUnknownValues(t *testing.T) {
	tests := []struct {
		typ  ActionType
		from Status
		a    Action
	}{
		{"resize", StatusPending, ActionExecute},
		{TypePoolEntry, "done", ActionExecute},
		{TypePoolEntry, StatusPending, "approve"},
		{TypePoolEntry, StatusPending, ""},
	}
	for _, tt := range tests {
		t.Run(key(tt.typ, tt.from, tt.a), func(t *testing.T) {
			_, err := Next(tt.typ, tt.from, tt.a)
			if !errors.Is(err, ErrUnknown) || errors.Is(err, ErrNotAllowed) {
				t.Errorf("got %v, want ErrUnknown", err)
			}
		})
	}
	for _, s := range []string{"pending", "maintenance_in_progress"} {
		if _, err := ParseStatus(s); err != nil {
			t.Errorf("ParseStatus(%q): %v", s, err)
		}
	}
	if _, err := ParseActionType("uncordon"); err != nil {
		t.Error(err)
	}
	if _, err := ParseAction("Execute"); !errors.Is(err, ErrUnknown) {
		t.Errorf("got %v, want ErrUnknown for a case mismatch", err)
	}
}

func TestIsOpen(t *testing.T) {
	want := map[Status]bool{
		StatusPending: true, StatusProcessing: true, StatusFailed: true, StatusMaintenanceInProgress: true,
		StatusCompleted: false, StatusCancelled: false, StatusIgnored: false,
	}
	for _, s := range Statuses() {
		if got := IsOpen(s); got != want[s] {
			t.Errorf("IsOpen(%s): got %v, want %v", s, got, want[s])
		}
	}
	if IsOpen("bogus") {
		t.Error("IsOpen(bogus): got true")
	}
}

func TestTransitionDetails(t *testing.T) {
	tests := []struct {
		typ         ActionType
		from        Status
		a           Action
		needsReason bool
		releases    bool
		followUp    ActionType
	}{
		{TypePoolEntry, StatusPending, ActionExecute, false, false, ""},
		{TypePoolEntry, StatusPending, ActionIgnore, false, true, ""},
		{TypePoolEntry, StatusPending, ActionCancel, false, true, ""},
		{TypePoolExit, StatusProcessing, ActionComplete, false, true, ""},
		{TypePoolExit, StatusProcessing, ActionFail, true, false, ""},
		{TypePoolExit, StatusFailed, ActionRetry, false, false, ""},
		{TypePoolExit, StatusFailed, ActionCancel, false, true, ""},
		{TypeUncordon, StatusProcessing, ActionComplete, false, true, ""},
		{TypeMaintenance, StatusPending, ActionConfirm, false, false, ""},
		{TypeMaintenance, StatusPending, ActionCancel, false, true, ""},
		{TypeMaintenance, StatusMaintenanceInProgress, ActionComplete, false, true, TypeUncordon},
	}
	for _, tt := range tests {
		t.Run(key(tt.typ, tt.from, tt.a), func(t *testing.T) {
			tr, err := Lookup(tt.typ, tt.from, tt.a)
			if err != nil {
				t.Fatal(err)
			}
			if tr.NeedsReason != tt.needsReason || tr.Releases != tt.releases || tr.FollowUp != tt.followUp {
				t.Errorf("got reason=%v releases=%v followUp=%q, want %v %v %q",
					tr.NeedsReason, tr.Releases, tr.FollowUp, tt.needsReason, tt.releases, tt.followUp)
			}
			if tr.From != tt.from || tr.Action != tt.a {
				t.Errorf("got %+v", tr)
			}
		})
	}
	for _, a := range Actions() {
		if got := NeedsReason(a); got != (a == ActionFail) {
			t.Errorf("NeedsReason(%s): got %v", a, got)
		}
	}
}

// Every status reachable from pending, per type, and every final status has
// no way out: guards against a table edit that strands orders.
func TestReachability(t *testing.T) {
	for _, typ := range ActionTypes() {
		seen := map[Status]bool{StatusPending: true}
		queue := []Status{StatusPending}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, a := range Allowed(typ, s) {
				to, err := Next(typ, s, a)
				if err != nil {
					t.Fatalf("%s: Allowed lists %s from %s but Next refuses: %v", typ, a, s, err)
				}
				if !seen[to] {
					seen[to] = true
					queue = append(queue, to)
				}
			}
		}
		for s := range seen {
			if IsOpen(s) && len(Allowed(typ, s)) == 0 {
				t.Errorf("%s: open status %s has no way out", typ, s)
			}
			if !IsOpen(s) && len(Allowed(typ, s)) != 0 {
				t.Errorf("%s: closed status %s still allows %v", typ, s, Allowed(typ, s))
			}
		}
		if !seen[StatusCompleted] || !seen[StatusCancelled] {
			t.Errorf("%s: reached %v, want completed and cancelled reachable", typ, seen)
		}
	}
}
