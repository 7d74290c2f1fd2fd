package scaling

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Result is the outcome of evaluating one cluster+pool (history `result`).
// The history's fifth value, `error`, belongs to the caller: Evaluate returns
// an error instead.
type Result string

const (
	ResultTriggered Result = "triggered"
	ResultNotMet    Result = "not_met"
	ResultCooldown  Result = "cooldown"
	ResultNoData    Result = "no_data"
)

// Why a resource of a day could not be judged. Both make the day not met;
// only NoUsage counts as missing data for no_data (see Evaluate).
const (
	UnjudgedZeroCapacity = "zero_capacity"
	UnjudgedNoUsage      = "no_usage"
)

// LastOrder is the newest pool_entry/pool_exit order of the cluster+pool,
// whatever its status (ignored and manual orders included, DESIGN §5.2):
// the caller must not filter by status.
type LastOrder struct {
	ID          int64     `json:"id,omitempty"`
	OrderNumber string    `json:"orderNumber,omitempty"`
	Status      string    `json:"status,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
}

// EvalInput is everything one evaluation of one cluster+pool reads.
type EvalInput struct {
	Strategy  Strategy
	ClusterID int64
	PoolID    int64
	// At is T, the evaluation (ping) time; Location is the configured TIMEZONE
	// that decides which calendar day T and the snapshots belong to.
	At       time.Time
	Location *time.Location
	// LastOrder is nil when the pool never had a pool_entry/pool_exit order.
	LastOrder *LastOrder
	// Days are daily snapshots keyed by their day; any order, days outside
	// the window are ignored, and of two rows for one day the later
	// CapturedAt wins.
	Days []DailySnapshot
}

// ResourceObservation is one resource on one day.
type ResourceObservation struct {
	Resource  Resource      `json:"resource"`
	Type      ThresholdType `json:"type"`
	Value     *int64        `json:"value"` // nil: usage not reported
	Capacity  int64         `json:"capacity"`
	Rate      *float64      `json:"rate"` // percent; nil when not computable
	Threshold float64       `json:"threshold"`
	Met       bool          `json:"met"`
	Unjudged  string        `json:"unjudged,omitempty"` // UnjudgedZeroCapacity, UnjudgedNoUsage
}

// DayObservation is one day of the window.
type DayObservation struct {
	Date        Date                  `json:"date"`
	HasSnapshot bool                  `json:"hasSnapshot"`
	Resources   []ResourceObservation `json:"resources,omitempty"`
	Met         bool                  `json:"met"`
}

// Evaluation is the outcome of one cluster+pool at T; it fills the history
// row (result, streak_days, required_days, observed, thresholds, reason) and
// the threshold.breached event.
type Evaluation struct {
	Result       Result `json:"result"`
	StreakDays   int    `json:"streakDays"`
	RequiredDays int    `json:"requiredDays"`
	// The window: RequiredDays complete days, WindowEnd is the day before T.
	WindowStart Date `json:"windowStart"`
	WindowEnd   Date `json:"windowEnd"`
	// Days is one entry per window day, oldest first; empty in cooldown
	// (the pool is skipped, as DESIGN §5.2 says).
	Days  []DayObservation `json:"days,omitempty"`
	Rules []Rule           `json:"rules"`
	// Counted is the resources "how many" must size for: AND all configured,
	// OR those met on the window's last day (DESIGN §6). Empty in cooldown.
	Counted []Resource `json:"counted,omitempty"`
	// Last is the newest snapshot inside the window (nil: none).
	Last           *DailySnapshot `json:"last,omitempty"`
	CooldownUntil  *time.Time     `json:"cooldownUntil,omitempty"`
	IdempotencyKey string         `json:"idempotencyKey"`
	Reason         string         `json:"reason"`
}

// LastDay is the window's last day (the day before T), nil in cooldown.
func (e Evaluation) LastDay() *DayObservation {
	if len(e.Days) == 0 {
		return nil
	}
	return &e.Days[len(e.Days)-1]
}

// IdempotencyKey is `{strategyId}:{clusterId}:{poolId}:{T's date}`, the date
// of T in loc; it is the order's unique key and the random selection seed.
func IdempotencyKey(strategyID, clusterID, poolID int64, at time.Time, loc *time.Location) string {
	var buf [80]byte
	b := strconv.AppendInt(buf[:0], strategyID, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, clusterID, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, poolID, 10)
	b = append(b, ':')
	return string(DateOf(at.In(loc)).appendTo(b))
}

// ErrInvalidInput marks an input Evaluate or PlanDevices cannot work with
// (the history records result `error`).
var ErrInvalidInput = errors.New("scaling: invalid input")

// Evaluate applies DESIGN §5 to one cluster+pool at T:
//
//  1. cooldown: T − LastOrder.CreatedAt < cooldownMinutes → cooldown;
//  2. the window is D = max(1, ceil(durationMinutes/1440)) complete calendar
//     days in Location ending the day before T;
//  3. a day is met when rate > threshold (entry) or rate < threshold (exit)
//     for all (AND) or any (OR) configured resources; a missing day, zero
//     capacity or unreported usage is not met;
//  4. the streak is the trailing run of met days; triggered iff streak ≥ D.
//
// no_data: no day of the window has a value the strategy reads (no snapshot,
// or usage thresholds and usage never reported). Zero capacity is data: an
// empty pool is a real state, reported as not_met.
//
// The result never aliases in.Days. To evaluate many pools, Buffers.Evaluate
// does the same without allocating a window per pool.
func Evaluate(in EvalInput) (Evaluation, error) { return evaluate(in, nil) }

// Buffers lets one caller evaluate many pools (DESIGN §10: 10,000 per
// strategy) without allocating every window anew: the observations of all
// days share one array, the values and rates they point to another, and
// both are reused from one call to the next. An Evaluation returned by
// b.Evaluate shares its Days (with their Resources), Rules and Last with b:
// they are valid until b's next call; copy what must outlive it. Counted,
// CooldownUntil and the strings are the caller's. The zero value is ready
// to use; a Buffers is not safe for concurrent use.
type Buffers struct {
	rules []Rule
	days  []DayObservation
	obs   []ResourceObservation
	vals  []valueRate
	pick  []int
	last  DailySnapshot
}

// Evaluate is Evaluate(in), reusing b's buffers (see Buffers).
func (b *Buffers) Evaluate(in EvalInput) (Evaluation, error) { return evaluate(in, b) }

// valueRate backs a ResourceObservation's Value and Rate pointers.
type valueRate struct {
	value int64
	rate  float64
}

// reuse returns s[:n] zeroed, reallocating only when s is too short.
func reuse[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// evaluate is Evaluate; b nil allocates what the result keeps.
func evaluate(in EvalInput, b *Buffers) (Evaluation, error) {
	if in.Location == nil {
		return Evaluation{}, fmt.Errorf("%w: nil location", ErrInvalidInput)
	}
	if in.At.IsZero() {
		return Evaluation{}, fmt.Errorf("%w: zero evaluation time", ErrInvalidInput)
	}
	if err := in.Strategy.Validate(); err != nil {
		return Evaluation{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	s := in.Strategy
	d := s.RequiredDays()
	var rules []Rule
	if b != nil {
		b.rules = s.appendRules(b.rules[:0])
		rules = b.rules
	} else {
		rules = s.Rules()
	}
	today := DateOf(in.At.In(in.Location))
	ev := Evaluation{
		RequiredDays:   d,
		WindowStart:    today.AddDays(-d),
		WindowEnd:      today.AddDays(-1),
		Rules:          rules,
		IdempotencyKey: IdempotencyKey(s.ID, in.ClusterID, in.PoolID, in.At, in.Location),
	}

	if lo := in.LastOrder; lo != nil {
		cooldown := time.Duration(s.CooldownMinutes) * time.Minute
		if in.At.Sub(lo.CreatedAt) < cooldown {
			until := lo.CreatedAt.Add(cooldown)
			ev.Result = ResultCooldown
			ev.CooldownUntil = &until
			ev.Reason = cooldownReason(until, lo, in.Location)
			return ev, nil
		}
	}

	if b != nil {
		b.days = reuse(b.days, d)
		ev.Days = b.days
	} else {
		ev.Days = make([]DayObservation, d)
	}
	date := ev.WindowStart
	for i := range ev.Days {
		ev.Days[i].Date = date
		date = date.next()
	}

	// pick[i] is the index in in.Days of day i's snapshot (-1: none): the
	// latest CapturedAt of the day, the first of equal ones. A day outside
	// the window (or a Date that is not a calendar day) matches no window
	// date and is ignored.
	var pickBuf [64]int
	var pick []int
	switch {
	case d <= len(pickBuf):
		pick = pickBuf[:d]
	case b != nil:
		b.pick = reuse(b.pick, d)
		pick = b.pick
	default:
		pick = make([]int, d)
	}
	for i := range pick {
		pick[i] = -1
	}
	first := ev.WindowStart.dayNumber()
	snapshots := 0
	for j := range in.Days {
		ds := &in.Days[j]
		off := ds.Day.dayNumber() - first
		if off < 0 || off >= d || ev.Days[off].Date != ds.Day {
			continue
		}
		if k := pick[off]; k >= 0 {
			if !in.Days[k].CapturedAt.Before(ds.CapturedAt) {
				continue
			}
		} else {
			snapshots++
		}
		pick[off] = j
	}

	n := len(rules)
	var (
		obs  []ResourceObservation
		vals []valueRate
	)
	switch {
	case b != nil:
		b.obs = reuse(b.obs, snapshots*n)
		b.vals = reuse(b.vals, snapshots*n)
		obs, vals = b.obs, b.vals
	case snapshots > 0:
		obs = make([]ResourceObservation, snapshots*n)
		vals = make([]valueRate, snapshots*n)
	}
	entry := s.ThresholdTriggerAction == ActionPoolEntry
	logic := s.Logic()
	anyData := false
	last := -1
	for i, k := range pick {
		if k < 0 {
			continue
		}
		snap := &in.Days[k].Snapshot
		day := &ev.Days[i]
		day.HasSnapshot = true
		day.Resources, obs = obs[:n:n], obs[n:]
		vr := vals[:n:n]
		vals = vals[n:]
		for r, rule := range rules {
			o := &day.Resources[r]
			o.Resource, o.Type, o.Threshold = rule.Resource, rule.Type, rule.Threshold
			o.Capacity = snap.Capacity(rule.Resource)
			v, ok := snap.Value(rule.Resource, rule.Type)
			switch {
			case !ok:
				o.Unjudged = UnjudgedNoUsage
			case o.Capacity <= 0:
				vr[r].value = v
				o.Value = &vr[r].value
				o.Unjudged = UnjudgedZeroCapacity
			default:
				vr[r].value = v
				o.Value = &vr[r].value
				vr[r].rate = rate(v, o.Capacity)
				o.Rate = &vr[r].rate
				if entry {
					o.Met = vr[r].rate > rule.Threshold
				} else {
					o.Met = vr[r].rate < rule.Threshold
				}
			}
			if o.Value != nil {
				anyData = true
			}
		}
		day.Met = combine(logic, day.Resources)
		last = k
	}
	switch {
	case last < 0:
	case b != nil:
		b.last = in.Days[last]
		ev.Last = &b.last
	default:
		l := in.Days[last]
		ev.Last = &l
	}
	for i := d - 1; i >= 0 && ev.Days[i].Met; i-- {
		ev.StreakDays++
	}
	ev.Counted = counted(logic, rules, ev.Days[d-1])

	switch {
	case !anyData:
		ev.Result = ResultNoData
		ev.Reason = noDataReason(ev)
	case ev.StreakDays >= d:
		ev.Result = ResultTriggered
		ev.Reason = triggeredReason(s, ev)
	default:
		ev.Result = ResultNotMet
		ev.Reason = notMetReason(s, ev)
	}
	return ev, nil
}

func combine(logic Logic, rs []ResourceObservation) bool {
	if len(rs) == 0 {
		return false
	}
	if logic == LogicOR {
		for _, r := range rs {
			if r.Met {
				return true
			}
		}
		return false
	}
	for _, r := range rs {
		if !r.Met {
			return false
		}
	}
	return true
}

// counted is nil for OR when nothing was met on the last day.
func counted(logic Logic, rules []Rule, last DayObservation) []Resource {
	if logic == LogicOR {
		met := 0
		for _, r := range last.Resources {
			if r.Met {
				met++
			}
		}
		if met == 0 {
			return nil
		}
		out := make([]Resource, 0, met)
		for _, r := range last.Resources {
			if r.Met {
				out = append(out, r.Resource)
			}
		}
		return out
	}
	if len(rules) == 0 {
		return nil
	}
	out := make([]Resource, len(rules))
	for i, r := range rules {
		out[i] = r.Resource
	}
	return out
}

// --- reasons: one sentence an on-duty person understands ---

const timeLayout = "2006-01-02 15:04"

func cooldownReason(until time.Time, lo *LastOrder, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "in cooldown until %s (last order ", until.In(loc).Format(timeLayout))
	if lo.OrderNumber != "" {
		b.WriteString(lo.OrderNumber + " ")
	}
	b.WriteString(lo.CreatedAt.In(loc).Format(timeLayout))
	if lo.Status != "" {
		b.WriteString(", " + lo.Status)
	}
	b.WriteString(")")
	return b.String()
}

func comparator(a Action) string {
	if a == ActionPoolEntry {
		return ">"
	}
	return "<"
}

func pct(v float64) string { return string(appendPct(nil, v)) }

// appendPct appends a threshold as written, e.g. "80%" or "80.5%".
func appendPct(b []byte, v float64) []byte {
	return append(strconv.AppendFloat(b, v, 'f', -1, 64), '%')
}

// appendPhrase describes one resource on one day, e.g. "cpu allocated 91.2% > 80%".
// The rate is printed as fmt's %.1f does for the finite rates Evaluate computes.
func appendPhrase(b []byte, a Action, o ResourceObservation) []byte {
	b = append(b, o.Resource...)
	switch o.Unjudged {
	case UnjudgedNoUsage:
		return append(b, " usage not reported"...)
	case UnjudgedZeroCapacity:
		return append(b, " capacity 0"...)
	}
	b = append(b, ' ')
	b = append(b, o.Type...)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, *o.Rate, 'f', 1, 64)
	b = append(b, "% "...)
	if !o.Met {
		b = append(b, "not "...)
	}
	b = append(b, comparator(a)...)
	b = append(b, ' ')
	return appendPct(b, o.Threshold)
}

// appendPhrases joins the phrases of the resources whose Met equals met with " and ".
func appendPhrases(b []byte, a Action, rs []ResourceObservation, met bool) []byte {
	first := true
	for _, o := range rs {
		if o.Met != met {
			continue
		}
		if !first {
			b = append(b, " and "...)
		}
		first = false
		b = appendPhrase(b, a, o)
	}
	return b
}

func appendDays(b []byte, streak, required int) []byte {
	b = strconv.AppendInt(b, int64(streak), 10)
	b = append(b, " of "...)
	b = strconv.AppendInt(b, int64(required), 10)
	return append(b, " days"...)
}

func triggeredReason(s Strategy, ev Evaluation) string {
	var buf [256]byte
	b := appendPhrases(buf[:0], s.ThresholdTriggerAction, ev.LastDay().Resources, true)
	b = append(b, " for "...)
	return string(appendDays(b, ev.StreakDays, ev.RequiredDays))
}

func notMetReason(s Strategy, ev Evaluation) string {
	// The day that broke the streak: the newest day not met.
	broken := ev.Days[len(ev.Days)-1-ev.StreakDays]
	var buf [256]byte
	b := buf[:0]
	if !broken.HasSnapshot {
		b = append(b, "no snapshot"...)
	} else {
		b = appendPhrases(b, s.ThresholdTriggerAction, broken.Resources, false)
	}
	b = append(b, " on "...)
	b = broken.Date.appendTo(b)
	b = append(b, "; streak "...)
	return string(appendDays(b, ev.StreakDays, ev.RequiredDays))
}

func noDataReason(ev Evaluation) string {
	var buf [128]byte
	b := buf[:0]
	if ev.Last == nil {
		b = append(b, "no snapshot"...)
	} else {
		for i, r := range ev.Rules {
			if i > 0 {
				b = append(b, " and "...)
			}
			b = append(b, r.Resource...)
			b = append(b, " usage"...)
		}
		b = append(b, " not reported"...)
	}
	if ev.RequiredDays > 1 {
		b = append(b, " from "...)
		b = ev.WindowStart.appendTo(b)
		b = append(b, " to "...)
	} else {
		b = append(b, " on "...)
	}
	return string(ev.WindowEnd.appendTo(b))
}
