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
	"github.com/elasticpool/elasticpool/shared/pgtest"
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
	if err := db.QueryRow(ctx, `INSERT INTO elastic_scaling_orders (order_number, cluster_id, pool_id, action_type, status, device_count)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, number, cluster, pool, action, status, len(devs)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	role := map[string]string{"pool_entry": "add", "pool_exit": "remove"}[action]
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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
