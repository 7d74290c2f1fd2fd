package scaling

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Pool is the pool as "how many" sees it: its latest snapshot and its node
// bounds (resource_pools.min_nodes / max_nodes).
type Pool struct {
	Snapshot
	MinNodes *int `json:"minNodes,omitempty"` // nil: 1, the schema default
	MaxNodes *int `json:"maxNodes,omitempty"` // nil: no maximum
}

// PlanInput is what PlanDevices reads.
type PlanInput struct {
	Strategy Strategy
	Pool     Pool
	// Counted is Evaluation.Counted (AND: all configured; OR: those met on
	// the window's last day). Empty means every configured resource, the
	// conservative choice in both directions.
	Counted []Resource
	// Candidates are the devices the matching query returned, any order.
	Candidates []Candidate
	// Seed orders random selection: the order's idempotency key.
	Seed string
}

// StopReason says why a plan stopped taking candidates.
type StopReason string

const (
	StopCovered     StopReason = "covered"              // entry: every need covered (or nothing needed)
	StopTarget      StopReason = "target"               // exit: the next removal would cross a target
	StopDeviceCount StopReason = "device_count"         // the strategy's deviceCount cap
	StopMaxNodes    StopReason = "max_nodes"            // entry: the pool's max_nodes
	StopMinNodes    StopReason = "min_nodes"            // exit: the pool's min_nodes
	StopCandidates  StopReason = "candidates_exhausted" // ran out of candidates first
)

// ResourceNeed is the arithmetic of one counted resource.
type ResourceNeed struct {
	Resource Resource      `json:"resource"`
	Type     ThresholdType `json:"type"`
	Target   float64       `json:"target"` // percent
	Value    int64         `json:"value"`
	Capacity int64         `json:"capacity"`
	// Need is, for entry, the capacity to add so value/capacity ≤ target
	// (value/t − capacity, rounded up, never below 0); for exit, the capacity
	// that may go while value/capacity stays ≤ target (capacity − value/t,
	// rounded down; negative when the pool is already above target).
	Need int64 `json:"need"`
	// Chosen is the capacity of the chosen devices.
	Chosen     int64    `json:"chosen"`
	RateBefore *float64 `json:"rateBefore"` // nil: zero capacity
	RateAfter  *float64 `json:"rateAfter"`
}

// Plan is the outcome of "how many" and selection for one breach.
type Plan struct {
	Action    Action         `json:"action"`
	Devices   []Candidate    `json:"devices"` // chosen, in selection order
	Resources []ResourceNeed `json:"resources"`
	Stop      StopReason     `json:"stop"`
	// TargetReachable: entry, the chosen devices bring every counted rate to
	// its target; exit, removal stopped at the target itself, not at a cap,
	// min_nodes or the end of the candidates.
	TargetReachable bool `json:"targetReachable"`
	// Found is the usable candidates: for entry those with capacity in some
	// counted resource (a device reporting 0 cores and 0 bytes is skipped);
	// for exit all of them.
	Found int `json:"found"`
	// Needed is the number of devices the plan wants. It equals
	// len(Devices) unless Shortage; then it adds an estimate of the devices
	// still missing, sized like the pool's average node (capacity /
	// nodeCount), else like the average candidate, and is capped by
	// deviceCount and max_nodes/min_nodes. Entry counts at least one missing
	// device when no size is known.
	Needed int `json:"needed"`
	// Shortage: the candidates ran out before the need was met, so the
	// caller emits inventory.shortage{needed: Needed, found: Found} and, when
	// Devices is not empty, still creates the order.
	Shortage bool   `json:"shortage"`
	Reason   string `json:"reason"`
}

// PlanDevices applies DESIGN §6 "How many" to the latest snapshot:
//
//   - entry: need_r = value_r/t_r − capacity_r per counted r; candidates are
//     added in selection order until every need is covered, never past
//     max_nodes (node count + added ≤ max) nor deviceCount;
//   - exit: candidates are removed in selection order while every counted r
//     keeps value_r/(capacity_r − removed_r) ≤ t_r and the pool keeps
//     min_nodes; the first candidate that would break it stops the plan;
//     deviceCount caps.
//
// The pool's node count is the snapshot's; for exit, when the snapshot
// reports none, the number of candidates (all in this pool) stands in.
func PlanDevices(in PlanInput) (Plan, error) {
	s := in.Strategy
	if err := s.Validate(); err != nil {
		return Plan{}, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	needs, err := resourceNeeds(s, in.Pool.Snapshot, in.Counted)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Action: s.ThresholdTriggerAction, Resources: needs}
	ordered := Order(p.Action, s.Policy(), in.Seed, in.Candidates)
	if p.Action == ActionPoolEntry {
		planEntry(&p, s, in.Pool, ordered)
	} else {
		planExit(&p, s, in.Pool, ordered)
	}
	if p.Devices == nil {
		p.Devices = []Candidate{}
	}
	p.Reason = planReason(p, s, in.Pool)
	return p, nil
}

func resourceNeeds(s Strategy, snap Snapshot, counted []Resource) ([]ResourceNeed, error) {
	rules := s.Rules()
	for _, r := range counted {
		if !slices.ContainsFunc(rules, func(x Rule) bool { return x.Resource == r }) {
			return nil, fmt.Errorf("%w: counted resource %q is not configured", ErrInvalidInput, r)
		}
	}
	var out []ResourceNeed
	for _, rule := range rules {
		if len(counted) > 0 && !slices.Contains(counted, rule.Resource) {
			continue
		}
		v, ok := snap.Value(rule.Resource, rule.Type)
		if !ok {
			return nil, fmt.Errorf("%w: %s usage missing from the latest snapshot", ErrInvalidInput, rule.Resource)
		}
		n := ResourceNeed{
			Resource: rule.Resource,
			Type:     rule.Type,
			Target:   rule.Target,
			Value:    v,
			Capacity: snap.Capacity(rule.Resource),
		}
		// ideal is the capacity at which the rate equals the target, exact:
		// float rounding at 1e12 bytes is worth hundreds of bytes.
		ideal := idealCapacity(v, rule.Target)
		capRat := new(big.Rat).SetInt64(n.Capacity)
		if s.ThresholdTriggerAction == ActionPoolEntry {
			n.Need = max(0, ceilRat(new(big.Rat).Sub(ideal, capRat)))
		} else {
			n.Need = floorRat(new(big.Rat).Sub(capRat, ideal))
		}
		n.RateBefore = ratePtr(v, n.Capacity)
		out = append(out, n)
	}
	return out, nil
}

func planEntry(p *Plan, s Strategy, pool Pool, ordered []Candidate) {
	room := -1 // -1: no max_nodes
	if pool.MaxNodes != nil {
		room = max(0, *pool.MaxNodes-pool.NodeCount)
	}
	covered := func() bool {
		for _, n := range p.Resources {
			if n.Chosen < n.Need {
				return false
			}
		}
		return true
	}
	capped := func() StopReason {
		switch {
		case s.DeviceCount > 0 && len(p.Devices) >= s.DeviceCount:
			return StopDeviceCount
		case room >= 0 && len(p.Devices) >= room:
			return StopMaxNodes
		}
		return ""
	}
	usable := func(c Candidate) bool {
		for _, n := range p.Resources {
			if c.Capacity(n.Resource) > 0 {
				return true
			}
		}
		return false
	}
	for _, c := range ordered {
		if usable(c) {
			p.Found++
		}
	}
	for _, c := range ordered {
		if covered() || capped() != "" {
			break
		}
		if !usable(c) {
			continue
		}
		p.Devices = append(p.Devices, c)
		for i := range p.Resources {
			p.Resources[i].Chosen += c.Capacity(p.Resources[i].Resource)
		}
	}
	switch {
	case covered():
		p.Stop = StopCovered
	case capped() != "":
		p.Stop = capped()
	default:
		p.Stop = StopCandidates
	}
	p.TargetReachable = p.Stop == StopCovered
	for i, n := range p.Resources {
		p.Resources[i].RateAfter = ratePtr(n.Value, n.Capacity+n.Chosen)
	}

	p.Needed = len(p.Devices)
	if p.Stop != StopCandidates {
		return
	}
	extra := 1 // at least one more, even when no size is known
	for _, n := range p.Resources {
		missing := n.Need - n.Chosen
		if missing <= 0 {
			continue
		}
		if avg := averageSize(n.Resource, pool, ordered); avg > 0 {
			extra = max(extra, int(math.Ceil(float64(missing)/avg)))
		}
	}
	p.Needed += extra
	if s.DeviceCount > 0 {
		p.Needed = min(p.Needed, s.DeviceCount)
	}
	if room >= 0 {
		p.Needed = min(p.Needed, room)
	}
	p.Shortage = p.Needed > len(p.Devices)
}

func planExit(p *Plan, s Strategy, pool Pool, ordered []Candidate) {
	nodes := pool.NodeCount
	if nodes <= 0 {
		nodes = len(ordered)
	}
	minNodes := 1
	if pool.MinNodes != nil {
		minNodes = *pool.MinNodes
	}
	p.Found = len(ordered)
	for _, c := range ordered {
		if s.DeviceCount > 0 && len(p.Devices) >= s.DeviceCount {
			p.Stop = StopDeviceCount
			break
		}
		if nodes-len(p.Devices)-1 < minNodes {
			p.Stop = StopMinNodes
			break
		}
		if slices.ContainsFunc(p.Resources, func(n ResourceNeed) bool {
			return n.Chosen+c.Capacity(n.Resource) > n.Need
		}) {
			p.Stop = StopTarget
			break
		}
		p.Devices = append(p.Devices, c)
		for i := range p.Resources {
			p.Resources[i].Chosen += c.Capacity(p.Resources[i].Resource)
		}
	}
	if p.Stop == "" {
		p.Stop = StopCandidates
	}
	p.TargetReachable = p.Stop == StopTarget
	for i, n := range p.Resources {
		p.Resources[i].RateAfter = ratePtr(n.Value, n.Capacity-n.Chosen)
	}

	p.Needed = len(p.Devices)
	if p.Stop != StopCandidates {
		return
	}
	// How many more average nodes could still go: the smallest allowance
	// over the counted resources, min_nodes and deviceCount.
	more := nodes - len(p.Devices) - minNodes
	if s.DeviceCount > 0 {
		more = min(more, s.DeviceCount-len(p.Devices))
	}
	for _, n := range p.Resources {
		avg := averageSize(n.Resource, pool, ordered)
		if avg <= 0 {
			more = 0 // no size known: claim no shortage rather than guess
			break
		}
		more = min(more, int(math.Floor(float64(n.Need-n.Chosen)/avg)))
	}
	if more > 0 {
		p.Needed += more
		p.Shortage = true
	}
}

// averageSize is the typical device size for estimates: the pool's average
// node, else the average usable candidate; 0 when neither is known.
func averageSize(r Resource, pool Pool, cs []Candidate) float64 {
	if c := pool.Capacity(r); pool.NodeCount > 0 && c > 0 {
		return float64(c) / float64(pool.NodeCount)
	}
	var sum float64
	n := 0
	for _, c := range cs {
		if v := c.Capacity(r); v > 0 {
			sum += float64(v)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// idealCapacity is value × 100 / target as an exact rational. The target
// is taken as the decimal the user typed (72.5, 33.3), not its binary float.
func idealCapacity(value int64, target float64) *big.Rat {
	t, ok := new(big.Rat).SetString(strconv.FormatFloat(target, 'f', -1, 64))
	if !ok || t.Sign() <= 0 {
		// Unreachable after Validate; keep the arithmetic total anyway.
		return new(big.Rat).SetInt64(math.MaxInt64)
	}
	v := new(big.Rat).SetInt64(value)
	v.Mul(v, big.NewRat(100, 1))
	return v.Quo(v, t)
}

func floorRat(x *big.Rat) int64 {
	// big.Int.Div is Euclidean and a Rat's denominator is positive, so the
	// quotient is the floor, negative values included.
	return clampInt64(new(big.Int).Div(x.Num(), x.Denom()))
}

func ceilRat(x *big.Rat) int64 {
	neg := new(big.Rat).Neg(x)
	return -floorRat(neg)
}

func clampInt64(b *big.Int) int64 {
	switch {
	case b.IsInt64():
		return b.Int64()
	case b.Sign() > 0:
		return math.MaxInt64
	default:
		return math.MinInt64 + 1 // +1: ceilRat negates it
	}
}

func ratePtr(value, capacity int64) *float64 {
	if capacity <= 0 {
		return nil
	}
	r := rate(value, capacity)
	return &r
}

func planReason(p Plan, s Strategy, pool Pool) string {
	var rates []string
	for _, n := range p.Resources {
		rates = append(rates, fmt.Sprintf("%s %s %s → %s (target %s)",
			n.Resource, n.Type, ratePct(n.RateBefore), ratePct(n.RateAfter), pct(n.Target)))
	}
	summary := strings.Join(rates, ", ")
	verb, plural := "add", "devices"
	if p.Action == ActionPoolExit {
		verb = "remove"
	}
	if len(p.Devices) == 1 {
		plural = "device"
	}
	head := fmt.Sprintf("%s %d %s: %s", verb, len(p.Devices), plural, summary)

	switch p.Stop {
	case StopCovered:
		if len(p.Devices) == 0 {
			return "nothing to add: " + summary
		}
		return head
	case StopDeviceCount:
		return fmt.Sprintf("%s; capped at deviceCount %d, target not reached", head, s.DeviceCount)
	case StopMaxNodes:
		return fmt.Sprintf("%s; max_nodes %d reached, target not reached", head, *pool.MaxNodes)
	case StopMinNodes:
		minNodes := 1
		if pool.MinNodes != nil {
			minNodes = *pool.MinNodes
		}
		return fmt.Sprintf("%s; keeping min_nodes %d", head, minNodes)
	case StopTarget:
		if len(p.Devices) == 0 {
			return "nothing to remove: one more device would cross the target: " + summary
		}
		return head + "; one more would cross the target"
	}
	// StopCandidates
	if !p.Shortage {
		if len(p.Devices) == 0 {
			return "nothing to remove: no candidates"
		}
		return head + "; no more candidates"
	}
	if p.Action == ActionPoolEntry {
		return fmt.Sprintf("%s; short of devices: need about %d, found %d", head, p.Needed, p.Found)
	}
	return fmt.Sprintf("%s; short of candidates: could remove about %d, found %d", head, p.Needed, p.Found)
}

func ratePct(r *float64) string {
	if r == nil {
		return "n/a (capacity 0)"
	}
	return fmt.Sprintf("%.1f%%", *r)
}
