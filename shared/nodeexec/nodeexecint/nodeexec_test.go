package nodeexecint

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

func actions(d nodeplan.DeviceOperations) map[string]int {
	out := map[string]int{}
	for _, s := range d.Steps {
		out[s.Action]++
	}
	return out
}

func byHost(r nodeplan.NodeOperations) map[string]nodeplan.DeviceOperations {
	out := map[string]nodeplan.DeviceOperations{}
	for _, d := range r.Devices {
		out[d.Hostname] = d
	}
	return out
}

// pool_entry: exactly the pool's labels added, only the not-ready taint
// removed, uncordoned; a node not joined yet waits, and the order completes
// once it has joined and the order is re-executed.
func TestPoolEntry(t *testing.T) {
	f := newFixture(t)
	notReady := corev1.Taint{Key: kube.DefaultNotReadyTaint, Effect: corev1.TaintEffectNoSchedule}
	other := corev1.Taint{Key: "dedicated", Value: "ai", Effect: corev1.TaintEffectNoSchedule}
	a, nodeA := f.device(t, "entry-a", "idle")
	b, nodeB := f.device(t, "entry-b", "idle")
	f.node(t, nodeA, map[string]string{"keep": "me"}, true, notReady, other)
	taintsBefore := taintKeys(f.get(t, nodeA)) // admission may add node.kubernetes.io/not-ready
	id := f.order(t, "pool_entry", []int64{a, b}, "processing")

	res, err := f.x.Execute(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := byHost(res)
	if d := got[nodeA]; d.Status != "done" || cmp.Diff(map[string]int{"label": 2, "untaint": 1, "uncordon": 1}, actions(d)) != "" {
		t.Errorf("device A: got %s %q, steps %v; want done with 2 labels, untaint, uncordon", d.Status, d.Error, d.Steps)
	}
	if d := got[nodeB]; d.Status != "pending" || !strings.Contains(d.Error, "has not joined") {
		t.Errorf("device B: got %s %q; want pending, not joined", d.Status, d.Error)
	}
	n := f.get(t, nodeA)
	var wantTaints []string
	for _, k := range taintsBefore {
		if k != kube.DefaultNotReadyTaint {
			wantTaints = append(wantTaints, k)
		}
	}
	if n.Spec.Unschedulable || cmp.Diff(map[string]string{"keep": "me", "pool": "general", "team": "infra"}, n.Labels) != "" ||
		cmp.Diff(wantTaints, taintKeys(n)) != "" {
		t.Errorf("node A: got labels %v, taints %v, unschedulable %v; want the pool's labels added, only %s removed, schedulable",
			n.Labels, taintKeys(n), n.Spec.Unschedulable, kube.DefaultNotReadyTaint)
	}
	if o := f.getOrder(t, id); o.Status != "processing" || res.OrderStatus != "processing" {
		t.Errorf("order: got %s (result %s); want processing while B waits", o.Status, res.OrderStatus)
	}
	if rows := f.rows(t, id); rows[nodeA] != "done" || !strings.HasPrefix(rows[nodeB], "pending: node") {
		t.Errorf("order_devices: got %v", rows)
	}

	// B joins; re-executing leaves A alone and completes the order.
	rvA := f.get(t, nodeA).ResourceVersion
	f.node(t, nodeB, nil, true, notReady)
	res, err = f.x.Execute(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got = byHost(res)
	if len(got[nodeA].Steps) != 0 || f.get(t, nodeA).ResourceVersion != rvA {
		t.Errorf("re-run touched the done device A: steps %v", got[nodeA].Steps)
	}
	if got[nodeB].Status != "done" || res.OrderStatus != "completed" {
		t.Errorf("re-run: got B %s %q, order %s; want done, completed", got[nodeB].Status, got[nodeB].Error, res.OrderStatus)
	}
	if o := f.getOrder(t, id); o.Status != "completed" || o.Executor != nodeexec.Actor {
		t.Errorf("order: got %s by %s; want completed by system", o.Status, o.Executor)
	}
	for _, d := range []int64{a, b} {
		if s := f.deviceStatus(t, d); s != "in_pool" {
			t.Errorf("device %d: got %s, want in_pool", d, s)
		}
	}
	if ch := f.emitted.statusChanges(); len(ch) != 1 || ch[0].To != "completed" || ch[0].Actor != "system" {
		t.Errorf("emitted %+v; want one order.status.changed to completed by system", ch)
	}
	if n := f.auditCount(t, id, "order.operations"); n != 2 {
		t.Errorf("got %d order.operations audit rows, want 2 (one per run)", n)
	}
}

// pool_exit: cordon, drain (the app pod evicted, DaemonSet and mirror pods
// left), the pool's labels removed; the order completes and the device is idle.
func TestPoolExit(t *testing.T) {
	f := newFixture(t)
	d, node := f.device(t, "exit-a", "in_pool")
	f.node(t, node, map[string]string{"pool": "general", "team": "infra", "keep": "me"}, false)
	ns := f.namespace(t)
	f.runningPod(t, ns, "app", node, nil, nil)
	ctrl := true
	f.runningPod(t, ns, "ds", node, nil, func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: "u1", Controller: &ctrl}}
	})
	f.runningPod(t, ns, "static", node, nil, func(p *corev1.Pod) {
		p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
	})
	id := f.order(t, "pool_exit", []int64{d}, "processing")

	res, err := f.x.Execute(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	dev := res.Devices[0]
	if dev.Status != "done" || cmp.Diff(map[string]int{"cordon": 1, "evict": 1, "skip": 2, "unlabel": 2}, actions(dev)) != "" {
		t.Errorf("device: got %s %q, steps %v", dev.Status, dev.Error, dev.Steps)
	}
	n := f.get(t, node)
	if !n.Spec.Unschedulable || cmp.Diff(map[string]string{"keep": "me"}, n.Labels) != "" {
		t.Errorf("node: got unschedulable %v, labels %v; want cordoned with the pool's labels gone", n.Spec.Unschedulable, n.Labels)
	}
	for pod, want := range map[string]bool{"app": true, "ds": false, "static": false} {
		if got := f.terminating(t, ns, pod); got != want {
			t.Errorf("pod %s: got evicted %v, want %v", pod, got, want)
		}
	}
	if o := f.getOrder(t, id); o.Status != "completed" || f.deviceStatus(t, d) != "idle" {
		t.Errorf("got order %s, device %s; want completed, idle", o.Status, f.deviceStatus(t, d))
	}
}

// Maintenance confirm cordons and drains and leaves the order in
// maintenance_in_progress; its uncordon order uncordons and completes.
func TestMaintenanceThenUncordon(t *testing.T) {
	f := newFixture(t)
	d, node := f.device(t, "maint-a", "in_pool")
	f.node(t, node, map[string]string{"pool": "general", "team": "infra"}, false)
	ns := f.namespace(t)
	f.runningPod(t, ns, "app", node, nil, nil)
	m := f.order(t, "maintenance", []int64{d}, "maintenance_in_progress")

	res, err := f.x.Execute(f.ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if dev := res.Devices[0]; dev.Status != "done" || cmp.Diff(map[string]int{"cordon": 1, "evict": 1}, actions(dev)) != "" {
		t.Errorf("device: got %s %q, steps %v; want cordon and one eviction", dev.Status, dev.Error, dev.Steps)
	}
	n := f.get(t, node)
	if !n.Spec.Unschedulable || !f.terminating(t, ns, "app") || cmp.Diff(map[string]string{"pool": "general", "team": "infra"}, n.Labels) != "" {
		t.Errorf("node: got unschedulable %v, labels %v; want cordoned, drained, labels kept", n.Spec.Unschedulable, n.Labels)
	}
	if o := f.getOrder(t, m); o.Status != "maintenance_in_progress" {
		t.Errorf("maintenance order: got %s, want maintenance_in_progress (its external system completes it)", o.Status)
	}

	// The external system completes: the follow-up uncordon order takes the device.
	f.move(t, m, "completed")
	var u int64
	f.exec(t, "SELECT id FROM elastic_scaling_orders WHERE idempotency_key = $1", []any{postgres.UncordonKey(m)}, &u)
	f.move(t, u, "processing")
	res, err = f.x.Execute(f.ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if dev := res.Devices[0]; dev.Status != "done" || cmp.Diff(map[string]int{"uncordon": 1}, actions(dev)) != "" {
		t.Errorf("uncordon: got %s %q, steps %v", dev.Status, dev.Error, dev.Steps)
	}
	if f.get(t, node).Spec.Unschedulable || f.getOrder(t, u).Status != "completed" || f.deviceStatus(t, d) != "in_pool" {
		t.Errorf("got unschedulable %v, order %s, device %s; want schedulable, completed, in_pool",
			f.get(t, node).Spec.Unschedulable, f.getOrder(t, u).Status, f.deviceStatus(t, d))
	}
}

// A PDB with disruptionsAllowed 0 blocks one node's drain: that device fails
// within the drain timeout with the PDB's reason, the order fails with it;
// once the PDB is gone the retried order continues with only that device.
func TestDrainBlockedByPDBThenRetry(t *testing.T) {
	f := newFixture(t)
	free, freeNode := f.device(t, "pdb-free", "in_pool")
	held, heldNode := f.device(t, "pdb-held", "in_pool")
	labels := map[string]string{"pool": "general", "team": "infra"}
	f.node(t, freeNode, labels, false)
	f.node(t, heldNode, labels, false)
	ns := f.namespace(t)
	f.runningPod(t, ns, "web", freeNode, nil, nil)
	f.runningPod(t, ns, "db-0", heldNode, map[string]string{"app": "db"}, nil)
	f.pdb(t, ns, "db")
	id := f.order(t, "pool_exit", []int64{free, held}, "processing")

	res, err := f.x.Execute(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := byHost(res)
	if got[freeNode].Status != "done" {
		t.Errorf("free device: got %s %q, want done", got[freeNode].Status, got[freeNode].Error)
	}
	h := got[heldNode]
	if h.Status != "failed" || !strings.Contains(h.Error, kube.ErrDrainBlocked.Error()) || !strings.Contains(h.Error, "disruption budget") {
		t.Errorf("held device: got %s %q; want failed, drain blocked by the disruption budget", h.Status, h.Error)
	}
	o := f.getOrder(t, id)
	if o.Status != "failed" || !strings.Contains(o.FailureReason, heldNode) || !strings.Contains(o.FailureReason, "disruption budget") || o.Executor != "system" {
		t.Errorf("order: got %s by %s, reason %q; want failed by system naming %s and the budget", o.Status, o.Executor, o.FailureReason, heldNode)
	}
	t.Logf("the order's failure reason: %s", o.FailureReason)
	rows := f.rows(t, id)
	if rows[freeNode] != "done" || !strings.HasPrefix(rows[heldNode], "failed: "+kube.ErrDrainBlocked.Error()) {
		t.Errorf("order_devices: got %v; want the free one done, the held one failed with the reason", rows)
	}
	if n := f.get(t, heldNode); !n.Spec.Unschedulable || n.Labels["pool"] != "general" || f.terminating(t, ns, "db-0") {
		t.Errorf("held node: got unschedulable %v, labels %v; want cordoned, labels kept, db-0 not evicted", n.Spec.Unschedulable, n.Labels)
	}
	if ch := f.emitted.statusChanges(); len(ch) != 1 || ch[0].To != "failed" || !strings.Contains(ch[0].Reason, "disruption budget") {
		t.Errorf("emitted %+v; want order.status.changed to failed with the reason", ch)
	}

	// The PDB goes away; a person retries; the run continues where it stopped.
	if err := f.cs.PolicyV1().PodDisruptionBudgets(ns).Delete(f.ctx, "db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.move(t, id, "processing")
	if rows := f.rows(t, id); rows[freeNode] != "done" || rows[heldNode] != "processing" {
		t.Errorf("after retry: got %v; want the done device still done", rows)
	}
	rvFree := f.get(t, freeNode).ResourceVersion
	res, err = f.x.Execute(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got = byHost(res)
	if len(got[freeNode].Steps) != 0 || f.get(t, freeNode).ResourceVersion != rvFree {
		t.Errorf("re-run touched the done device: steps %v", got[freeNode].Steps)
	}
	if d := got[heldNode]; d.Status != "done" || cmp.Diff(map[string]int{"evict": 1, "unlabel": 2}, actions(d)) != "" {
		t.Errorf("held device on re-run: got %s %q, steps %v; want done: the eviction and the labels only (already cordoned)", d.Status, d.Error, d.Steps)
	}
	if o := f.getOrder(t, id); o.Status != "completed" || f.deviceStatus(t, free) != "idle" || f.deviceStatus(t, held) != "idle" {
		t.Errorf("got order %s; want completed with both devices idle", o.Status)
	}
}

// A dry run reports the operations and the PDB block, and writes nothing:
// not the nodes, not the database.
func TestPreviewWritesNothing(t *testing.T) {
	f := newFixture(t)
	notReady := corev1.Taint{Key: kube.DefaultNotReadyTaint, Effect: corev1.TaintEffectNoSchedule}
	a, nodeA := f.device(t, "dry-a", "idle")
	f.node(t, nodeA, nil, true, notReady)
	entry := f.order(t, "pool_entry", []int64{a}) // pending: a preview comes before execute

	held, heldNode := f.device(t, "dry-held", "in_pool")
	f.node(t, heldNode, map[string]string{"pool": "general"}, false)
	ns := f.namespace(t)
	f.runningPod(t, ns, "db-0", heldNode, map[string]string{"app": "db"}, nil)
	f.pdb(t, ns, "db")
	exit := f.order(t, "pool_exit", []int64{held}, "processing")

	type snapshot struct {
		rvs    []string
		orders []postgres.Order
		rows   []map[string]string
		audit  int
	}
	snap := func() snapshot {
		var n int
		f.exec(t, "SELECT count(*) FROM audit_log", nil, &n)
		return snapshot{rvs: []string{f.get(t, nodeA).ResourceVersion, f.get(t, heldNode).ResourceVersion},
			orders: []postgres.Order{f.getOrder(t, entry), f.getOrder(t, exit)}, rows: []map[string]string{f.rows(t, entry), f.rows(t, exit)}, audit: n}
	}
	before := snap()

	res, err := f.x.Preview(f.ctx, entry)
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Devices[0]; !res.DryRun || d.Status != "done" || cmp.Diff(map[string]int{"label": 2, "untaint": 1, "uncordon": 1}, actions(d)) != "" {
		t.Errorf("entry preview: got %s %q, steps %v", d.Status, d.Error, d.Steps)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "would move the order to completed") {
		t.Errorf("entry preview notes %q; want what executing would do", res.Notes)
	}
	res, err = f.x.Preview(f.ctx, exit)
	if err != nil {
		t.Fatal(err)
	}
	// At once: a dry run reports the refusal instead of waiting out the drain timeout.
	if d := res.Devices[0]; d.Status != "failed" || !strings.Contains(d.Error, "disruption budget") || strings.Contains(d.Error, "timed out") {
		t.Errorf("exit preview: got %s %q; want failed by the budget at once, not after a timeout", d.Status, d.Error)
	}
	if after := snap(); !cmp.Equal(before, after, cmp.AllowUnexported(snapshot{})) {
		t.Errorf("a dry run changed something:\n%s", cmp.Diff(before, after, cmp.AllowUnexported(snapshot{})))
	}
	if _, err := f.x.Preview(f.ctx, 999999); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("preview of a missing order: got %v, want ErrNotFound", err)
	}
}

// Without credentials the cluster is in manual mode: nothing is done or written.
func TestManualMode(t *testing.T) {
	f := newFixture(t)
	f.exec(t, "UPDATE clusters SET credentials = NULL WHERE id = $1", []any{f.clusterID})
	d, _ := f.device(t, "manual-a", "in_pool")
	id := f.order(t, "pool_exit", []int64{d}, "processing")
	before := f.rows(t, id)
	res, err := f.x.Execute(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Manual || !strings.Contains(strings.Join(res.Notes, " "), "manual mode") || res.OrderStatus != "processing" {
		t.Errorf("got manual %v, notes %q, status %s; want manual mode said, order left processing", res.Manual, res.Notes, res.OrderStatus)
	}
	if after := f.rows(t, id); !cmp.Equal(before, after) || f.auditCount(t, id, "order.operations") != 0 {
		t.Errorf("manual mode wrote: rows %v → %v", before, after)
	}
}

// Only processing orders run; a second execution while one holds the lock is refused.
func TestNotExecutableAndBusy(t *testing.T) {
	f := newFixture(t)
	d, _ := f.device(t, "busy-a", "in_pool")
	pending := f.order(t, "pool_exit", []int64{d})
	if _, err := f.x.Execute(f.ctx, pending); !errors.Is(err, nodeplan.ErrNotExecutable) {
		t.Errorf("pending order: got %v, want ErrNotExecutable", err)
	}
	f.move(t, pending, "processing")
	if err := f.redis.Client.Set(f.ctx, f.redis.Prefix+"nodeops:order:"+fmt.Sprint(pending), "someone", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.x.Execute(f.ctx, pending); !errors.Is(err, nodeplan.ErrBusy) {
		t.Errorf("locked order: got %v, want ErrBusy", err)
	}
	if _, err := f.x.Execute(f.ctx, 999999); !errors.Is(err, postgres.ErrNotFound) {
		t.Errorf("missing order: got %v, want ErrNotFound", err)
	}
}

// A pool whose labels contradict its selector fails every device with the reason.
func TestBadPoolLabelsFailTheOrder(t *testing.T) {
	f := newFixture(t)
	f.exec(t, `UPDATE resource_pools SET node_labels = '{"pool": "gpu"}' WHERE id = $1`, []any{f.poolID})
	d, node := f.device(t, "badpool-a", "idle")
	f.node(t, node, nil, true)
	id := f.order(t, "pool_entry", []int64{d}, "processing")
	if _, err := f.x.Execute(f.ctx, id); err != nil {
		t.Fatal(err)
	}
	if o := f.getOrder(t, id); o.Status != "failed" || !strings.Contains(o.FailureReason, "requires pool=general") {
		t.Errorf("got %s %q; want failed naming the contradiction", o.Status, o.FailureReason)
	}
	if n := f.get(t, node); !n.Spec.Unschedulable || len(n.Labels) != 0 {
		t.Errorf("the node was changed: %v %v", n.Spec.Unschedulable, n.Labels)
	}
}
