package scaling

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

const gib = int64(1) << 30

func cand(id int64, cores int, memGiB int64) Candidate {
	return Candidate{ID: id, Hostname: "host-" + string(rune('a'+id%26)), CPUCores: cores, MemoryBytes: memGiB * gib}
}

func withAlloc(c Candidate, cpuMilli, memGiB int64) Candidate {
	c.NodeCPUAllocated, c.NodeMemAllocated = i64(cpuMilli), i64(memGiB*gib)
	return c
}

func ids(cs []Candidate) []int64 {
	out := []int64{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// entry75: entry on cpu allocated, threshold 80, target 75.
func entry75(policy SelectionPolicy) Strategy {
	s := cpuEntry()
	s.CPUTargetValue = f64(75)
	s.SelectionPolicy = policy
	return s
}

// exit50: exit on cpu allocated, threshold 30, target 50.
func exit50() Strategy {
	return Strategy{
		ID: 8, ThresholdTriggerAction: ActionPoolExit,
		CPUThresholdValue: f64(30), CPUThresholdType: ThresholdAllocated, CPUTargetValue: f64(50),
		DurationMinutes: 1440,
	}
}

// pool builds a pool of nodes × 10 cores / 100 GiB with the given allocation.
func pool(nodes int, cpuAllocCores, memAllocGiB int64) Pool {
	return Pool{Snapshot: Snapshot{
		CPUCapacity: int64(nodes) * 10_000, CPUAllocated: cpuAllocCores * 1000,
		MemCapacity: int64(nodes) * 100 * gib, MemAllocated: memAllocGiB * gib,
		NodeCount: nodes,
	}}
}

func TestPlanDevices(t *testing.T) {
	mixed := []Candidate{cand(1, 8, 64), cand(2, 64, 512), cand(3, 16, 128), cand(4, 32, 256)}
	eights := []Candidate{cand(11, 8, 64), cand(12, 8, 64), cand(13, 8, 64), cand(14, 8, 64), cand(15, 8, 64)}
	tens := func(n int) []Candidate {
		var cs []Candidate
		for i := range n {
			cs = append(cs, cand(int64(21+i), 10, 100))
		}
		return cs
	}
	cpuAndMem := func(s Strategy) Strategy {
		s.MemoryThresholdValue, s.MemoryThresholdType, s.MemoryTargetValue = f64(80), ThresholdAllocated, f64(75)
		return s
	}
	exitBoth := func() Strategy {
		s := exit50()
		s.MemoryThresholdValue, s.MemoryThresholdType, s.MemoryTargetValue = f64(30), ThresholdAllocated, f64(50)
		return s
	}
	withMin := func(p Pool, n int) Pool { p.MinNodes = intp(n); return p }
	withMax := func(p Pool, n int) Pool { p.MaxNodes = intp(n); return p }
	withCount := func(s Strategy, n int) Strategy { s.DeviceCount = n; return s }
	zeroCap := func(p Pool) Pool { p.CPUCapacity, p.NodeCount = 0, 0; return p }

	tests := []struct {
		name       string
		strategy   Strategy
		pool       Pool
		counted    []Resource
		candidates []Candidate

		wantIDs       []int64
		wantStop      StopReason
		wantReachable bool
		wantNeeded    int
		wantFound     int
		wantShortage  bool
		wantReason    string
	}{
		// entry: 10 nodes, 100 cores, 90 allocated (90%); target 75% → 120 cores → need 20 cores.
		{
			name: "entry mixed sizes, largest-first takes one big device", strategy: entry75(SelectLargestFirst),
			pool: pool(10, 90, 500), candidates: mixed,
			wantIDs: []int64{2}, wantStop: StopCovered, wantReachable: true, wantNeeded: 1, wantFound: 4,
			wantReason: "add 1 device: cpu allocated 90.0% → 54.9% (target 75%)",
		},
		{
			name: "entry mixed sizes, smallest-first adds until covered", strategy: entry75(SelectSmallestFirst),
			pool: pool(10, 90, 500), candidates: mixed,
			wantIDs: []int64{1, 3}, wantStop: StopCovered, wantReachable: true, wantNeeded: 2, wantFound: 4,
			wantReason: "add 2 devices: cpu allocated 90.0% → 72.6% (target 75%)",
		},
		{
			// memory 900 of 1000 GiB at target 75% → need 200 GiB; cpu is covered after 24 cores.
			name: "entry AND: keeps adding until every counted resource is covered", strategy: cpuAndMem(entry75(SelectSmallestFirst)),
			pool: pool(10, 90, 900), candidates: mixed,
			wantIDs: []int64{1, 3, 4}, wantStop: StopCovered, wantReachable: true, wantNeeded: 3, wantFound: 4,
			wantReason: "add 3 devices: cpu allocated 90.0% → 57.7% (target 75%), memory allocated 90.0% → 62.2% (target 75%)",
		},
		{
			name: "entry OR: only the resource met on the last day is sized", strategy: cpuAndMem(entry75(SelectSmallestFirst)),
			pool: pool(10, 90, 900), counted: []Resource{CPU}, candidates: mixed,
			wantIDs: []int64{1, 3}, wantStop: StopCovered, wantReachable: true, wantNeeded: 2, wantFound: 4,
		},
		{
			name: "entry exactly at target after adding is covered", strategy: entry75(SelectSmallestFirst),
			pool: pool(10, 90, 0), candidates: []Candidate{cand(1, 10, 1), cand(2, 10, 1), cand(3, 10, 1)},
			wantIDs: []int64{1, 2}, wantStop: StopCovered, wantReachable: true, wantNeeded: 2, wantFound: 3,
			wantReason: "add 2 devices: cpu allocated 90.0% → 75.0% (target 75%)",
		},
		{
			name: "entry deviceCount caps the count", strategy: withCount(entry75(SelectRandom), 2),
			pool: pool(10, 90, 500), candidates: eights,
			wantStop: StopDeviceCount, wantReachable: false, wantNeeded: 2, wantFound: 5,
			wantReason: "add 2 devices: cpu allocated 90.0% → 77.6% (target 75%); capped at deviceCount 2, target not reached",
		},
		{
			name: "entry deviceCount above the need does not pad", strategy: withCount(entry75(SelectSmallestFirst), 4),
			pool: pool(10, 90, 500), candidates: eights,
			wantIDs: []int64{11, 12, 13}, wantStop: StopCovered, wantReachable: true, wantNeeded: 3, wantFound: 5,
		},
		{
			name: "entry never grows past max_nodes", strategy: entry75(SelectSmallestFirst),
			pool: withMax(pool(10, 90, 500), 11), candidates: eights,
			wantIDs: []int64{11}, wantStop: StopMaxNodes, wantReachable: false, wantNeeded: 1, wantFound: 5,
			wantReason: "add 1 device: cpu allocated 90.0% → 83.3% (target 75%); max_nodes 11 reached, target not reached",
		},
		{
			name: "entry pool already at max_nodes", strategy: entry75(SelectSmallestFirst),
			pool: withMax(pool(10, 90, 500), 10), candidates: eights,
			wantIDs: []int64{}, wantStop: StopMaxNodes, wantReachable: false, wantNeeded: 0, wantFound: 5,
		},
		{
			// 8 cores found, 12 cores missing; the pool's average node is 10 cores → 2 more.
			name: "entry unreachable: candidates run out (shortage)", strategy: entry75(SelectSmallestFirst),
			pool: pool(10, 90, 500), candidates: eights[:1],
			wantIDs: []int64{11}, wantStop: StopCandidates, wantReachable: false, wantNeeded: 3, wantFound: 1, wantShortage: true,
			wantReason: "add 1 device: cpu allocated 90.0% → 83.3% (target 75%); short of devices: need about 3, found 1",
		},
		{
			name: "entry empty candidate set: shortage only", strategy: entry75(SelectRandom),
			pool: pool(10, 90, 500), candidates: nil,
			wantIDs: []int64{}, wantStop: StopCandidates, wantReachable: false, wantNeeded: 2, wantFound: 0, wantShortage: true,
			wantReason: "add 0 devices: cpu allocated 90.0% → 90.0% (target 75%); short of devices: need about 2, found 0",
		},
		{
			name: "entry empty candidate set, needed capped by deviceCount", strategy: withCount(entry75(SelectRandom), 1),
			pool: pool(10, 90, 500), candidates: nil,
			wantIDs: []int64{}, wantStop: StopCandidates, wantNeeded: 1, wantFound: 0, wantShortage: true,
		},
		{
			name: "entry nothing needed any more (latest snapshot below target)", strategy: entry75(SelectRandom),
			pool: pool(10, 70, 500), candidates: mixed,
			wantIDs: []int64{}, wantStop: StopCovered, wantReachable: true, wantNeeded: 0, wantFound: 4,
			wantReason: "nothing to add: cpu allocated 70.0% → 70.0% (target 75%)",
		},
		{
			name: "entry skips a device reporting zero capacity", strategy: entry75(SelectSmallestFirst),
			pool: pool(10, 90, 500), candidates: []Candidate{cand(9, 0, 0), cand(2, 32, 256)},
			wantIDs: []int64{2}, wantStop: StopCovered, wantReachable: true, wantNeeded: 1, wantFound: 1,
		},
		{
			name: "entry zero-capacity pool with no load needs nothing", strategy: entry75(SelectSmallestFirst),
			pool: zeroCap(pool(0, 0, 0)), candidates: eights,
			wantIDs: []int64{}, wantStop: StopCovered, wantReachable: true, wantNeeded: 0, wantFound: 5,
			wantReason: "nothing to add: cpu allocated n/a (capacity 0) → n/a (capacity 0) (target 75%)",
		},
		{
			// 3 cores requested on an empty pool at 75% → 4 cores of capacity.
			name: "entry zero-capacity pool with pending requests", strategy: entry75(SelectSmallestFirst),
			pool: zeroCap(pool(0, 3, 0)), candidates: eights,
			wantIDs: []int64{11}, wantStop: StopCovered, wantReachable: true, wantNeeded: 1, wantFound: 5,
			wantReason: "add 1 device: cpu allocated n/a (capacity 0) → 37.5% (target 75%)",
		},

		// exit: 10 nodes, 100 cores, 20 allocated (20%); target 50% → 40 cores → 60 cores may go.
		{
			name: "exit removes while at or below target", strategy: exit50(),
			pool: pool(10, 20, 0), candidates: tens(8),
			wantStop: StopTarget, wantReachable: true, wantNeeded: 6, wantFound: 8,
			wantReason: "remove 6 devices: cpu allocated 20.0% → 50.0% (target 50%); one more would cross the target",
		},
		{
			name: "exit keeps the last node", strategy: exit50(),
			pool: pool(2, 1, 0), candidates: tens(2),
			wantStop: StopMinNodes, wantReachable: false, wantNeeded: 1, wantFound: 2,
			wantReason: "remove 1 device: cpu allocated 5.0% → 10.0% (target 50%); keeping min_nodes 1",
		},
		{
			name: "exit single-node pool removes nothing", strategy: exit50(),
			pool: pool(1, 1, 0), candidates: tens(1),
			wantIDs: []int64{}, wantStop: StopMinNodes, wantNeeded: 0, wantFound: 1,
		},
		{
			name: "exit min_nodes 0 may empty an idle pool", strategy: exit50(),
			pool: withMin(pool(2, 0, 0), 0), candidates: tens(2),
			wantStop: StopCandidates, wantNeeded: 2, wantFound: 2,
		},
		{
			name: "exit honours a larger min_nodes", strategy: exit50(),
			pool: withMin(pool(10, 20, 0), 8), candidates: tens(8),
			wantStop: StopMinNodes, wantNeeded: 2, wantFound: 8,
		},
		{
			name: "exit deviceCount caps", strategy: withCount(exit50(), 3),
			pool: pool(10, 20, 0), candidates: tens(8),
			wantStop: StopDeviceCount, wantNeeded: 3, wantFound: 8,
			wantReason: "remove 3 devices: cpu allocated 20.0% → 28.6% (target 50%); capped at deviceCount 3, target not reached",
		},
		{
			name: "exit first candidate too big: nothing to remove", strategy: exit50(),
			pool: pool(10, 20, 0), candidates: []Candidate{cand(1, 64, 512)},
			wantIDs: []int64{}, wantStop: StopTarget, wantReachable: true, wantNeeded: 0, wantFound: 1,
			wantReason: "nothing to remove: one more device would cross the target: cpu allocated 20.0% → 20.0% (target 50%)",
		},
		{
			name: "exit stops at the first candidate that would cross, even if a smaller one follows", strategy: exit50(),
			pool: pool(10, 20, 0),
			candidates: []Candidate{
				withAlloc(cand(1, 50, 100), 0, 0), withAlloc(cand(2, 20, 100), 1000, 0), withAlloc(cand(3, 1, 100), 900, 0),
			},
			// allocation order: 1 (0%), 2 (5%), 3 (90%): 50 cores go, 20 more would cross (60 left).
			wantIDs: []int64{1}, wantStop: StopTarget, wantReachable: true, wantNeeded: 1, wantFound: 3,
		},
		{
			// 40 cores allocated → only 20 cores may go: the two least-allocated nodes.
			name: "exit takes the least-allocated nodes first", strategy: exit50(),
			pool: pool(10, 40, 0),
			candidates: []Candidate{
				withAlloc(cand(1, 10, 100), 5000, 10), withAlloc(cand(2, 10, 100), 1000, 10),
				cand(3, 10, 100), withAlloc(cand(4, 10, 100), 3000, 10),
			},
			wantIDs: []int64{2, 4}, wantStop: StopTarget, wantReachable: true, wantNeeded: 2, wantFound: 4,
		},
		{
			name: "exit with both resources: memory binds", strategy: exitBoth(),
			pool: pool(10, 20, 600), candidates: tens(8),
			// memory 600 of 1000 GiB at 50% → 1200 GiB needed: nothing may go.
			wantIDs: []int64{}, wantStop: StopTarget, wantReachable: true, wantNeeded: 0, wantFound: 8,
		},
		{
			name: "exit unknown node count uses the candidates", strategy: exit50(),
			pool: func() Pool { p := pool(10, 20, 0); p.NodeCount = 0; return p }(), candidates: tens(3),
			wantStop: StopMinNodes, wantNeeded: 2, wantFound: 3,
		},
		{
			name: "exit candidates run out before the target: shortage", strategy: exit50(),
			pool: pool(10, 20, 0), candidates: tens(2),
			// 40 of 60 cores could still go: 4 more average (10-core) nodes.
			wantStop: StopCandidates, wantNeeded: 6, wantFound: 2, wantShortage: true,
			wantReason: "remove 2 devices: cpu allocated 20.0% → 25.0% (target 50%); short of candidates: could remove about 6, found 2",
		},
		{
			name: "exit empty candidate set: shortage only", strategy: exit50(),
			pool: pool(10, 20, 0), candidates: nil,
			wantIDs: []int64{}, wantStop: StopCandidates, wantNeeded: 6, wantFound: 0, wantShortage: true,
		},
		{
			name: "exit empty candidate set on a one-node pool: nothing to say", strategy: exit50(),
			pool: pool(1, 0, 0), candidates: nil,
			wantIDs: []int64{}, wantStop: StopCandidates, wantNeeded: 0, wantFound: 0,
			wantReason: "nothing to remove: no candidates",
		},
		{
			name: "exit zero-capacity pool removes nothing", strategy: exit50(),
			pool: zeroCap(pool(0, 0, 0)), candidates: tens(2),
			wantIDs: []int64{}, wantStop: StopTarget, wantReachable: true, wantNeeded: 0, wantFound: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanDevices(PlanInput{
				Strategy: tt.strategy, Pool: tt.pool, Counted: tt.counted, Candidates: tt.candidates, Seed: "7:1:2:2026-11-29",
			})
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if tt.wantIDs != nil && !slices.Equal(ids(got.Devices), tt.wantIDs) {
				t.Errorf("got devices %v, want %v", ids(got.Devices), tt.wantIDs)
			}
			if tt.wantIDs == nil && len(got.Devices) != tt.wantNeeded && !tt.wantShortage {
				t.Errorf("got %d devices, want %d", len(got.Devices), tt.wantNeeded)
			}
			if got.Stop != tt.wantStop {
				t.Errorf("got stop %s, want %s", got.Stop, tt.wantStop)
			}
			if got.TargetReachable != tt.wantReachable {
				t.Errorf("got reachable %v, want %v", got.TargetReachable, tt.wantReachable)
			}
			if got.Needed != tt.wantNeeded {
				t.Errorf("got needed %d, want %d", got.Needed, tt.wantNeeded)
			}
			if got.Found != tt.wantFound {
				t.Errorf("got found %d, want %d", got.Found, tt.wantFound)
			}
			if got.Shortage != tt.wantShortage {
				t.Errorf("got shortage %v, want %v", got.Shortage, tt.wantShortage)
			}
			if tt.wantReason != "" && got.Reason != tt.wantReason {
				t.Errorf("got reason %q\nwant          %q", got.Reason, tt.wantReason)
			}
			if got.Devices == nil {
				t.Error("got nil devices, want an empty slice (JSON [])")
			}
		})
	}
}

func TestPlanNeedArithmetic(t *testing.T) {
	tests := []struct {
		name            string
		action          Action
		threshold       float64
		target          float64
		value, capacity int64
		want            int64
	}{
		{"entry cpu", ActionPoolEntry, 80, 75, 90_000, 100_000, 20_000},
		{"entry memory bytes stay exact", ActionPoolEntry, 80, 75, 900 * gib, 1000 * gib, 200 * gib},
		{"entry decimal target", ActionPoolEntry, 80, 72.5, 72_500, 100_000, 0},
		{"entry decimal target rounds up", ActionPoolEntry, 80, 33.3, 33_301, 100_000, 4}, // 100003.003…
		{"entry below target needs nothing", ActionPoolEntry, 80, 75, 10_000, 100_000, 0},
		{"exit cpu", ActionPoolExit, 30, 50, 20_000, 100_000, 60_000},
		{"exit decimal target rounds down", ActionPoolExit, 30, 33.3, 33_301, 100_000, -4}, // −3.003…
		{"exit already above target", ActionPoolExit, 30, 50, 60_000, 100_000, -20_000},
		{"exit idle pool may shed everything", ActionPoolExit, 30, 50, 0, 100_000, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Strategy{
				ThresholdTriggerAction: tt.action, CPUThresholdValue: f64(tt.threshold),
				CPUThresholdType: ThresholdAllocated, CPUTargetValue: f64(tt.target), DurationMinutes: 1440,
			}
			p, err := PlanDevices(PlanInput{Strategy: s, Pool: Pool{Snapshot: Snapshot{
				CPUCapacity: tt.capacity, CPUAllocated: tt.value, NodeCount: 10,
			}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Resources[0].Need; got != tt.want {
				t.Errorf("got need %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPlanRedeliverySelectsTheSameDevices(t *testing.T) {
	var cs []Candidate
	for i := range 40 {
		cs = append(cs, cand(int64(100+i), 8, 64))
	}
	in := PlanInput{Strategy: entry75(SelectRandom), Pool: pool(10, 90, 500), Candidates: cs, Seed: "7:1:2:2026-11-29"}
	first, err := PlanDevices(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Devices) != 3 {
		t.Fatalf("got %d devices, want 3", len(first.Devices))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		shuffled := slices.Clone(cs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		in.Candidates = shuffled
		again, err := PlanDevices(in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(again.Devices), ids(first.Devices)) {
			t.Fatalf("redelivery chose %v, first delivery chose %v", ids(again.Devices), ids(first.Devices))
		}
	}
	in.Seed = "7:1:2:2026-11-30"
	in.Candidates = cs
	other, _ := PlanDevices(in)
	if slices.Equal(ids(other.Devices), ids(first.Devices)) {
		t.Errorf("the next day's key chose the same devices %v; want a different draw", ids(first.Devices))
	}
}

func TestPlanRejectsBadInput(t *testing.T) {
	usage := exit50()
	usage.CPUThresholdType = ThresholdUsage
	bad := exit50()
	bad.CPUTargetValue = f64(10)
	tests := map[string]PlanInput{
		"usage missing from the snapshot": {Strategy: usage, Pool: pool(10, 20, 0)},
		"counted resource not configured": {Strategy: exit50(), Pool: pool(10, 20, 0), Counted: []Resource{Memory}},
		"invalid strategy":                {Strategy: bad, Pool: pool(10, 20, 0)},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := PlanDevices(in); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("got %v, want ErrInvalidInput", err)
			}
		})
	}
}
