package pipeline

import (
	"math"
	"time"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// Observed is the history row's `observed` JSON: what the evaluation saw,
// compact (one rate per resource per day) because a strategy over 10,000
// pools writes 10,000 of them, and what matching later did with it.
type Observed struct {
	WindowStart scaling.Date `json:"windowStart"`
	WindowEnd   scaling.Date `json:"windowEnd"`
	Days        *DaySeries   `json:"days,omitempty"`
	// Counted are the resources "how many" sizes (AND: all, OR: those met on the last day).
	Counted []scaling.Resource `json:"counted,omitempty"`
	// Latest is the newest snapshot inside the window.
	Latest *scaling.DailySnapshot `json:"latest,omitempty"`
	// Resources are the window's last day per resource ("cpu", "memory").
	Resources      map[string]events.ResourceReading `json:"resources,omitempty"`
	LastOrder      *scaling.LastOrder                `json:"lastOrder,omitempty"`
	CooldownUntil  *time.Time                        `json:"cooldownUntil,omitempty"`
	IdempotencyKey string                            `json:"idempotencyKey"`
	// EvaluationReason is the evaluation's own sentence; `reason` adds the
	// match outcome to it once matching ran.
	EvaluationReason string `json:"evaluationReason"`
	// Redis says whether the cooldown lock was taken ("locked"), not needed
	// ("not_needed"), refused ("held") or skipped because Redis failed ("unavailable").
	Redis string `json:"redis,omitempty"`
	// Match is written by the matcher.
	Match *MatchSummary `json:"match,omitempty"`
}

// DaySeries is the window's days, oldest first (WindowStart + i), one
// column per configured resource: the rate in percent (rounded to 0.01),
// null when the day has no snapshot or the resource could not be judged
// (Unjudged lists those), and whether the day was met. Columns rather than
// one object per day: a strategy over 10,000 pools writes this 10,000 times
// a day (~1 KB each for 30 days).
type DaySeries struct {
	Met      []bool     `json:"met"`
	CPU      []*float64 `json:"cpu,omitempty"`
	Memory   []*float64 `json:"memory,omitempty"`
	Unjudged []Unjudged `json:"unjudged,omitempty"`
}

// Unjudged is a resource of a day that had a snapshot but no rate.
type Unjudged struct {
	Date     scaling.Date     `json:"date"`
	Resource scaling.Resource `json:"resource"`
	Why      string           `json:"why"` // zero_capacity | no_usage
}

// Thresholds is the history row's `thresholds` JSON: the strategy as configured at T.
type Thresholds struct {
	Action          scaling.Action `json:"action"`
	ConditionLogic  scaling.Logic  `json:"conditionLogic"`
	DurationMinutes int            `json:"durationMinutes"`
	RequiredDays    int            `json:"requiredDays"`
	CooldownMinutes int            `json:"cooldownMinutes"`
	Rules           []scaling.Rule `json:"rules"`
}

// MatchSummary is what matching decided for a triggered row.
type MatchSummary struct {
	Status      string       `json:"status"`
	OrderID     *int64       `json:"orderId,omitempty"`
	OrderNumber string       `json:"orderNumber,omitempty"`
	Template    *TemplateRef `json:"template,omitempty"`
	Needed      int          `json:"needed"`
	Found       int          `json:"found"`
	Chosen      int          `json:"chosen"`
	Shortage    bool         `json:"shortage"`
	Reason      string       `json:"reason"`
}

func thresholdsOf(s scaling.Strategy) Thresholds {
	return Thresholds{
		Action: s.ThresholdTriggerAction, ConditionLogic: s.Logic(), DurationMinutes: s.DurationMinutes,
		RequiredDays: s.RequiredDays(), CooldownMinutes: s.CooldownMinutes, Rules: s.Rules(),
	}
}

// observedOf keeps what the history row needs of ev, which may share its
// days with a scaling.Buffers: nothing of ev.Days or ev.Last is referenced
// afterwards. The arrays come from a, one arena per worker.
func observedOf(ev scaling.Evaluation, lastOrder *scaling.LastOrder, a *arena) Observed {
	o := Observed{
		WindowStart: ev.WindowStart, WindowEnd: ev.WindowEnd, Counted: ev.Counted,
		LastOrder: lastOrder, CooldownUntil: ev.CooldownUntil, IdempotencyKey: ev.IdempotencyKey,
		EvaluationReason: ev.Reason,
	}
	if ev.Last != nil {
		l := take(&a.latest, 1, 256)
		l[0] = *ev.Last
		o.Latest = &l[0]
	}
	if n := len(ev.Days); n > 0 {
		ds := &take(&a.series, 1, 256)[0]
		ds.Met = take(&a.met, n, 8192)
		// The rates both columns point to: sized first, so appending never
		// moves them.
		judged := 0
		for _, d := range ev.Days {
			for _, r := range d.Resources {
				if r.Rate != nil {
					judged++
				}
			}
		}
		var rates []float64
		if judged > 0 {
			rates = take(&a.rates, judged, 8192)[:0]
		}
		column := func(col *[]*float64, i int, r *float64) {
			if *col == nil {
				*col = take(&a.ptrs, n, 8192)
			}
			if r != nil {
				rates = append(rates, math.Round(*r*100)/100)
				(*col)[i] = &rates[len(rates)-1]
			}
		}
		for i, d := range ev.Days {
			ds.Met[i] = d.Met
			for _, r := range d.Resources {
				if r.Resource == scaling.CPU {
					column(&ds.CPU, i, r.Rate)
				} else {
					column(&ds.Memory, i, r.Rate)
				}
				if r.Unjudged != "" {
					ds.Unjudged = append(ds.Unjudged, Unjudged{Date: d.Date, Resource: r.Resource, Why: r.Unjudged})
				}
			}
		}
		o.Days = ds
	}
	if last := ev.LastDay(); last != nil && len(last.Resources) > 0 {
		o.Resources = make(map[string]events.ResourceReading, len(last.Resources))
		for _, r := range last.Resources {
			rd := events.ResourceReading{Type: string(r.Type), Capacity: r.Capacity, Threshold: r.Threshold}
			for _, rule := range ev.Rules {
				if rule.Resource == r.Resource {
					rd.Target = rule.Target
				}
			}
			if r.Value != nil {
				rd.Value = *r.Value
			}
			if r.Rate != nil {
				rd.Rate = *r.Rate
			}
			o.Resources[string(r.Resource)] = rd
		}
	}
	return o
}

// arena hands out the arrays of many pools' Observed from a few large
// ones: a strategy keeps 10,000 of them until its history is written, and
// one allocation each per pool cost more than deciding them. Not safe for
// concurrent use.
type arena struct {
	latest []scaling.DailySnapshot
	series []DaySeries
	met    []bool
	ptrs   []*float64
	rates  []float64
}

// take cuts n zeroed elements off *free (capacity n: appending past them
// reallocates), refilling it by chunks of at least chunk elements.
func take[T any](free *[]T, n, chunk int) []T {
	if len(*free) < n {
		*free = make([]T, max(n, chunk))
	}
	out := (*free)[:n:n]
	*free = (*free)[n:]
	return out
}
