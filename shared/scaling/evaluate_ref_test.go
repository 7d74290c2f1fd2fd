package scaling

// The map-based Evaluate as it was before the allocation work (DESIGN §10),
// kept as the reference the optimized one is compared against on random
// inputs (TestEvaluateMatchesReference). Do not optimize this copy.

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// refIdempotencyKey is `{strategyId}:{clusterId}:{poolId}:{T's date}`, the date
// of T in loc; it is the order's unique key and the random selection seed.
func refIdempotencyKey(strategyID, clusterID, poolID int64, at time.Time, loc *time.Location) string {
	return fmt.Sprintf("%d:%d:%d:%s", strategyID, clusterID, poolID, DateOf(at.In(loc)))
}

// refEvaluate applies DESIGN §5 to one cluster+pool at T:
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
func refEvaluate(in EvalInput) (Evaluation, error) {
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
	today := DateOf(in.At.In(in.Location))
	ev := Evaluation{
		RequiredDays:   d,
		WindowStart:    today.AddDays(-d),
		WindowEnd:      today.AddDays(-1),
		Rules:          s.Rules(),
		IdempotencyKey: refIdempotencyKey(s.ID, in.ClusterID, in.PoolID, in.At, in.Location),
	}

	if lo := in.LastOrder; lo != nil {
		cooldown := time.Duration(s.CooldownMinutes) * time.Minute
		if in.At.Sub(lo.CreatedAt) < cooldown {
			until := lo.CreatedAt.Add(cooldown)
			ev.Result = ResultCooldown
			ev.CooldownUntil = &until
			ev.Reason = refCooldownReason(until, lo, in.Location)
			return ev, nil
		}
	}

	byDay := make(map[Date]DailySnapshot, d)
	for _, ds := range in.Days {
		if ds.Day.Before(ev.WindowStart) || ev.WindowEnd.Before(ds.Day) {
			continue
		}
		if old, ok := byDay[ds.Day]; ok && !old.CapturedAt.Before(ds.CapturedAt) {
			continue
		}
		byDay[ds.Day] = ds
	}

	anyData := false
	ev.Days = make([]DayObservation, d)
	for i := range d {
		day := ev.WindowStart.AddDays(i)
		obs := DayObservation{Date: day}
		if snap, ok := byDay[day]; ok {
			obs.HasSnapshot = true
			snapCopy := snap
			ev.Last = &snapCopy
			obs.Resources = refObserve(s, snap.Snapshot)
			obs.Met = refCombine(s.Logic(), obs.Resources)
			for _, r := range obs.Resources {
				if r.Value != nil {
					anyData = true
				}
			}
		}
		ev.Days[i] = obs
	}
	for i := d - 1; i >= 0 && ev.Days[i].Met; i-- {
		ev.StreakDays++
	}
	ev.Counted = refCounted(s, ev.Days[d-1])

	switch {
	case !anyData:
		ev.Result = ResultNoData
		ev.Reason = refNoDataReason(ev)
	case ev.StreakDays >= d:
		ev.Result = ResultTriggered
		ev.Reason = refTriggeredReason(s, ev)
	default:
		ev.Result = ResultNotMet
		ev.Reason = refNotMetReason(s, ev)
	}
	return ev, nil
}

func refObserve(s Strategy, snap Snapshot) []ResourceObservation {
	rules := s.Rules()
	out := make([]ResourceObservation, 0, len(rules))
	for _, rule := range rules {
		o := ResourceObservation{
			Resource:  rule.Resource,
			Type:      rule.Type,
			Capacity:  snap.Capacity(rule.Resource),
			Threshold: rule.Threshold,
		}
		v, ok := snap.Value(rule.Resource, rule.Type)
		switch {
		case !ok:
			o.Unjudged = UnjudgedNoUsage
		case o.Capacity <= 0:
			o.Value = &v
			o.Unjudged = UnjudgedZeroCapacity
		default:
			o.Value = &v
			r := rate(v, o.Capacity)
			o.Rate = &r
			if s.ThresholdTriggerAction == ActionPoolEntry {
				o.Met = r > rule.Threshold
			} else {
				o.Met = r < rule.Threshold
			}
		}
		out = append(out, o)
	}
	return out
}

func refCombine(logic Logic, rs []ResourceObservation) bool {
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

func refCounted(s Strategy, last DayObservation) []Resource {
	var out []Resource
	if s.Logic() == LogicOR {
		for _, r := range last.Resources {
			if r.Met {
				out = append(out, r.Resource)
			}
		}
		return out
	}
	for _, r := range s.Rules() {
		out = append(out, r.Resource)
	}
	return out
}

// --- reasons: one sentence an on-duty person understands ---

const refTimeLayout = "2006-01-02 15:04"

func refCooldownReason(until time.Time, lo *LastOrder, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "in cooldown until %s (last order ", until.In(loc).Format(refTimeLayout))
	if lo.OrderNumber != "" {
		b.WriteString(lo.OrderNumber + " ")
	}
	b.WriteString(lo.CreatedAt.In(loc).Format(refTimeLayout))
	if lo.Status != "" {
		b.WriteString(", " + lo.Status)
	}
	b.WriteString(")")
	return b.String()
}

func refComparator(a Action) string {
	if a == ActionPoolEntry {
		return ">"
	}
	return "<"
}

func refPct(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

// refPhrase describes one resource on one day, e.g. "cpu allocated 91.2% > 80%".
func refPhrase(a Action, o ResourceObservation) string {
	switch o.Unjudged {
	case UnjudgedNoUsage:
		return fmt.Sprintf("%s usage not reported", o.Resource)
	case UnjudgedZeroCapacity:
		return fmt.Sprintf("%s capacity 0", o.Resource)
	}
	not := ""
	if !o.Met {
		not = "not "
	}
	return fmt.Sprintf("%s %s %.1f%% %s%s %s", o.Resource, o.Type, *o.Rate, not, refComparator(a), refPct(o.Threshold))
}

func refTriggeredReason(s Strategy, ev Evaluation) string {
	var parts []string
	for _, o := range ev.LastDay().Resources {
		if o.Met {
			parts = append(parts, refPhrase(s.ThresholdTriggerAction, o))
		}
	}
	return fmt.Sprintf("%s for %d of %d days", strings.Join(parts, " and "), ev.StreakDays, ev.RequiredDays)
}

func refNotMetReason(s Strategy, ev Evaluation) string {
	// The day that broke the streak: the newest day not met.
	broken := ev.Days[len(ev.Days)-1-ev.StreakDays]
	var what string
	if !broken.HasSnapshot {
		what = "no snapshot"
	} else {
		var parts []string
		for _, o := range broken.Resources {
			if !o.Met {
				parts = append(parts, refPhrase(s.ThresholdTriggerAction, o))
			}
		}
		what = strings.Join(parts, " and ")
	}
	return fmt.Sprintf("%s on %s; streak %d of %d days", what, broken.Date, ev.StreakDays, ev.RequiredDays)
}

func refNoDataReason(ev Evaluation) string {
	span := "on " + ev.WindowEnd.String()
	if ev.RequiredDays > 1 {
		span = fmt.Sprintf("from %s to %s", ev.WindowStart, ev.WindowEnd)
	}
	if ev.Last == nil {
		return "no snapshot " + span
	}
	var parts []string
	for _, r := range ev.Rules {
		parts = append(parts, fmt.Sprintf("%s usage", r.Resource))
	}
	return strings.Join(parts, " and ") + " not reported " + span
}
