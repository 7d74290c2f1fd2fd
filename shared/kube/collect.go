package kube

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/elasticpool/elasticpool/shared/clustercred"
)

// PageSize is the list page size: big enough for few round trips, small
// enough that one page of pods stays a few MB.
const PageSize = 500

// podSelector leaves out pods that hold no node resources: unscheduled and
// terminal ones. The fieldSelector is served by the API server's index.
const podSelector = "spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed"

// Inventory is what one collection read from a cluster.
type Inventory struct {
	Nodes []corev1.Node
	Pods  []corev1.Pod
	// Usage per node from metrics.k8s.io; nil when the API is not served.
	Usage map[string]Amount
	// UsageNote says why usage is empty, for the per-cluster status.
	UsageNote string
	// ResourceVersion of the pod list (the state the numbers describe).
	ResourceVersion string
}

// Read lists nodes and non-terminal bound pods (paged) and node metrics.
func Read(ctx context.Context, c *Cluster) (Inventory, error) {
	var inv Inventory
	nodes, _, err := listAll(ctx, func(o metav1.ListOptions) ([]corev1.Node, metav1.ListMeta, error) {
		l, err := c.ListNodes(ctx, o)
		if err != nil {
			return nil, metav1.ListMeta{}, err
		}
		return l.Items, l.ListMeta, nil
	}, "")
	if err != nil {
		return inv, fmt.Errorf("list nodes: %w", err)
	}
	pods, rv, err := listAll(ctx, func(o metav1.ListOptions) ([]corev1.Pod, metav1.ListMeta, error) {
		l, err := c.ListPods(ctx, metav1.NamespaceAll, o)
		if err != nil {
			return nil, metav1.ListMeta{}, err
		}
		return l.Items, l.ListMeta, nil
	}, podSelector)
	if err != nil {
		return inv, fmt.Errorf("list pods: %w", err)
	}
	inv.Nodes, inv.Pods, inv.ResourceVersion = nodes, pods, rv
	inv.Usage, inv.UsageNote = nodeUsage(ctx, c)
	return inv, nil
}

// listAll pages with limit/continue. Pages after the first are served from
// the first page's resourceVersion (a consistent snapshot); when that
// version is compacted mid-list (410 Expired) the list restarts once from
// the latest state rather than mixing two states.
func listAll[T any](ctx context.Context, list func(metav1.ListOptions) ([]T, metav1.ListMeta, error), fieldSelector string) ([]T, string, error) {
	for attempt := 0; ; attempt++ {
		var all []T
		opts := metav1.ListOptions{Limit: PageSize, FieldSelector: fieldSelector}
		var rv string
		var err error
		for {
			var items []T
			var meta metav1.ListMeta
			items, meta, err = list(opts)
			if err != nil {
				break
			}
			all = append(all, items...)
			if rv == "" {
				rv = meta.ResourceVersion
			}
			if meta.Continue == "" {
				return all, rv, nil
			}
			opts.Continue = meta.Continue
		}
		if apierrors.IsResourceExpired(err) && attempt == 0 {
			continue
		}
		return nil, "", err
	}
}

type nodeMetricsList struct {
	Items []struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Usage map[string]string `json:"usage"`
	} `json:"items"`
}

// nodeUsage reads metrics.k8s.io/v1beta1 NodeMetrics with a raw request, so
// the metrics client module is not linked. Not served → nil and a note.
func nodeUsage(ctx context.Context, c *Cluster) (map[string]Amount, string) {
	raw, err := c.Raw(ctx, "/apis/metrics.k8s.io/v1beta1/nodes")
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, "metrics.k8s.io is not served by this cluster; usage left empty"
		}
		return nil, "metrics.k8s.io unavailable (" + err.Error() + "); usage left empty"
	}
	var l nodeMetricsList
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, "metrics.k8s.io answered something unreadable; usage left empty"
	}
	out := make(map[string]Amount, len(l.Items))
	for _, it := range l.Items {
		cpu, err1 := parseQuantity(it.Usage["cpu"])
		mem, err2 := parseQuantity(it.Usage["memory"])
		if err1 != nil || err2 != nil {
			continue
		}
		out[it.Metadata.Name] = Amount{CPU: cpu.MilliValue(), Mem: mem.Value()}
	}
	return out, ""
}

// TestConnection asks the server its version and lists one page of nodes
// (the collector's least privilege: it must be able to list nodes).
func TestConnection(ctx context.Context, cfg *rest.Config) clustercred.ConnectionResult {
	c, err := NewCluster(cfg)
	if err != nil {
		return clustercred.ConnectionResult{Error: err.Error()}
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	raw, err := c.Raw(ctx, "/version")
	if err != nil {
		return clustercred.ConnectionResult{Error: "version: " + err.Error()}
	}
	_ = json.Unmarshal(raw, &v)
	l, err := c.ListNodes(ctx, metav1.ListOptions{Limit: PageSize})
	if err != nil {
		return clustercred.ConnectionResult{ServerVersion: v.GitVersion, Error: "list nodes: " + err.Error()}
	}
	return clustercred.ConnectionResult{OK: true, ServerVersion: v.GitVersion, Nodes: len(l.Items)}
}
