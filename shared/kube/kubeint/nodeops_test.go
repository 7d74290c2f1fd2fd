// Package kubeint tests shared/kube against a real kube-apiserver; it is a
// package of its own so the pure table tests of shared/kube run without one.
package kubeint

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

type fixture struct {
	ctx context.Context
	cs  kubernetes.Interface
	c   *kube.Cluster
}

func newFixture(t *testing.T) *fixture {
	cfg := kubetest.Start(t)
	c, err := kube.NewCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ctx: context.Background(), cs: kubernetes.NewForConfigOrDie(cfg), c: c}
}

func (f *fixture) objects() kubetest.Objects { return kubetest.Objects{Ctx: f.ctx, CS: f.cs} }

func (f *fixture) node(t *testing.T, name string, labels map[string]string, unschedulable bool, taints ...corev1.Taint) {
	f.objects().Node(t, name, labels, unschedulable, taints...)
}

func (f *fixture) get(t *testing.T, name string) *corev1.Node { return f.objects().GetNode(t, name) }

func (f *fixture) namespace(t *testing.T, name string) { f.objects().Namespace(t, name) }

func (f *fixture) runningPod(t *testing.T, ns, name, node string, labels map[string]string, mutate func(*corev1.Pod)) {
	f.objects().RunningPod(t, ns, name, node, labels, mutate)
}

func taintKeys(n *corev1.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key)
	}
	return out
}

func TestPoolEntry(t *testing.T) {
	f := newFixture(t)
	notReady := corev1.Taint{Key: kube.DefaultNotReadyTaint, Effect: corev1.TaintEffectNoSchedule}
	other := corev1.Taint{Key: "dedicated", Value: "ai", Effect: corev1.TaintEffectNoSchedule}
	f.node(t, "entry-1", map[string]string{"keep": "me"}, true, notReady, other)
	before := taintKeys(f.get(t, "entry-1")) // admission may add node.kubernetes.io/not-ready

	// Dry run: the steps are reported, nothing changes.
	steps, err := f.c.PoolEntry(f.ctx, "entry-1", map[string]string{"pool": "general"}, kube.OpOptions{DryRun: true})
	if err != nil || len(steps) != 3 {
		t.Fatalf("dry run: got %v, %v; want label, untaint, uncordon", steps, err)
	}
	if n := f.get(t, "entry-1"); !n.Spec.Unschedulable || n.Labels["pool"] != "" {
		t.Fatalf("dry run changed the node: %+v", n)
	}

	steps, err = f.c.PoolEntry(f.ctx, "entry-1", map[string]string{"pool": "general"}, kube.OpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []kube.Step{{Node: "entry-1", Action: "label", Detail: "pool=general"}, {Node: "entry-1", Action: "untaint", Detail: kube.DefaultNotReadyTaint},
		{Node: "entry-1", Action: "uncordon"}}
	if d := cmp.Diff(want, steps); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
	n := f.get(t, "entry-1")
	var wantTaints []string
	for _, k := range before {
		if k != kube.DefaultNotReadyTaint {
			wantTaints = append(wantTaints, k)
		}
	}
	if n.Spec.Unschedulable || cmp.Diff(map[string]string{"keep": "me", "pool": "general"}, n.Labels) != "" || cmp.Diff(wantTaints, taintKeys(n)) != "" {
		t.Errorf("got labels %v, taints %v, unschedulable %v; want pool label added, only %s removed, schedulable",
			n.Labels, taintKeys(n), n.Spec.Unschedulable, kube.DefaultNotReadyTaint)
	}
	// Idempotent: a second run does nothing.
	if steps, err := f.c.PoolEntry(f.ctx, "entry-1", map[string]string{"pool": "general"}, kube.OpOptions{}); err != nil || len(steps) != 0 {
		t.Errorf("re-run: got %v, %v; want no steps", steps, err)
	}
}

func TestPoolExitAndUncordon(t *testing.T) {
	f := newFixture(t)
	f.node(t, "exit-1", map[string]string{"pool": "general", "keep": "me"}, false)
	f.namespace(t, "exit")
	f.runningPod(t, "exit", "app", "exit-1", nil, nil)
	ctrl := true
	f.runningPod(t, "exit", "ds", "exit-1", nil, func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: "u1", Controller: &ctrl}}
	})
	f.runningPod(t, "exit", "static", "exit-1", nil, func(p *corev1.Pod) {
		p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
	})

	steps, err := f.c.PoolExit(f.ctx, "exit-1", map[string]string{"pool": "general"}, kube.OpOptions{DrainTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range steps {
		got[s.Action]++
	}
	if d := cmp.Diff(map[string]int{"cordon": 1, "evict": 1, "skip": 2, "unlabel": 1}, got); d != "" {
		t.Errorf("steps %v (-want +got):\n%s", steps, d)
	}
	n := f.get(t, "exit-1")
	if !n.Spec.Unschedulable || cmp.Diff(map[string]string{"keep": "me"}, n.Labels) != "" {
		t.Errorf("got unschedulable %v, labels %v; want cordoned, pool label gone", n.Spec.Unschedulable, n.Labels)
	}
	for name, wantDeleting := range map[string]bool{"app": true, "ds": false, "static": false} {
		p, err := f.cs.CoreV1().Pods("exit").Get(f.ctx, name, metav1.GetOptions{})
		deleting := err != nil || p.DeletionTimestamp != nil
		if deleting != wantDeleting {
			t.Errorf("pod %s: got evicted %v, want %v", name, deleting, wantDeleting)
		}
	}
	if steps, err := f.c.Uncordon(f.ctx, "exit-1", kube.OpOptions{}); err != nil || len(steps) != 1 || f.get(t, "exit-1").Spec.Unschedulable {
		t.Errorf("uncordon: got %v, %v", steps, err)
	}
}

func TestDrainBlockedByPDB(t *testing.T) {
	f := newFixture(t)
	f.node(t, "maint-1", nil, false)
	f.namespace(t, "db")
	f.runningPod(t, "db", "db-0", "maint-1", map[string]string{"app": "db"}, nil)
	one := intstr.FromInt32(1)
	pdb, err := f.cs.PolicyV1().PodDisruptionBudgets("db").Create(f.ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setAllowed := func(n int32) {
		t.Helper()
		p, err := f.cs.PolicyV1().PodDisruptionBudgets("db").Get(f.ctx, pdb.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: p.Generation, DisruptionsAllowed: n,
			CurrentHealthy: 1, DesiredHealthy: 1 - n + 1, ExpectedPods: 1}
		if _, err := f.cs.PolicyV1().PodDisruptionBudgets("db").UpdateStatus(f.ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	setAllowed(0)

	opts := kube.OpOptions{DrainTimeout: 2 * time.Second, EvictRetry: 200 * time.Millisecond}
	// Dry run reports the block at once, and changes nothing.
	if _, err := f.c.Maintain(f.ctx, "maint-1", kube.OpOptions{DryRun: true}); !errors.Is(err, kube.ErrDrainBlocked) {
		t.Fatalf("dry run: got %v, want kube.ErrDrainBlocked", err)
	}
	if f.get(t, "maint-1").Spec.Unschedulable {
		t.Fatal("dry run cordoned the node")
	}
	_, err = f.c.Maintain(f.ctx, "maint-1", opts)
	if !errors.Is(err, kube.ErrDrainBlocked) || !strings.Contains(err.Error(), "timed out after 2s") {
		t.Fatalf("got %v, want kube.ErrDrainBlocked after the 2s drain timeout", err)
	}
	t.Logf("blocked drain reports: %v", err)
	if !f.get(t, "maint-1").Spec.Unschedulable {
		t.Error("the node should stay cordoned after a blocked drain")
	}
	if p, _ := f.cs.CoreV1().Pods("db").Get(f.ctx, "db-0", metav1.GetOptions{}); p.DeletionTimestamp != nil {
		t.Error("the PDB-protected pod was evicted")
	}

	// The budget allows it now: re-running continues where it stopped.
	setAllowed(1)
	steps, err := f.c.Maintain(f.ctx, "maint-1", opts)
	if err != nil || cmp.Diff([]kube.Step{{Node: "maint-1", Action: "evict", Detail: "db/db-0"}}, steps) != "" {
		t.Errorf("re-run: got %v, %v; want only the eviction", steps, err)
	}
}
