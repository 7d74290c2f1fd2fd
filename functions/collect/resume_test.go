package collect

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"k8s.io/client-go/kubernetes"

	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/kubetest"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

func ping(at time.Time) cloudevents.Event {
	e := cloudevents.NewEvent()
	e.SetID("tick-" + at.Format(time.RFC3339))
	e.SetType(events.TypePing)
	e.SetSource("/apis/v1/namespaces/elasticpool/pingsources/hourly-collect")
	e.SetTime(at)
	return e
}

// addOrder inserts an order of cluster/pool holding one device per entry of
// devs (hostname, node_name, order_devices status).
func addOrder(t *testing.T, db *pgxpool.Pool, number, action, status string, cluster, pool int64, devs ...[3]string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	// A maintenance order has a ticket unique per external system.
	if err := db.QueryRow(ctx, `INSERT INTO elastic_scaling_orders (order_number, cluster_id, pool_id, action_type, status, device_count, external_ticket_id)
		VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $4 = 'maintenance' THEN $1 ELSE '' END) RETURNING id`,
		number, cluster, pool, action, status, len(devs)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	role := map[string]string{"pool_entry": "add", "pool_exit": "remove", "maintenance": "maintain", "uncordon": "uncordon"}[action]
	for _, d := range devs {
		var dev int64
		if err := db.QueryRow(ctx, `INSERT INTO devices (hostname, node_name) VALUES ($1, $2) RETURNING id`, d[0], d[1]).Scan(&dev); err != nil {
			t.Fatal(err)
		}
		mustExec(t, db, `INSERT INTO order_devices (order_id, device_id, role, status) VALUES ($1, $2, $3, $4)`, id, dev, role, d[2])
	}
	return id
}

// TestResumeWaitingOrders: after a collection, a processing pool_entry order
// with a pending device whose node (node_name, else hostname) is now in the
// cluster gets one order.execute, with an id that a redelivered ping repeats.
func TestResumeWaitingOrders(t *testing.T) {
	ctx := context.Background()
	cfg := kubetest.Start(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	db := pgtest.NewPool(t)
	kp := testKeeper(t)

	c := addCluster(t, db, kp, "resume", &clustercred.Credentials{Kubeconfig: kube.KubeconfigFor(cfg)})
	var pool int64
	if err := db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector) VALUES ($1, 'general', 'general', 'pool=general') RETURNING id`,
		c).Scan(&pool); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"rs-joined", "rs-other-host", "rs-f-node", "rs-not-processing", "rs-exit"} {
		makeNode(t, cs, n, nil, "4", "8Gi")
	}

	// One device done (its node absent: done devices do not count), one
	// pending whose node (by hostname) has joined: resumed.
	joined := addOrder(t, db, "EP-R-JOINED", "pool_entry", "processing", c, pool,
		[3]string{"rs-done", "rs-done", "done"}, [3]string{"rs-joined", "", "pending"})
	// node_name differs from the hostname and has joined: resumed.
	byNode := addOrder(t, db, "EP-R-NODENAME", "pool_entry", "processing", c, pool, [3]string{"rs-f", "rs-f-node", "pending"})
	// Still waiting: its node is absent.
	addOrder(t, db, "EP-R-ABSENT", "pool_entry", "processing", c, pool, [3]string{"rs-absent", "", "pending"})
	// node_name wins over the hostname (nodeexec's rule): the hostname's node
	// is there, the node_name's is not.
	addOrder(t, db, "EP-R-HOSTONLY", "pool_entry", "processing", c, pool, [3]string{"rs-other-host", "rs-other-node", "pending"})
	// Not processing.
	addOrder(t, db, "EP-R-PENDING", "pool_entry", "pending", c, pool, [3]string{"rs-not-processing", "", "pending"})
	// Not pool_entry.
	addOrder(t, db, "EP-R-EXIT", "pool_exit", "processing", c, pool, [3]string{"rs-exit", "", "pending"})

	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	rec := &events.Recorder{}
	f := New(Deps{DB: db, Keeper: kp, Now: func() time.Time { return at }, ClusterTimeout: 20 * time.Second, Emitter: rec})
	if err := f.Handle(ctx, ping(at)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	want := []events.Outgoing{
		{ID: "order-" + itoa(joined) + "-collect-20261201T030000Z", Type: events.TypeOrderExecute, Source: events.SourceCollect,
			Subject: "order/" + itoa(joined), Time: at,
			Data: events.OrderExecute{OrderID: joined, OrderNumber: "EP-R-JOINED", Action: "pool_entry", RequestedBy: "system"}},
		{ID: "order-" + itoa(byNode) + "-collect-20261201T030000Z", Type: events.TypeOrderExecute, Source: events.SourceCollect,
			Subject: "order/" + itoa(byNode), Time: at,
			Data: events.OrderExecute{OrderID: byNode, OrderNumber: "EP-R-NODENAME", Action: "pool_entry", RequestedBy: "system"}},
	}
	if d := cmp.Diff(want, rec.Sent()); d != "" {
		t.Fatalf("events after the first collection (-want +got):\n%s", d)
	}
	// The event carries what nodeops decodes.
	e, err := rec.Sent()[0].Event(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	var data events.OrderExecute
	if err := events.Decode(e, &data); err != nil || data.OrderID != joined {
		t.Errorf("decoded data: got %+v, %v; want order %d", data, err, joined)
	}

	// The same ping again (a redelivery): the same events, same ids.
	if err := f.Handle(ctx, ping(at)); err != nil {
		t.Fatalf("Handle again: %v", err)
	}
	if d := cmp.Diff(append(want, want...), rec.Sent()); d != "" {
		t.Errorf("events after collecting twice (-want +got):\n%s", d)
	}

	// An emit failure is logged, not the collection's failure.
	failing := &events.Recorder{Err: errors.New("sink down")}
	later := at.Add(time.Hour)
	f = New(Deps{DB: db, Keeper: kp, Now: func() time.Time { return later }, ClusterTimeout: 20 * time.Second, Emitter: failing})
	if err := f.Handle(ctx, ping(later)); err != nil {
		t.Fatalf("Handle with a failing sink: %v", err)
	}
	r, err := f.CollectCluster(ctx, c)
	if err != nil || r.Status != clustercred.StatusOK {
		t.Errorf("collect now with a failing sink: got %+v, %v; want ok", r, err)
	}
	var status string
	var succeeded time.Time
	if err := db.QueryRow(ctx, `SELECT status, succeeded_at FROM cluster_collections WHERE cluster_id = $1`, c).Scan(&status, &succeeded); err != nil ||
		status != "ok" || !succeeded.Equal(later) {
		t.Errorf("collection with a failing sink: got %s at %s (%v), want ok at %s", status, succeeded, err, later)
	}
}

// idleFor makes every row of order id look last changed ago.
func idleFor(t *testing.T, db *pgxpool.Pool, id int64, ago time.Duration) {
	t.Helper()
	mustExec(t, db, `UPDATE order_devices SET updated_at = now() - make_interval(secs => $2) WHERE order_id = $1`, id, ago.Seconds())
}

// TestResumeStalledOrders: after a collection, an executable order of the
// cluster with a device a run has not finished, whose rows have all been
// unchanged for longer than a run of its size can last
// (nodeexec.Limits.StallAfter: 9 min for one round with the defaults), gets
// one order.execute, unless a run holds its lock.
func TestResumeStalledOrders(t *testing.T) {
	ctx := context.Background()
	cfg := kubetest.Start(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	db := pgtest.NewPool(t)
	kp := testKeeper(t)
	r := redistest.New(t)
	locks := lock.New(r.Client, r.Prefix)

	c := addCluster(t, db, kp, "stall", &clustercred.Credentials{Kubeconfig: kube.KubeconfigFor(cfg)})
	other := addCluster(t, db, kp, "stall-other", nil) // manual: not collected
	var pool, otherPool int64
	if err := db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector) VALUES ($1, 'general', 'general', 'pool=general') RETURNING id`,
		c).Scan(&pool); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector) VALUES ($1, 'general', 'general', 'pool=general') RETURNING id`,
		other).Scan(&otherPool); err != nil {
		t.Fatal(err)
	}
	makeNode(t, cs, "st-node", nil, "4", "8Gi")
	limits := nodeexec.Limits{} // the defaults, as nodeops runs with them
	stale := limits.StallAfter(1) + 5*time.Minute

	// Stalled: a device left processing (killed run, lost event).
	exit := addOrder(t, db, "EP-S-EXIT", "pool_exit", "processing", c, pool, [3]string{"st-exit", "", "processing"})
	idleFor(t, db, exit, stale)
	// Maintenance runs in maintenance_in_progress.
	maint := addOrder(t, db, "EP-S-MAINT", "maintenance", "maintenance_in_progress", c, pool, [3]string{"st-maint", "", "processing"})
	idleFor(t, db, maint, stale)
	// A pool_entry run killed before reaching a device whose node is absent.
	entry := addOrder(t, db, "EP-S-ENTRY", "pool_entry", "processing", c, pool,
		[3]string{"st-entry-a", "", "processing"}, [3]string{"st-entry-b", "", "done"})
	idleFor(t, db, entry, stale)
	// Pending in an order other than pool_entry: never operated (its cluster
	// was manual when it ran).
	uncordon := addOrder(t, db, "EP-S-UNCORDON", "uncordon", "processing", c, pool, [3]string{"st-uncordon", "", "pending"})
	idleFor(t, db, uncordon, stale)
	// A run holds the lock: left alone.
	locked := addOrder(t, db, "EP-S-LOCKED", "pool_exit", "processing", c, pool, [3]string{"st-locked", "", "processing"})
	idleFor(t, db, locked, stale)
	held, err := locks.Obtain(ctx, nodeexec.LockKey(locked), time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	// Not stalled:
	// within the threshold;
	fresh := addOrder(t, db, "EP-S-FRESH", "pool_exit", "processing", c, pool, [3]string{"st-fresh", "", "processing"})
	idleFor(t, db, fresh, limits.StallAfter(1)-2*time.Minute)
	// five devices are two rounds (16 min): 12 min of quiet is a run still going on;
	var five [][3]string
	for i := range 5 {
		five = append(five, [3]string{"st-big-" + strconv.Itoa(i), "", "processing"})
	}
	big := addOrder(t, db, "EP-S-BIG", "pool_exit", "processing", c, pool, five...)
	idleFor(t, db, big, limits.StallAfter(1)+3*time.Minute)
	// one device long unchanged but another just written: a run is going on;
	busy := addOrder(t, db, "EP-S-BUSY", "pool_exit", "processing", c, pool,
		[3]string{"st-busy-a", "", "processing"}, [3]string{"st-busy-b", "", "done"})
	idleFor(t, db, busy, stale)
	mustExec(t, db, `UPDATE order_devices SET updated_at = now() WHERE order_id = $1 AND status = 'done'`, busy)
	// a pool_entry device pending waits for its node (absent): no run would help;
	waiting := addOrder(t, db, "EP-S-WAITING", "pool_entry", "processing", c, pool, [3]string{"st-waiting", "", "pending"})
	idleFor(t, db, waiting, stale)
	// nothing left to do;
	done := addOrder(t, db, "EP-S-DONE", "pool_exit", "processing", c, pool, [3]string{"st-done", "", "done"}, [3]string{"st-failed", "", "failed"})
	idleFor(t, db, done, stale)
	// closed or not executable (rows left processing on purpose: the status decides);
	for _, s := range [][2]string{{"completed", "pool_exit"}, {"cancelled", "pool_exit"}, {"failed", "pool_exit"}, {"pending", "pool_exit"},
		{"processing", "maintenance"}, {"completed", "maintenance"}} {
		id := addOrder(t, db, "EP-S-"+s[0]+"-"+s[1], s[1], s[0], c, pool, [3]string{"st-" + s[0] + "-" + s[1], "", "processing"})
		idleFor(t, db, id, stale)
	}
	// another cluster's order.
	elsewhere := addOrder(t, db, "EP-S-ELSEWHERE", "pool_exit", "processing", other, otherPool, [3]string{"st-elsewhere", "", "processing"})
	idleFor(t, db, elsewhere, stale)

	at := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	rec := &events.Recorder{}
	f := New(Deps{DB: db, Keeper: kp, Now: func() time.Time { return at }, ClusterTimeout: 20 * time.Second, Emitter: rec,
		NodeOps: limits, Locks: locks})
	if err := f.Handle(ctx, ping(at)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	event := func(id int64, number, action string, at time.Time) events.Outgoing {
		return events.Outgoing{ID: "order-" + itoa(id) + "-collect-" + at.Format("20060102T150405Z"), Type: events.TypeOrderExecute,
			Source: events.SourceCollect, Subject: "order/" + itoa(id), Time: at,
			Data: events.OrderExecute{OrderID: id, OrderNumber: number, Action: action, RequestedBy: "system"}}
	}
	want := []events.Outgoing{
		event(exit, "EP-S-EXIT", "pool_exit", at),
		event(maint, "EP-S-MAINT", "maintenance", at),
		event(entry, "EP-S-ENTRY", "pool_entry", at),
		event(uncordon, "EP-S-UNCORDON", "uncordon", at),
	}
	if d := cmp.Diff(want, rec.Sent()); d != "" {
		t.Fatalf("events after the collection (-want +got):\n%s", d)
	}

	// The run holding the lock ends (without touching the rows: it was
	// killed): the next collection queues it, and the others again, since
	// nothing ran them.
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	next := at.Add(time.Hour)
	rec = &events.Recorder{}
	f = New(Deps{DB: db, Keeper: kp, Now: func() time.Time { return next }, ClusterTimeout: 20 * time.Second, Emitter: rec,
		NodeOps: limits, Locks: locks})
	if _, err := f.CollectCluster(ctx, c); err != nil {
		t.Fatalf("CollectCluster: %v", err)
	}
	var ids []string
	for _, e := range rec.Sent() {
		ids = append(ids, e.Subject)
	}
	wantIDs := []string{"order/" + itoa(exit), "order/" + itoa(maint), "order/" + itoa(entry), "order/" + itoa(uncordon), "order/" + itoa(locked)}
	if d := cmp.Diff(wantIDs, ids); d != "" {
		t.Errorf("orders queued by the next collection (-want +got):\n%s", d)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
