package scaling

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }
func intp(v int) *int        { return &v }

// cpuEntry is a valid entry strategy on cpu allocated: threshold 80, target 60, 3 days.
func cpuEntry() Strategy {
	return Strategy{
		ID:                     7,
		ThresholdTriggerAction: ActionPoolEntry,
		CPUThresholdValue:      f64(80),
		CPUThresholdType:       ThresholdAllocated,
		CPUTargetValue:         f64(60),
		DurationMinutes:        3 * 1440,
		CooldownMinutes:        1440,
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Strategy)
		want   []string // field names, in order
	}{
		{"valid entry", func(*Strategy) {}, nil},
		{"valid exit both resources OR", func(s *Strategy) {
			s.ThresholdTriggerAction = ActionPoolExit
			s.CPUThresholdValue, s.CPUTargetValue = f64(20), f64(50)
			s.MemoryThresholdValue, s.MemoryThresholdType, s.MemoryTargetValue = f64(30), ThresholdUsage, f64(55.5)
			s.ConditionLogic = LogicOR
			s.SelectionPolicy = SelectSmallestFirst
		}, nil},
		{"memory only", func(s *Strategy) {
			s.CPUThresholdValue, s.CPUThresholdType, s.CPUTargetValue = nil, "", nil
			s.MemoryThresholdValue, s.MemoryThresholdType, s.MemoryTargetValue = f64(90), ThresholdAllocated, f64(70)
		}, nil},
		{"threshold 100 is allowed", func(s *Strategy) { s.CPUThresholdValue = f64(100) }, nil},
		{"missing action", func(s *Strategy) { s.ThresholdTriggerAction = "" }, []string{"thresholdTriggerAction"}},
		{"unknown action", func(s *Strategy) { s.ThresholdTriggerAction = "scale_up" }, []string{"thresholdTriggerAction"}},
		{"no resource configured", func(s *Strategy) {
			s.CPUThresholdValue, s.CPUThresholdType, s.CPUTargetValue = nil, "", nil
		}, []string{"cpuThresholdValue"}},
		{"threshold 0", func(s *Strategy) { s.CPUThresholdValue = f64(0) }, []string{"cpuThresholdValue"}},
		{"threshold above 100", func(s *Strategy) { s.CPUThresholdValue = f64(100.5) }, []string{"cpuThresholdValue"}},
		{"threshold NaN", func(s *Strategy) { s.CPUThresholdValue = f64(math.NaN()) }, []string{"cpuThresholdValue"}},
		{"target 0", func(s *Strategy) { s.CPUTargetValue = f64(0) }, []string{"cpuTargetValue"}},
		{"target negative", func(s *Strategy) { s.CPUTargetValue = f64(-5) }, []string{"cpuTargetValue"}},
		{"entry target equal threshold", func(s *Strategy) { s.CPUTargetValue = f64(80) }, []string{"cpuTargetValue"}},
		{"entry target above threshold", func(s *Strategy) { s.CPUTargetValue = f64(90) }, []string{"cpuTargetValue"}},
		{"exit target below threshold", func(s *Strategy) {
			s.ThresholdTriggerAction = ActionPoolExit
			s.CPUThresholdValue, s.CPUTargetValue = f64(30), f64(20)
		}, []string{"cpuTargetValue"}},
		{"exit target equal threshold", func(s *Strategy) {
			s.ThresholdTriggerAction = ActionPoolExit
			s.CPUThresholdValue, s.CPUTargetValue = f64(30), f64(30)
		}, []string{"cpuTargetValue"}},
		{"threshold without type and target", func(s *Strategy) {
			s.MemoryThresholdValue = f64(80)
		}, []string{"memoryThresholdType", "memoryTargetValue"}},
		{"type and target without threshold", func(s *Strategy) {
			s.MemoryThresholdType, s.MemoryTargetValue = ThresholdUsage, f64(50)
		}, []string{"memoryThresholdType", "memoryTargetValue"}},
		{"unknown threshold type", func(s *Strategy) { s.CPUThresholdType = "requests" }, []string{"cpuThresholdType"}},
		{"unknown logic", func(s *Strategy) { s.ConditionLogic = "XOR" }, []string{"conditionLogic"}},
		{"lower-case logic", func(s *Strategy) { s.ConditionLogic = "and" }, []string{"conditionLogic"}},
		{"duration 0", func(s *Strategy) { s.DurationMinutes = 0 }, []string{"durationMinutes"}},
		{"duration too long", func(s *Strategy) { s.DurationMinutes = MaxWindowMinutes + 1 }, []string{"durationMinutes"}},
		{"cooldown negative", func(s *Strategy) { s.CooldownMinutes = -1 }, []string{"cooldownMinutes"}},
		{"cooldown too long", func(s *Strategy) { s.CooldownMinutes = MaxWindowMinutes + 1 }, []string{"cooldownMinutes"}},
		{"deviceCount negative", func(s *Strategy) { s.DeviceCount = -1 }, []string{"deviceCount"}},
		{"unknown policy", func(s *Strategy) { s.SelectionPolicy = "biggest" }, []string{"selectionPolicy"}},
		{"every error at once", func(s *Strategy) {
			s.ThresholdTriggerAction = "x"
			s.CPUThresholdValue, s.CPUThresholdType, s.CPUTargetValue = f64(120), "x", nil
			s.ConditionLogic, s.DurationMinutes, s.CooldownMinutes, s.DeviceCount, s.SelectionPolicy = "x", -1, -1, -1, "x"
		}, []string{"thresholdTriggerAction", "cpuThresholdValue", "cpuThresholdType", "cpuTargetValue",
			"conditionLogic", "durationMinutes", "cooldownMinutes", "deviceCount", "selectionPolicy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cpuEntry()
			tt.mutate(&s)
			err := s.Validate()
			var got []string
			if err != nil {
				var fe FieldErrors
				if !errors.As(err, &fe) {
					t.Fatalf("got error %T %v, want FieldErrors", err, err)
				}
				for _, e := range fe {
					if e.Message == "" {
						t.Errorf("field %s has no message", e.Field)
					}
					got = append(got, e.Field)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got fields %v, want %v (err: %v)", got, tt.want, err)
			}
		})
	}
}

func TestRequiredDays(t *testing.T) {
	for _, tt := range []struct{ minutes, want int }{
		{1, 1}, {60, 1}, {1439, 1}, {1440, 1}, {1441, 2}, {2880, 2}, {4320, 3}, {4321, 4}, {0, 1}, {-5, 1},
	} {
		if got := RequiredDays(tt.minutes); got != tt.want {
			t.Errorf("RequiredDays(%d): got %d, want %d", tt.minutes, got, tt.want)
		}
	}
}

func TestRulesAndDefaults(t *testing.T) {
	s := cpuEntry()
	s.MemoryThresholdValue, s.MemoryThresholdType, s.MemoryTargetValue = f64(85), ThresholdUsage, f64(70)
	got := s.Rules()
	want := []Rule{{CPU, ThresholdAllocated, 80, 60}, {Memory, ThresholdUsage, 85, 70}}
	if !slices.Equal(got, want) {
		t.Errorf("got rules %v, want %v", got, want)
	}
	if s.Logic() != LogicAND {
		t.Errorf("got logic %q, want AND by default", s.Logic())
	}
	if s.Policy() != SelectRandom {
		t.Errorf("got policy %q, want random by default", s.Policy())
	}
}
