package scaling

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"slices"
)

// Candidate is a device the matching query returned.
type Candidate struct {
	ID          int64  `json:"id"`
	Hostname    string `json:"hostname"`
	CPUCores    int    `json:"cpuCores"`
	MemoryBytes int64  `json:"memoryBytes"`
	// Requests allocated on the device's node (millicores, bytes); nil when
	// the collector has no node data. Exit uses them to drain the emptiest
	// nodes first.
	NodeCPUAllocated *int64 `json:"nodeCpuAllocated,omitempty"`
	NodeMemAllocated *int64 `json:"nodeMemAllocated,omitempty"`
}

// Capacity is what the device brings to a pool: CPU in millicores
// (cores × 1000), memory in bytes.
func (c Candidate) Capacity(r Resource) int64 {
	if r == CPU {
		return int64(c.CPUCores) * 1000
	}
	return c.MemoryBytes
}

// Order returns a new slice with the candidates in the order a plan takes
// them (DESIGN §6):
//   - entry: policy random (or ""), largest-first or smallest-first (cpu,
//     then memory, then id);
//   - exit: the policy is not used; nodes with allocation data come first,
//     least allocated first (the higher of cpu and memory allocated/capacity),
//     then nodes without data; ties and the no-data part in seeded random order.
//
// Random order is a per-device rank drawn from a PCG seeded by SHA-256 of
// seed (the idempotency key) and the device id. It does not depend on the
// order or the set of the other candidates, so a redelivery ranks the same
// devices the same way even if the query returns them in another order or
// one of them was taken meanwhile; PCG and SHA-256 are fixed algorithms, so
// the order is stable across Go versions.
func Order(action Action, policy SelectionPolicy, seed string, cs []Candidate) []Candidate {
	type keyed struct {
		c       Candidate
		rank    uint64
		frac    float64
		hasData bool
	}
	rk := ranker(seed)
	ks := make([]keyed, len(cs))
	for i, c := range cs {
		ks[i] = keyed{c: c, rank: rk(c.ID)}
		if action == ActionPoolExit {
			ks[i].frac, ks[i].hasData = allocatedFraction(c)
		}
	}
	byRank := func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.c.ID, b.c.ID))
	}
	var less func(a, b keyed) int
	switch {
	case action == ActionPoolExit:
		less = func(a, b keyed) int {
			if a.hasData != b.hasData {
				if a.hasData {
					return -1
				}
				return 1
			}
			if a.hasData {
				if c := cmp.Compare(a.frac, b.frac); c != 0 {
					return c
				}
			}
			return byRank(a, b)
		}
	case policy == SelectLargestFirst:
		less = func(a, b keyed) int {
			return cmp.Or(cmp.Compare(b.c.CPUCores, a.c.CPUCores), cmp.Compare(b.c.MemoryBytes, a.c.MemoryBytes), cmp.Compare(a.c.ID, b.c.ID))
		}
	case policy == SelectSmallestFirst:
		less = func(a, b keyed) int {
			return cmp.Or(cmp.Compare(a.c.CPUCores, b.c.CPUCores), cmp.Compare(a.c.MemoryBytes, b.c.MemoryBytes), cmp.Compare(a.c.ID, b.c.ID))
		}
	default:
		less = byRank
	}
	slices.SortStableFunc(ks, less)
	out := make([]Candidate, len(ks))
	for i, k := range ks {
		out[i] = k.c
	}
	return out
}

// ranker returns the seeded random rank of a device id.
func ranker(seed string) func(id int64) uint64 {
	h := sha256.Sum256([]byte(seed))
	s1 := binary.BigEndian.Uint64(h[0:8])
	s2 := binary.BigEndian.Uint64(h[8:16])
	return func(id int64) uint64 {
		// splitmix64 spreads consecutive ids over the whole state before PCG
		// mixes them with the seed.
		return rand.NewPCG(s1, s2^splitmix64(uint64(id))).Uint64()
	}
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// allocatedFraction is the higher of the node's cpu and memory allocated
// share: the resource that decides how hard the node is to drain.
func allocatedFraction(c Candidate) (float64, bool) {
	f, ok := 0.0, false
	for _, p := range []struct {
		alloc *int64
		cap   int64
	}{{c.NodeCPUAllocated, c.Capacity(CPU)}, {c.NodeMemAllocated, c.Capacity(Memory)}} {
		if p.alloc == nil || p.cap <= 0 {
			continue
		}
		v := float64(*p.alloc) / float64(p.cap)
		if !ok || v > f {
			f = v
		}
		ok = true
	}
	return f, ok
}
