package scaling

import (
	"fmt"
	"math"
	"strings"
)

// Action is what a strategy does when it triggers.
type Action string

const (
	ActionPoolEntry Action = "pool_entry"
	ActionPoolExit  Action = "pool_exit"
)

// ThresholdType says which snapshot value a resource's rate is computed from.
type ThresholdType string

const (
	ThresholdUsage     ThresholdType = "usage"
	ThresholdAllocated ThresholdType = "allocated"
)

// Logic combines the per-resource conditions of a day.
type Logic string

const (
	LogicAND Logic = "AND"
	LogicOR  Logic = "OR"
)

// SelectionPolicy orders entry candidates (exit ignores it, DESIGN §6).
type SelectionPolicy string

const (
	SelectRandom        SelectionPolicy = "random"
	SelectLargestFirst  SelectionPolicy = "largest-first"
	SelectSmallestFirst SelectionPolicy = "smallest-first"
)

// Resource is a resource a strategy can watch.
type Resource string

const (
	CPU    Resource = "cpu"
	Memory Resource = "memory"
)

// MaxWindowMinutes bounds durationMinutes and cooldownMinutes (366 days): a
// longer window reads more snapshots than anyone keeps, and minutes beyond it
// would overflow time.Duration long before the database integer does.
const MaxWindowMinutes = 366 * 1440

// Strategy is the part of an elastic scaling strategy (seed §6.1) that the
// decision math reads. JSON names are those of the API.
type Strategy struct {
	ID                     int64           `json:"id"`
	ThresholdTriggerAction Action          `json:"thresholdTriggerAction"`
	CPUThresholdValue      *float64        `json:"cpuThresholdValue,omitempty"`
	CPUThresholdType       ThresholdType   `json:"cpuThresholdType,omitempty"`
	CPUTargetValue         *float64        `json:"cpuTargetValue,omitempty"`
	MemoryThresholdValue   *float64        `json:"memoryThresholdValue,omitempty"`
	MemoryThresholdType    ThresholdType   `json:"memoryThresholdType,omitempty"`
	MemoryTargetValue      *float64        `json:"memoryTargetValue,omitempty"`
	ConditionLogic         Logic           `json:"conditionLogic"`  // "" means AND
	DurationMinutes        int             `json:"durationMinutes"` // > 0
	CooldownMinutes        int             `json:"cooldownMinutes"` // >= 0
	DeviceCount            int             `json:"deviceCount"`     // 0 = no cap
	SelectionPolicy        SelectionPolicy `json:"selectionPolicy"` // "" means random
}

// Rule is one configured resource of a strategy.
type Rule struct {
	Resource  Resource      `json:"resource"`
	Type      ThresholdType `json:"type"`
	Threshold float64       `json:"threshold"` // percent
	Target    float64       `json:"target"`    // percent
}

// Rules returns the configured resources (those with a threshold), cpu first.
// Call it on a validated strategy: a resource missing its type or target is
// skipped here, Validate reports it.
func (s Strategy) Rules() []Rule { return s.appendRules(nil) }

func (s Strategy) appendRules(rs []Rule) []Rule {
	if s.CPUThresholdValue != nil && s.CPUTargetValue != nil && s.CPUThresholdType != "" {
		rs = append(rs, Rule{CPU, s.CPUThresholdType, *s.CPUThresholdValue, *s.CPUTargetValue})
	}
	if s.MemoryThresholdValue != nil && s.MemoryTargetValue != nil && s.MemoryThresholdType != "" {
		rs = append(rs, Rule{Memory, s.MemoryThresholdType, *s.MemoryThresholdValue, *s.MemoryTargetValue})
	}
	return rs
}

// Logic returns the condition logic with its default applied.
func (s Strategy) Logic() Logic {
	if s.ConditionLogic == "" {
		return LogicAND
	}
	return s.ConditionLogic
}

// Policy returns the selection policy with its default applied.
func (s Strategy) Policy() SelectionPolicy {
	if s.SelectionPolicy == "" {
		return SelectRandom
	}
	return s.SelectionPolicy
}

// RequiredDays is D = max(1, ceil(durationMinutes / 1440)).
func (s Strategy) RequiredDays() int {
	return RequiredDays(s.DurationMinutes)
}

// RequiredDays is D = max(1, ceil(durationMinutes / 1440)).
func RequiredDays(durationMinutes int) int {
	if durationMinutes <= 0 {
		return 1
	}
	return (durationMinutes + 1439) / 1440
}

// FieldError is one invalid field, named as in the API's JSON.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// FieldErrors is every invalid field of a strategy, in a stable order.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "invalid strategy: " + strings.Join(parts, "; ")
}

// Validate reports every invalid field at once, so the API can answer one
// problem+json listing them all. It returns nil or a FieldErrors.
func (s Strategy) Validate() error {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}

	switch s.ThresholdTriggerAction {
	case ActionPoolEntry, ActionPoolExit:
	case "":
		add("thresholdTriggerAction", "is required (pool_entry or pool_exit)")
	default:
		add("thresholdTriggerAction", "must be pool_entry or pool_exit, got %q", s.ThresholdTriggerAction)
	}

	// Field names are constants, not prefix + suffix: Evaluate validates the
	// strategy once per pool, and the concatenations were its only allocations.
	type res struct {
		thField, tyField, tgField string
		threshold, target         *float64
		typ                       ThresholdType
	}
	configured := 0
	for _, r := range []res{
		{"cpuThresholdValue", "cpuThresholdType", "cpuTargetValue", s.CPUThresholdValue, s.CPUTargetValue, s.CPUThresholdType},
		{"memoryThresholdValue", "memoryThresholdType", "memoryTargetValue", s.MemoryThresholdValue, s.MemoryTargetValue, s.MemoryThresholdType},
	} {
		thField, tyField, tgField := r.thField, r.tyField, r.tgField
		if r.threshold == nil {
			// No threshold: the resource is not evaluated, so a stray type or
			// target is a mistake the user wants to hear about.
			if r.typ != "" {
				add(tyField, "is set but %s is not", thField)
			}
			if r.target != nil {
				add(tgField, "is set but %s is not", thField)
			}
			continue
		}
		configured++
		thOK := percentOK(*r.threshold)
		if !thOK {
			add(thField, "must be a percent in (0, 100], got %v", *r.threshold)
		}
		switch r.typ {
		case ThresholdUsage, ThresholdAllocated:
		case "":
			add(tyField, "is required when %s is set (usage or allocated)", thField)
		default:
			add(tyField, "must be usage or allocated, got %q", r.typ)
		}
		if r.target == nil {
			add(tgField, "is required when %s is set", thField)
			continue
		}
		if !percentOK(*r.target) {
			add(tgField, "must be a percent in (0, 100], got %v", *r.target)
			continue
		}
		if !thOK {
			continue
		}
		switch s.ThresholdTriggerAction {
		case ActionPoolEntry:
			if !(*r.target < *r.threshold) {
				add(tgField, "must be below %s (%v) for pool_entry, got %v", thField, *r.threshold, *r.target)
			}
		case ActionPoolExit:
			if !(*r.target > *r.threshold) {
				add(tgField, "must be above %s (%v) for pool_exit, got %v", thField, *r.threshold, *r.target)
			}
		}
	}
	if configured == 0 {
		add("cpuThresholdValue", "at least one of cpuThresholdValue, memoryThresholdValue is required")
	}

	switch s.ConditionLogic {
	case "", LogicAND, LogicOR:
	default:
		add("conditionLogic", "must be AND or OR, got %q", s.ConditionLogic)
	}
	if s.DurationMinutes <= 0 || s.DurationMinutes > MaxWindowMinutes {
		add("durationMinutes", "must be between 1 and %d, got %d", MaxWindowMinutes, s.DurationMinutes)
	}
	if s.CooldownMinutes < 0 || s.CooldownMinutes > MaxWindowMinutes {
		add("cooldownMinutes", "must be between 0 and %d, got %d", MaxWindowMinutes, s.CooldownMinutes)
	}
	if s.DeviceCount < 0 {
		add("deviceCount", "must be 0 (no cap) or more, got %d", s.DeviceCount)
	}
	switch s.SelectionPolicy {
	case "", SelectRandom, SelectLargestFirst, SelectSmallestFirst:
	default:
		add("selectionPolicy", "must be random, largest-first or smallest-first, got %q", s.SelectionPolicy)
	}

	if len(errs) == 0 {
		return nil
	}
	return errs
}

func percentOK(v float64) bool {
	return !math.IsNaN(v) && v > 0 && v <= 100
}
