package postgres_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

type orderWorld struct {
	db              *pgxpool.Pool
	cluster, pool   int64
	idle1, idle2    int64
	pooled, retired int64
}

func newOrderWorld(t *testing.T) orderWorld {
	t.Helper()
	ctx := context.Background()
	w := orderWorld{db: pgtest.NewPool(t)}
	err := w.db.QueryRow(ctx, `WITH c AS (INSERT INTO clusters (name, idc) VALUES ('c1', 'bj1') RETURNING id)
		INSERT INTO resource_pools (cluster_id, name, pool_type) SELECT id, 'general', 'general' FROM c RETURNING cluster_id, id`).Scan(&w.cluster, &w.pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		id      *int64
		host    string
		status  string
		inPool  bool
		idcName string
	}{{&w.idle1, "i1", "idle", false, "bj1"}, {&w.idle2, "i2", "idle", false, "bj1"}, {&w.pooled, "p1", "in_pool", true, "bj1"}, {&w.retired, "r1", "retired", false, "bj1"}} {
		var cl, pl *int64
		if d.inPool {
			cl, pl = &w.cluster, &w.pool
		}
		if err := w.db.QueryRow(ctx, "INSERT INTO devices (hostname, status, cluster_id, pool_id, idc) VALUES ($1, $2, $3, $4, $5) RETURNING id",
			d.host, d.status, cl, pl, d.idcName).Scan(d.id); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w orderWorld) create(t *testing.T, n postgres.NewOrder) (postgres.Order, error) {
	t.Helper()
	var o postgres.Order
	err := postgres.InTx(context.Background(), w.db, func(tx pgx.Tx) error {
		var err error
		o, err = postgres.CreateOrder(context.Background(), tx, n)
		return err
	})
	return o, err
}

func TestCreateOrder(t *testing.T) {
	w := newOrderWorld(t)
	ctx := context.Background()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	o, err := w.create(t, postgres.NewOrder{ActionType: "pool_entry", ClusterID: &w.cluster, PoolID: &w.pool,
		DeviceIDs: []int64{w.idle1, w.idle2}, CreatedBy: "evaluate", Now: time.Date(2026, 11, 30, 1, 0, 0, 0, loc)})
	if err != nil {
		t.Fatal(err)
	}
	if o.OrderNumber != "EP-20261130-000001" || o.DeviceCount != 2 || o.Status != "pending" || o.Version != 1 || o.CreatedBy != "evaluate" {
		t.Fatalf("created %+v", o)
	}
	var roles []string
	rows, _ := w.db.Query(ctx, "SELECT role || ':' || status || ':' || active FROM order_devices WHERE order_id = $1 ORDER BY device_id", o.ID)
	roles, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"add:pending:true", "add:pending:true"}; !slices.Equal(roles, want) {
		t.Fatalf("order_devices %v, want %v", roles, want)
	}
	var audits int
	if err := w.db.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE action = 'order.create' AND target_id = $1", itoa(o.ID)).Scan(&audits); err != nil || audits != 1 {
		t.Fatalf("audit rows %d (%v), want 1", audits, err)
	}

	// the held device is refused, naming the holder
	_, err = w.create(t, postgres.NewOrder{ActionType: "pool_entry", ClusterID: &w.cluster, PoolID: &w.pool, DeviceIDs: []int64{w.idle2}})
	var held *postgres.DevicesHeldError
	if !errors.As(err, &held) || !errors.Is(err, postgres.ErrConflict) || len(held.Devices) != 1 || held.Devices[0].OrderNumber != o.OrderNumber {
		t.Fatalf("got %v, want a DevicesHeldError naming %s", err, o.OrderNumber)
	}
	// unsuitable devices and a foreign pool are input errors
	var other int64
	if err := w.db.QueryRow(ctx, "INSERT INTO clusters (name) VALUES ('c2') RETURNING id").Scan(&other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		n     postgres.NewOrder
		field string
	}{
		{"exit of an idle device", postgres.NewOrder{ActionType: "pool_exit", ClusterID: &w.cluster, PoolID: &w.pool, DeviceIDs: []int64{w.pooled, w.retired}}, "deviceIds[1]"},
		{"entry of a pooled device", postgres.NewOrder{ActionType: "pool_entry", ClusterID: &w.cluster, PoolID: &w.pool, DeviceIDs: []int64{w.pooled}}, "deviceIds[0]"},
		{"maintenance of a retired device", postgres.NewOrder{ActionType: "maintenance", DeviceIDs: []int64{w.retired}}, "deviceIds[0]"},
		{"pool of another cluster", postgres.NewOrder{ActionType: "pool_entry", ClusterID: &other, PoolID: &w.pool, DeviceCount: 1}, "poolId"},
		{"unknown type", postgres.NewOrder{ActionType: "grow"}, "actionType"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.create(t, tc.n)
			var inv *postgres.InvalidOrderError
			if !errors.As(err, &inv) || len(inv.Problems) != 1 || inv.Problems[0].Field != tc.field {
				t.Fatalf("got %v, want one problem at %s", err, tc.field)
			}
		})
	}
	// past 999,999 the number grows a digit instead of being cut to six
	if _, err := w.db.Exec(ctx, "SELECT setval('order_number_seq', 999999)"); err != nil {
		t.Fatal(err)
	}
	big, err := w.create(t, postgres.NewOrder{ActionType: "pool_exit", ClusterID: &w.cluster, PoolID: &w.pool, DeviceCount: 1,
		Now: time.Date(2026, 11, 30, 1, 0, 0, 0, loc)})
	if err != nil || big.OrderNumber != "EP-20261130-1000000" {
		t.Fatalf("order number after 999999: %q (%v)", big.OrderNumber, err)
	}
	// the idempotency key makes a duplicate strategy order impossible
	key := "1:2:3:2026-11-30"
	if _, err := w.create(t, postgres.NewOrder{ActionType: "pool_exit", ClusterID: &w.cluster, PoolID: &w.pool, DeviceCount: 1, IdempotencyKey: &key}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.create(t, postgres.NewOrder{ActionType: "pool_exit", ClusterID: &w.cluster, PoolID: &w.pool, DeviceCount: 1, IdempotencyKey: &key}); !errors.Is(err, postgres.ErrConflict) {
		t.Fatalf("duplicate key: got %v, want ErrConflict", err)
	}
}

func TestTransitionOrder(t *testing.T) {
	w := newOrderWorld(t)
	ctx := context.Background()
	o, err := w.create(t, postgres.NewOrder{ActionType: "pool_entry", ClusterID: &w.cluster, PoolID: &w.pool, DeviceIDs: []int64{w.idle1}, CreatedBy: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := postgres.TransitionOrder(ctx, w.db, o.ID, "processing", 5, "ann", ""); !errors.Is(err, postgres.ErrStale) {
		t.Fatalf("stale version: got %v", err)
	}
	_, _, err = postgres.TransitionOrder(ctx, w.db, o.ID, "completed", 1, "ann", "")
	var refused *postgres.TransitionRefusedError
	if !errors.As(err, &refused) || !errors.Is(err, orderflow.ErrNotAllowed) || !slices.Equal(refused.Allowed, []string{"processing", "ignored", "cancelled"}) {
		t.Fatalf("refused: got %v", err)
	}
	if _, _, err := postgres.TransitionOrder(ctx, w.db, 999999, "processing", 0, "ann", ""); !errors.Is(err, postgres.ErrNotFound) {
		t.Fatalf("missing order: got %v", err)
	}
	before, after, err := postgres.TransitionOrder(ctx, w.db, o.ID, "processing", 0, "system", "") // 0: no version check
	if err != nil {
		t.Fatal(err)
	}
	if before.Status != "pending" || after.Status != "processing" || after.Executor != "system" || after.ExecutionTime == nil || after.Version != 2 {
		t.Fatalf("before %+v after %+v", before, after)
	}
	if _, _, err := postgres.TransitionOrder(ctx, w.db, o.ID, "failed", 2, "ann", " "); !errors.Is(err, postgres.ErrReasonRequired) {
		t.Fatalf("fail without reason: got %v", err)
	}
	// two writers with the same version: exactly one wins
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, to := range []string{"completed", "failed"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = postgres.TransitionOrder(ctx, w.db, o.ID, to, 2, "ann", "reason")
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], postgres.ErrStale) || errors.Is(errs[1], postgres.ErrStale)) {
		t.Fatalf("concurrent transitions: %v", errs)
	}
}

func TestTransitionOrderDeviceEffects(t *testing.T) {
	w := newOrderWorld(t)
	ctx := context.Background()
	entry, err := w.create(t, postgres.NewOrder{ActionType: "pool_entry", ClusterID: &w.cluster, PoolID: &w.pool, DeviceIDs: []int64{w.idle1, w.idle2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"processing", "completed"} {
		if _, _, err := postgres.TransitionOrder(ctx, w.db, entry.ID, to, 0, "ann", ""); err != nil {
			t.Fatal(err)
		}
	}
	devState := func(id int64) string {
		var s string
		if err := w.db.QueryRow(ctx, "SELECT status || ':' || coalesce(pool_id::text, '-') FROM devices WHERE id = $1", id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	pool := "in_pool:" + itoa(w.pool)
	if devState(w.idle1) != pool || devState(w.idle2) != pool {
		t.Fatalf("after entry: %s, %s", devState(w.idle1), devState(w.idle2))
	}
	exit, err := w.create(t, postgres.NewOrder{ActionType: "pool_exit", ClusterID: &w.cluster, PoolID: &w.pool, DeviceIDs: []int64{w.pooled, w.idle1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"processing", "completed"} {
		if _, _, err := postgres.TransitionOrder(ctx, w.db, exit.ID, to, 0, "ann", ""); err != nil {
			t.Fatal(err)
		}
	}
	if devState(w.pooled) != "idle:-" || devState(w.idle1) != "idle:-" || devState(w.idle2) != pool {
		t.Fatalf("after exit: %s %s %s", devState(w.pooled), devState(w.idle1), devState(w.idle2))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCreateOrderInPool(t *testing.T) {
	w := newOrderWorld(t)
	ctx := postgres.WithRequestID(context.Background(), "req-1")
	// one statement: order and audit row together
	o, names, err := postgres.CreateOrderInPool(ctx, w.db, postgres.NewOrder{ActionType: "pool_exit", ClusterID: &w.cluster, PoolID: &w.pool,
		DeviceCount: 3, Reason: "manual", CreatedBy: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if o.DeviceCount != 3 || o.CreatedBy != "ann" || names.Cluster == nil || *names.Cluster != "c1" || *names.Pool != "general" || names.Strategy != nil {
		t.Fatalf("created %+v names %+v", o, names)
	}
	var after map[string]any
	var req string
	if err := w.db.QueryRow(ctx, "SELECT after, request_id FROM audit_log WHERE action = 'order.create' AND target_id = $1", itoa(o.ID)).Scan(&after, &req); err != nil {
		t.Fatal(err)
	}
	if after["orderNumber"] != o.OrderNumber || after["deviceCount"] != float64(3) || after["status"] != "pending" || req != "req-1" {
		t.Fatalf("audit after %v request %q", after, req)
	}
	// with devices: the transactional path
	o2, _, err := postgres.CreateOrderInPool(ctx, w.db, postgres.NewOrder{ActionType: "pool_exit", ClusterID: &w.cluster, PoolID: &w.pool,
		DeviceIDs: []int64{w.pooled}, CreatedBy: "ann"})
	if err != nil || o2.DeviceCount != 1 {
		t.Fatalf("with devices: %+v, %v", o2, err)
	}
	// a pool of another cluster falls back to the checks for a precise error, writing nothing
	var other int64
	if err := w.db.QueryRow(ctx, "INSERT INTO clusters (name) VALUES ('c2') RETURNING id").Scan(&other); err != nil {
		t.Fatal(err)
	}
	_, _, err = postgres.CreateOrderInPool(ctx, w.db, postgres.NewOrder{ActionType: "pool_exit", ClusterID: &other, PoolID: &w.pool, DeviceCount: 1})
	var inv *postgres.InvalidOrderError
	if !errors.As(err, &inv) || inv.Problems[0].Field != "poolId" {
		t.Fatalf("foreign pool: %v", err)
	}
	var n int
	if err := w.db.QueryRow(ctx, "SELECT count(*) FROM elastic_scaling_orders").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d orders (%v), want 2", n, err)
	}
}
