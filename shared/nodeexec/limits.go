package nodeexec

import (
	"fmt"
	"time"

	"github.com/elasticpool/elasticpool/shared/kube"
)

// Defaults of Limits (NODE_DRAIN_TIMEOUT, NODE_OPS_PARALLEL).
const (
	DefaultDrainTimeout = 5 * time.Minute
	DefaultParallel     = 4
)

// Limits are the settings a run's length follows from. The collector reads
// the same variables (elasticpool-config) to tell a stalled order from one
// whose run is still going on (StallAfter); functions/nodeops has its own
// copy of these fields in nodeops.Settings with the same defaults.
type Limits struct {
	// DrainTimeout bounds one node's drain.
	DrainTimeout time.Duration `env:"NODE_DRAIN_TIMEOUT, default=5m"`
	// Parallel is how many devices of an order are operated at once.
	Parallel int `env:"NODE_OPS_PARALLEL, default=4"`
}

// Validate refuses limits nodeops would refuse.
func (l Limits) Validate() error {
	if l.DrainTimeout <= 0 {
		return fmt.Errorf("NODE_DRAIN_TIMEOUT must be > 0, got %s", l.DrainTimeout)
	}
	if l.Parallel < 1 {
		return fmt.Errorf("NODE_OPS_PARALLEL must be ≥ 1, got %d", l.Parallel)
	}
	return nil
}

func (l Limits) withDefaults() Limits {
	if l.DrainTimeout <= 0 {
		l.DrainTimeout = DefaultDrainTimeout
	}
	if l.Parallel <= 0 {
		l.Parallel = DefaultParallel
	}
	return l
}

// LockTTL is the TTL of the lock of a run over devices held devices; it
// covers the worst run: every round of Parallel devices drains for
// DrainTimeout plus a few API requests (each bounded by kube.RequestTimeout).
// The run itself stops a minute before it.
func (l Limits) LockTTL(devices int) time.Duration {
	l = l.withDefaults()
	rounds := max(1, (devices+l.Parallel-1)/l.Parallel)
	return time.Duration(rounds)*(l.DrainTimeout+4*kube.RequestTimeout) + 2*time.Minute
}

// StallAfter is how long an open order's device rows may all stay unchanged
// before no run of it can still be going on. A live run writes a device's
// row when its operation starts and when it ends, so its rows are never
// quiet for longer than one device's operation; and no run outlives its lock
// (LockTTL). Quieter than that, the order was left behind: its execute event
// was lost, or its run was killed.
func (l Limits) StallAfter(devices int) time.Duration {
	return l.LockTTL(devices)
}

// LockKey is the lock a run of order id holds (under the Redis prefix), so
// others can tell whether a run is going on without taking it.
func LockKey(id int64) string {
	return fmt.Sprintf("nodeops:order:%d", id)
}
