package kube

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
)

// Amount is CPU in millicores and memory in bytes.
type Amount struct {
	CPU int64
	Mem int64
}

func (a Amount) add(b Amount) Amount { return Amount{a.CPU + b.CPU, a.Mem + b.Mem} }

func maxAmount(a, b Amount) Amount {
	return Amount{max(a.CPU, b.CPU), max(a.Mem, b.Mem)}
}

func amountOf(rl corev1.ResourceList) Amount {
	var a Amount
	if q, ok := rl[corev1.ResourceCPU]; ok {
		a.CPU = q.MilliValue()
	}
	if q, ok := rl[corev1.ResourceMemory]; ok {
		a.Mem = q.Value()
	}
	return a
}

// PodRequests is what the scheduler reserves for a pod on its node
// (k8s.io/component-helpers/resource.PodRequests): the larger of the
// containers' sum and each init container's request (plus the sidecars
// started before it), sidecars (restartPolicy Always init containers) counted
// with the containers, pod-level requests replacing the containers' when set,
// plus the RuntimeClass overhead.
func PodRequests(p *corev1.Pod) Amount {
	var reqs Amount
	for _, c := range p.Spec.Containers {
		reqs = reqs.add(amountOf(c.Resources.Requests))
	}
	var sidecars, initMax Amount
	for _, c := range p.Spec.InitContainers {
		r := amountOf(c.Resources.Requests)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			reqs = reqs.add(r)
			sidecars = sidecars.add(r)
			r = sidecars
		} else {
			r = r.add(sidecars)
		}
		initMax = maxAmount(initMax, r)
	}
	reqs = maxAmount(reqs, initMax)
	if p.Spec.Resources != nil {
		if q, ok := p.Spec.Resources.Requests[corev1.ResourceCPU]; ok {
			reqs.CPU = q.MilliValue()
		}
		if q, ok := p.Spec.Resources.Requests[corev1.ResourceMemory]; ok {
			reqs.Mem = q.Value()
		}
	}
	return reqs.add(amountOf(p.Spec.Overhead))
}

// Terminal reports a pod that no longer holds its node's resources.
func Terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// Pool is what the collector needs of a resource pool.
type Pool struct {
	ID       int64
	Name     string
	Selector string // Kubernetes label selector
}

// PoolTotals are one pool's sums. Usage is nil when metrics are not served
// or a node of the pool has none.
type PoolTotals struct {
	PoolID    int64
	Nodes     []string
	Capacity  Amount
	Allocated Amount
	Usage     *Amount
}

// NodeTotals are one node's figures, for the device inventory.
type NodeTotals struct {
	Name        string
	Labels      map[string]string
	Taints      []Taint
	Allocatable Amount
	Allocated   Amount
}

// Taint is the devices.taints element (see shared/devicequery.Taint).
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// Totals is the whole arithmetic of one collection.
type Totals struct {
	Pools []PoolTotals
	Nodes []NodeTotals // by name
	// Skipped explains pools that were not collected (e.g. a bad selector).
	Skipped map[int64]string
	// PodsCounted is how many non-terminal, bound pods were summed.
	PodsCounted int
}

// Compute groups nodes into pools by each pool's label selector and sums
// allocatable as capacity, the bound non-terminal pods' requests as
// allocated, and usage (nil map: metrics not served). A node matching
// several pools counts in each (pools should not overlap; the drift view
// is where an operator sees it). A pool with an empty selector would take
// every node, so it is skipped rather than guessed.
func Compute(pools []Pool, nodes []corev1.Node, pods []corev1.Pod, usage map[string]Amount) Totals {
	t := Totals{Skipped: map[int64]string{}}
	alloc := make(map[string]Amount, len(nodes))
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName == "" || Terminal(p) {
			continue
		}
		alloc[p.Spec.NodeName] = alloc[p.Spec.NodeName].add(PodRequests(p))
		t.PodsCounted++
	}
	sorted := make([]*corev1.Node, len(nodes))
	for i := range nodes {
		sorted[i] = &nodes[i]
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, n := range sorted {
		nt := NodeTotals{Name: n.Name, Labels: n.Labels, Allocatable: amountOf(n.Status.Allocatable), Allocated: alloc[n.Name]}
		if nt.Labels == nil {
			nt.Labels = map[string]string{}
		}
		nt.Taints = make([]Taint, 0, len(n.Spec.Taints))
		for _, tn := range n.Spec.Taints {
			nt.Taints = append(nt.Taints, Taint{Key: tn.Key, Value: tn.Value, Effect: string(tn.Effect)})
		}
		t.Nodes = append(t.Nodes, nt)
	}
	for _, pl := range pools {
		if pl.Selector == "" {
			t.Skipped[pl.ID] = "pool " + pl.Name + " has no node selector"
			continue
		}
		sel, err := labels.Parse(pl.Selector)
		if err != nil {
			t.Skipped[pl.ID] = "pool " + pl.Name + ": node selector: " + err.Error()
			continue
		}
		pt := PoolTotals{PoolID: pl.ID, Nodes: []string{}}
		var use Amount
		useOK := usage != nil
		for _, n := range t.Nodes {
			if !sel.Matches(labels.Set(n.Labels)) {
				continue
			}
			pt.Nodes = append(pt.Nodes, n.Name)
			pt.Capacity = pt.Capacity.add(n.Allocatable)
			pt.Allocated = pt.Allocated.add(n.Allocated)
			if u, ok := usage[n.Name]; ok {
				use = use.add(u)
			} else {
				useOK = false
			}
		}
		if useOK {
			pt.Usage = &use
		}
		t.Pools = append(t.Pools, pt)
	}
	return t
}

// parseQuantity reads a metrics.k8s.io quantity string.
func parseQuantity(s string) (resource.Quantity, error) { return resource.ParseQuantity(s) }
