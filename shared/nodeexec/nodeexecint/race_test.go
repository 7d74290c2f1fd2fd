package nodeexecint

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
)

// waitFor polls cond until it holds or d passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A person fails the order by hand and retries it while a run is draining.
// The retry's order.execute arrives while that run holds the lock (ErrBusy,
// answered 200), and the run's own transition is refused as stale: unless
// the run notices the order was re-queued under it, nobody runs the retry
// and the order sits in processing for ever.
func TestRetryDuringRunIsNotLost(t *testing.T) {
	f := newFixture(t)
	held, heldNode := f.device(t, "race-held", "in_pool")
	f.node(t, heldNode, map[string]string{"pool": "general", "team": "infra"}, false)
	ns := f.namespace(t)
	f.runningPod(t, ns, "db-0", heldNode, map[string]string{"app": "db"}, nil)
	f.pdb(t, ns, "db")
	id := f.order(t, "pool_exit", []int64{held}, "processing")

	type result struct {
		res nodeplan.NodeOperations
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := f.x.Execute(f.ctx, id)
		done <- result{res, err}
	}()
	// The run is in the drain once the node is cordoned (2 s drain timeout).
	waitFor(t, 5*time.Second, "the run to cordon the node", func() bool { return f.get(t, heldNode).Spec.Unschedulable })

	f.move(t, id, "failed")
	f.move(t, id, "processing")
	retried := f.getOrder(t, id)
	// The retry's event: the first run still holds the lock.
	if _, err := f.x.Execute(f.ctx, id); !errors.Is(err, nodeplan.ErrBusy) {
		t.Fatalf("execution queued by the retry: got %v, want ErrBusy while the first run drains", err)
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the first run did not end")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	o := f.getOrder(t, id)
	if o.Version <= retried.Version || o.Status != "failed" || o.Executor != "system" || !strings.Contains(o.FailureReason, "disruption budget") {
		t.Errorf("order after the run: got %s v%d by %s (%q); want the retry run: failed by system with the budget's reason, after v%d",
			o.Status, o.Version, o.Executor, o.FailureReason, retried.Version)
	}
}

// A person completes the order by hand while a run drains: the run must not
// move it again nor write the released devices' rows.
func TestCompletedByHandDuringRun(t *testing.T) {
	f := newFixture(t)
	held, heldNode := f.device(t, "race-done", "in_pool")
	f.node(t, heldNode, map[string]string{"pool": "general", "team": "infra"}, false)
	ns := f.namespace(t)
	f.runningPod(t, ns, "db-0", heldNode, map[string]string{"app": "db"}, nil)
	f.pdb(t, ns, "db")
	id := f.order(t, "pool_exit", []int64{held}, "processing")

	done := make(chan error, 1)
	go func() {
		_, err := f.x.Execute(f.ctx, id)
		done <- err
	}()
	waitFor(t, 5*time.Second, "the run to cordon the node", func() bool { return f.get(t, heldNode).Spec.Unschedulable })
	f.move(t, id, "completed")
	before := f.getOrder(t, id)
	rowsBefore := f.rows(t, id)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end")
	}
	after := f.getOrder(t, id)
	if after.Status != "completed" || after.Version != before.Version || after.Executor != "tester" {
		t.Errorf("order: got %s v%d by %s; want left completed v%d by tester", after.Status, after.Version, after.Executor, before.Version)
	}
	if rows := f.rows(t, id); rows[heldNode] != rowsBefore[heldNode] {
		t.Errorf("released row rewritten by the run: %q → %q", rowsBefore[heldNode], rows[heldNode])
	}
	if s := f.deviceStatus(t, held); s != "idle" {
		t.Errorf("device: got %s, want idle (completed pool_exit)", s)
	}
}

// A run cut short in the middle of a drain (shutdown, or the lock's time up)
// leaves the device processing as interrupted, not failed with a drain
// timeout that never happened, and reports the interruption.
func TestInterruptedDrainIsNotAFailure(t *testing.T) {
	f := newFixture(t)
	x := f.executor(nodeexec.Deps{Options: kube.OpOptions{DrainTimeout: 20 * time.Second, EvictRetry: 200 * time.Millisecond}})
	held, heldNode := f.device(t, "cut-held", "in_pool")
	f.node(t, heldNode, map[string]string{"pool": "general", "team": "infra"}, false)
	ns := f.namespace(t)
	f.runningPod(t, ns, "db-0", heldNode, map[string]string{"app": "db"}, nil)
	f.pdb(t, ns, "db")
	id := f.order(t, "pool_exit", []int64{held}, "processing")

	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := x.Execute(ctx, id)
		done <- err
	}()
	waitFor(t, 5*time.Second, "the run to cordon the node", func() bool { return f.get(t, heldNode).Spec.Unschedulable })
	time.Sleep(300 * time.Millisecond) // into the drain's retries
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not stop")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want the interruption", err)
	}
	if row := f.rows(t, id)[heldNode]; !strings.HasPrefix(row, "processing: interrupted") {
		t.Errorf("row: got %q; want processing, interrupted (the drain did not time out)", row)
	}
	if o := f.getOrder(t, id); o.Status != "processing" {
		t.Errorf("order: got %s, want processing", o.Status)
	}
}
