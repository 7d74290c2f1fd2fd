package scaling

import (
	"slices"
	"strconv"
	"testing"
)

func TestOrderDeterministicPolicies(t *testing.T) {
	cs := []Candidate{
		cand(5, 32, 256), cand(3, 64, 256), cand(9, 32, 512), cand(1, 32, 256), cand(7, 8, 64),
	}
	tests := []struct {
		name   string
		action Action
		policy SelectionPolicy
		in     []Candidate
		want   []int64
	}{
		// cpu, then memory, then id breaks ties.
		{"largest-first", ActionPoolEntry, SelectLargestFirst, cs, []int64{3, 9, 1, 5, 7}},
		{"smallest-first", ActionPoolEntry, SelectSmallestFirst, cs, []int64{7, 1, 5, 9, 3}},
		{"empty", ActionPoolEntry, SelectLargestFirst, nil, []int64{}},
		{
			// 10% < 30% (mem 30%) < 50%; the node without data goes last.
			"exit least-allocated first, policy ignored", ActionPoolExit, SelectLargestFirst,
			[]Candidate{
				withAlloc(cand(1, 10, 100), 5000, 10), cand(2, 64, 512), withAlloc(cand(3, 10, 100), 1000, 10),
				withAlloc(cand(4, 10, 100), 1000, 30),
			},
			[]int64{3, 4, 1, 2},
		},
		{
			// only cpu known on 1 (20%), only memory on 2 (10%); zero capacity gives no data.
			"exit uses whichever allocation is known", ActionPoolExit, SelectRandom,
			[]Candidate{
				{ID: 1, CPUCores: 10, MemoryBytes: 100 * gib, NodeCPUAllocated: i64(2000)},
				{ID: 2, CPUCores: 10, MemoryBytes: 100 * gib, NodeMemAllocated: i64(10 * gib)},
				{ID: 3, NodeCPUAllocated: i64(0), NodeMemAllocated: i64(0)},
			},
			[]int64{2, 1, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.in)
			got := ids(Order(tt.action, tt.policy, "seed", tt.in))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if !slices.EqualFunc(before, tt.in, func(a, b Candidate) bool { return a.ID == b.ID }) {
				t.Error("Order reordered its input")
			}
		})
	}
}

func TestOrderRandomIsSeeded(t *testing.T) {
	var cs []Candidate
	for i := 1; i <= 8; i++ {
		cs = append(cs, Candidate{ID: int64(i)})
	}
	const key = "1:2:3:2026-11-29"

	// Golden: PCG and SHA-256 are fixed algorithms, so this order must never
	// change across Go versions; if it does, redeliveries across an upgrade
	// would pick other devices.
	if got, want := ids(Order(ActionPoolEntry, SelectRandom, key, cs)), []int64{7, 8, 3, 6, 2, 1, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("got %v, want the golden %v", got, want)
	}
	if got, want := ids(Order(ActionPoolEntry, "", key, cs)), []int64{7, 8, 3, 6, 2, 1, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("empty policy: got %v, want random %v", got, want)
	}
	// Exit without node data uses the same seeded random order.
	if got, want := ids(Order(ActionPoolExit, SelectSmallestFirst, key, cs)), []int64{7, 8, 3, 6, 2, 1, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("exit without data: got %v, want %v", got, want)
	}

	reversed := slices.Clone(cs)
	slices.Reverse(reversed)
	if got, want := ids(Order(ActionPoolEntry, SelectRandom, key, reversed)), []int64{7, 8, 3, 6, 2, 1, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("input order leaked into the draw: got %v, want %v", got, want)
	}

	// Removing a device (taken by another order meanwhile) keeps the others' relative order.
	without3 := slices.DeleteFunc(slices.Clone(cs), func(c Candidate) bool { return c.ID == 3 })
	if got, want := ids(Order(ActionPoolEntry, SelectRandom, key, without3)), []int64{7, 8, 6, 2, 1, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	if got := ids(Order(ActionPoolEntry, SelectRandom, "1:2:3:2026-11-30", cs)); slices.Equal(got, []int64{7, 8, 3, 6, 2, 1, 5, 4}) {
		t.Errorf("another key drew the same order %v", got)
	}
}

func TestOrderRandomIsRoughlyUniform(t *testing.T) {
	// Each of 4 devices should come first about a quarter of the time over
	// many keys: a broken mix (e.g. ranking by id) would always pick one.
	cs := []Candidate{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}}
	first := map[int64]int{}
	const n = 4000
	for i := range n {
		first[Order(ActionPoolEntry, SelectRandom, "k"+strconv.Itoa(i), cs)[0].ID]++
	}
	for id, c := range first {
		if c < n/4-200 || c > n/4+200 {
			t.Errorf("device %d first %d of %d times, want about %d", id, c, n, n/4)
		}
	}
}
