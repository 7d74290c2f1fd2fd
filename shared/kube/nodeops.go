package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DefaultNotReadyTaint is the taint a node carries until it is admitted to
// a pool (NODE_NOT_READY_TAINT); pool_entry removes it.
const DefaultNotReadyTaint = "elasticpool.io/not-ready-for-pool"

// OpOptions tune the node operations.
type OpOptions struct {
	// DryRun sends every write with dryRun=All: the server validates and
	// answers (PDBs included) without changing anything.
	DryRun bool
	// NotReadyTaint is the taint key pool_entry removes (default DefaultNotReadyTaint).
	NotReadyTaint string
	// DrainTimeout bounds one node's drain (default 5 min).
	DrainTimeout time.Duration
	// EvictRetry is the wait between evictions refused by a PDB (default 5s).
	EvictRetry time.Duration
}

func (o OpOptions) withDefaults() OpOptions {
	if o.NotReadyTaint == "" {
		o.NotReadyTaint = DefaultNotReadyTaint
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 5 * time.Minute
	}
	if o.EvictRetry <= 0 {
		o.EvictRetry = 5 * time.Second
	}
	return o
}

// Step is one thing an operation did (or, dry-run, would do).
type Step struct {
	Node   string `json:"node"`
	Action string `json:"action"` // label, unlabel, untaint, cordon, uncordon, evict, skip
	Detail string `json:"detail,omitempty"`
}

// ErrDrainBlocked is returned when evictions were refused until the drain timed out.
var ErrDrainBlocked = errors.New("drain blocked")

// nodePatch is the desired change of one node; nil fields are left alone.
type nodePatch struct {
	setLabels     map[string]string
	removeLabels  []string
	removeTaint   string
	unschedulable *bool
}

// apply compares the node with p and sends one merge patch with only what
// differs (nothing when the node is already there: re-running is a no-op).
// The patch carries the resourceVersion, so a concurrent change is a 409
// and the read-compare-patch is retried.
func (c *Cluster) apply(ctx context.Context, name string, p nodePatch, o OpOptions) ([]Step, error) {
	for attempt := 0; ; attempt++ {
		n, err := c.GetNode(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", name, err)
		}
		var steps []Step
		meta := map[string]any{"resourceVersion": n.ResourceVersion}
		spec := map[string]any{}
		labels := map[string]any{}
		keys := make([]string, 0, len(p.setLabels))
		for k := range p.setLabels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, ok := n.Labels[k]; !ok || v != p.setLabels[k] {
				labels[k] = p.setLabels[k]
				steps = append(steps, Step{Node: name, Action: "label", Detail: k + "=" + p.setLabels[k]})
			}
		}
		for _, k := range p.removeLabels {
			if _, ok := n.Labels[k]; ok {
				labels[k] = nil
				steps = append(steps, Step{Node: name, Action: "unlabel", Detail: k})
			}
		}
		if len(labels) > 0 {
			meta["labels"] = labels
		}
		if p.removeTaint != "" {
			kept := make([]corev1.Taint, 0, len(n.Spec.Taints))
			for _, t := range n.Spec.Taints {
				if t.Key != p.removeTaint {
					kept = append(kept, t)
				}
			}
			if len(kept) != len(n.Spec.Taints) {
				spec["taints"] = kept
				steps = append(steps, Step{Node: name, Action: "untaint", Detail: p.removeTaint})
			}
		}
		if p.unschedulable != nil && n.Spec.Unschedulable != *p.unschedulable {
			spec["unschedulable"] = *p.unschedulable
			action := "uncordon"
			if *p.unschedulable {
				action = "cordon"
			}
			steps = append(steps, Step{Node: name, Action: action})
		}
		if len(steps) == 0 {
			return nil, nil
		}
		body := map[string]any{"metadata": meta}
		if len(spec) > 0 {
			body["spec"] = spec
		}
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		_, err = c.PatchNode(ctx, name, types.MergePatchType, data, o.DryRun)
		if apierrors.IsConflict(err) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("patch node %s: %w", name, err)
		}
		return steps, nil
	}
}

var (
	yes = true
	no  = false
)

// PoolEntry admits a joined node to a pool: the pool's labels, the
// not-ready-for-pool taint removed, uncordoned.
func (c *Cluster) PoolEntry(ctx context.Context, node string, poolLabels map[string]string, o OpOptions) ([]Step, error) {
	o = o.withDefaults()
	return c.apply(ctx, node, nodePatch{setLabels: poolLabels, removeTaint: o.NotReadyTaint, unschedulable: &no}, o)
}

// PoolExit takes a node out: cordon, drain, then the pool's labels removed.
// A blocked drain leaves the node cordoned with its labels (re-run continues).
func (c *Cluster) PoolExit(ctx context.Context, node string, poolLabels map[string]string, o OpOptions) ([]Step, error) {
	steps, err := c.Maintain(ctx, node, o)
	if err != nil {
		return steps, err
	}
	keys := make([]string, 0, len(poolLabels))
	for k := range poolLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	more, err := c.apply(ctx, node, nodePatch{removeLabels: keys}, o.withDefaults())
	return append(steps, more...), err
}

// Maintain is the maintenance confirmation: cordon and drain.
func (c *Cluster) Maintain(ctx context.Context, node string, o OpOptions) ([]Step, error) {
	o = o.withDefaults()
	steps, err := c.apply(ctx, node, nodePatch{unschedulable: &yes}, o)
	if err != nil {
		return steps, err
	}
	more, err := c.Drain(ctx, node, o)
	return append(steps, more...), err
}

// Uncordon makes a node schedulable again.
func (c *Cluster) Uncordon(ctx context.Context, node string, o OpOptions) ([]Step, error) {
	return c.apply(ctx, node, nodePatch{unschedulable: &no}, o.withDefaults())
}

// drainable says whether drain must evict p, and why not.
func drainable(p *corev1.Pod) (bool, string) {
	if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return false, "mirror pod"
	}
	for _, ref := range p.OwnerReferences {
		if ref.Controller != nil && *ref.Controller && ref.Kind == "DaemonSet" {
			return false, "DaemonSet pod"
		}
	}
	if Terminal(p) {
		return false, "finished"
	}
	if p.DeletionTimestamp != nil {
		return false, "already terminating"
	}
	return true, ""
}

// Drain evicts the node's pods through the Eviction API, so
// PodDisruptionBudgets are honoured, skipping DaemonSet and mirror pods.
// A refused eviction (429) is retried until DrainTimeout; then the drain
// fails with ErrDrainBlocked naming the pods and the server's reason. A pod
// counts as drained once it is gone or terminating: its graceful stop is
// the kubelet's business, and waiting for it would tie the order to the
// pods' grace periods.
func (c *Cluster) Drain(ctx context.Context, node string, o OpOptions) ([]Step, error) {
	o = o.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, o.DrainTimeout)
	defer cancel()
	var steps []Step
	skipped := map[string]bool{}
	// The refusals of the previous round: when the deadline expires during
	// the next list, they are still the reason the drain did not finish.
	var lastBlocked []string
	for {
		l, err := c.ListPods(ctx, metav1.NamespaceAll, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
		if err != nil {
			if ctx.Err() != nil && len(lastBlocked) > 0 {
				return steps, fmt.Errorf("%w: node %s: timed out after %s: %s", ErrDrainBlocked, node, o.DrainTimeout, strings.Join(lastBlocked, "; "))
			}
			return steps, fmt.Errorf("drain %s: list pods: %w", node, err)
		}
		var blocked []string
		pending := 0
		for i := range l.Items {
			p := &l.Items[i]
			id := p.Namespace + "/" + p.Name
			ok, why := drainable(p)
			if !ok {
				if !skipped[id] && why != "already terminating" {
					skipped[id] = true
					steps = append(steps, Step{Node: node, Action: "skip", Detail: id + " (" + why + ")"})
				}
				continue
			}
			pending++
			err := c.Evict(ctx, p.Namespace, p.Name, o.DryRun)
			switch {
			case err == nil:
				steps = append(steps, Step{Node: node, Action: "evict", Detail: id})
				pending--
			case apierrors.IsNotFound(err):
				pending--
			case apierrors.IsTooManyRequests(err):
				blocked = append(blocked, id+": "+err.Error())
			case ctx.Err() != nil:
				return steps, fmt.Errorf("%w: node %s: timed out after %s: %s", ErrDrainBlocked, node, o.DrainTimeout, strings.Join(append(blocked, id), "; "))
			default:
				return steps, fmt.Errorf("drain %s: evict %s: %w", node, id, err)
			}
		}
		// A dry run cannot wait for anything to change: report at once.
		if len(blocked) > 0 && o.DryRun {
			return steps, fmt.Errorf("%w: node %s: %s", ErrDrainBlocked, node, strings.Join(blocked, "; "))
		}
		if pending == 0 || o.DryRun {
			return steps, nil
		}
		lastBlocked = blocked
		select {
		case <-ctx.Done():
			return steps, fmt.Errorf("%w: node %s: timed out after %s: %s", ErrDrainBlocked, node, o.DrainTimeout, strings.Join(blocked, "; "))
		case <-time.After(o.EvictRetry):
		}
	}
}
