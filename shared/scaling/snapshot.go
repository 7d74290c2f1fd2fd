package scaling

import "time"

// Snapshot is one pool's resources at one instant (DESIGN §4): CPU in
// millicores, memory in bytes. A nil usage means metrics were not served.
type Snapshot struct {
	CapturedAt   time.Time `json:"capturedAt"`
	CPUCapacity  int64     `json:"cpuCapacity"`
	CPUAllocated int64     `json:"cpuAllocated"`
	CPUUsage     *int64    `json:"cpuUsage"`
	MemCapacity  int64     `json:"memCapacity"`
	MemAllocated int64     `json:"memAllocated"`
	MemUsage     *int64    `json:"memUsage"`
	NodeCount    int       `json:"nodeCount"`
}

// DailySnapshot is the latest snapshot of a pool on one calendar day (a row
// of pool_daily_snapshots).
type DailySnapshot struct {
	Day Date `json:"day"`
	Snapshot
}

// Capacity returns the capacity of r (millicores or bytes).
func (s Snapshot) Capacity(r Resource) int64 {
	if r == CPU {
		return s.CPUCapacity
	}
	return s.MemCapacity
}

// Value returns the value of r that a threshold of type t reads; ok is false
// when it is usage and usage was not reported.
func (s Snapshot) Value(r Resource, t ThresholdType) (v int64, ok bool) {
	var p *int64
	switch {
	case r == CPU && t == ThresholdAllocated:
		return s.CPUAllocated, true
	case r == Memory && t == ThresholdAllocated:
		return s.MemAllocated, true
	case r == CPU:
		p = s.CPUUsage
	default:
		p = s.MemUsage
	}
	if p == nil {
		return 0, false
	}
	return *p, true
}

// rate is 100 × value / capacity. The product is formed in integers when it
// fits, so a rate that equals a decimal threshold exactly (8000 of 10000 vs
// 80) compares equal instead of drifting by one ulp.
func rate(value, capacity int64) float64 {
	const limit = 1 << 53 / 100
	if value >= 0 && value < limit {
		return float64(value*100) / float64(capacity)
	}
	return 100 * float64(value) / float64(capacity)
}
