package nodeexec

import (
	"testing"
	"time"
)

func TestLimitsStallAfter(t *testing.T) {
	tests := []struct {
		name    string
		limits  Limits
		devices int
		want    time.Duration
	}{
		// One round: 5m drain + 4 × 30 s requests + 2 min margin.
		{"defaults, one device", Limits{}, 1, 9 * time.Minute},
		{"defaults, no device", Limits{}, 0, 9 * time.Minute},
		{"defaults, one full round", Limits{}, 4, 9 * time.Minute},
		{"defaults, two rounds", Limits{}, 5, 16 * time.Minute},
		{"defaults, three rounds", Limits{}, 12, 23 * time.Minute},
		{"longer drain, one at a time", Limits{DrainTimeout: 10 * time.Minute, Parallel: 1}, 2, 2*12*time.Minute + 2*time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.limits.StallAfter(tt.devices); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			// Never shorter than the lock a run holds: a stalled order's lock is gone.
			if got, ttl := tt.limits.StallAfter(tt.devices), tt.limits.LockTTL(tt.devices); got < ttl {
				t.Errorf("StallAfter %s < LockTTL %s", got, ttl)
			}
		})
	}
}

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		ok     bool
	}{
		{"defaults", Limits{DrainTimeout: DefaultDrainTimeout, Parallel: DefaultParallel}, true},
		{"no drain timeout", Limits{Parallel: 1}, false},
		{"no parallelism", Limits{DrainTimeout: time.Minute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.limits.Validate(); (err == nil) != tt.ok {
				t.Errorf("got %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
