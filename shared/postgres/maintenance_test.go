package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// maintFixture is a cluster with one pool and a device in it.
type maintFixture struct {
	db                      *pgxpool.Pool
	cluster, pool, deviceID int64
}

func newMaintFixture(t *testing.T, status string) maintFixture {
	t.Helper()
	ctx := context.Background()
	f := maintFixture{db: pgtest.NewPool(t)}
	if err := f.db.QueryRow(ctx, `INSERT INTO clusters (name, idc) VALUES ('c1', 'idc1') RETURNING id`).Scan(&f.cluster); err != nil {
		t.Fatal(err)
	}
	if err := f.db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type) VALUES ($1, 'general', 'general') RETURNING id`, f.cluster).Scan(&f.pool); err != nil {
		t.Fatal(err)
	}
	cluster, pool := &f.cluster, &f.pool
	if status == "idle" {
		cluster, pool = nil, nil
	}
	if err := f.db.QueryRow(ctx, `INSERT INTO devices (hostname, serial, idc, status, cluster_id, pool_id)
		VALUES ('node-1', 'SN1', 'idc1', $1, $2, $3) RETURNING id`, status, cluster, pool).Scan(&f.deviceID); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f maintFixture) createMaintenance(t *testing.T) postgres.Order {
	t.Helper()
	var o postgres.Order
	err := postgres.InTx(context.Background(), f.db, func(tx pgx.Tx) error {
		var err error
		o, err = postgres.CreateOrder(context.Background(), tx, postgres.NewOrder{ActionType: "maintenance",
			DeviceID: &f.deviceID, DeviceIDs: []int64{f.deviceID}, Reason: "disk", CreatedBy: "ext:itsm",
			ExternalSystem: "itsm", ExternalTicketID: "CHG-1"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (f maintFixture) device(t *testing.T) (status string, pool *int64) {
	t.Helper()
	if err := f.db.QueryRow(context.Background(), `SELECT status, pool_id FROM devices WHERE id = $1`, f.deviceID).Scan(&status, &pool); err != nil {
		t.Fatal(err)
	}
	return status, pool
}

// holder is the open order holding the device (0: none).
func (f maintFixture) holder(t *testing.T) int64 {
	t.Helper()
	var id int64
	err := f.db.QueryRow(context.Background(), `SELECT order_id FROM order_devices WHERE device_id = $1 AND active`, f.deviceID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestMaintenanceLifecycleMovesTheDevice(t *testing.T) {
	for _, start := range []string{"in_pool", "idle", "cordoned"} {
		t.Run(start, func(t *testing.T) {
			ctx := context.Background()
			f := newMaintFixture(t, start)
			m := f.createMaintenance(t)

			if _, _, err := postgres.TransitionOrder(ctx, f.db, m.ID, "maintenance_in_progress", 0, "oscar", ""); err != nil {
				t.Fatal(err)
			}
			if got, _ := f.device(t); got != "maintenance" {
				t.Fatalf("after confirm: device %s, want maintenance", got)
			}
			if got := f.holder(t); got != m.ID {
				t.Fatalf("after confirm: held by %d, want the maintenance order %d", got, m.ID)
			}

			if _, _, err := postgres.TransitionOrder(ctx, f.db, m.ID, "completed", 0, "ext:itsm", ""); err != nil {
				t.Fatal(err)
			}
			if got, _ := f.device(t); got != "cordoned" {
				t.Fatalf("after complete: device %s, want cordoned", got)
			}
			u, err := postgres.ScanOrder(f.db.QueryRow(ctx, "SELECT "+postgres.OrderColumns+
				" FROM elastic_scaling_orders o WHERE o.idempotency_key = $1", postgres.UncordonKey(m.ID)))
			if err != nil {
				t.Fatalf("uncordon order: %v", err)
			}
			if u.ActionType != "uncordon" || u.Status != "pending" || u.DeviceID == nil || *u.DeviceID != f.deviceID ||
				u.ExternalTicketID != "CHG-1" || u.CreatedBy != "ext:itsm" {
				t.Fatalf("uncordon order %+v", u)
			}
			if (start != "idle") != (u.PoolID != nil) {
				t.Fatalf("uncordon pool %v for a device that started %s", u.PoolID, start)
			}
			if got := f.holder(t); got != u.ID {
				t.Fatalf("after complete: held by %d, want the uncordon order %d", got, u.ID)
			}

			for _, to := range []string{"processing", "completed"} {
				if _, _, err := postgres.TransitionOrder(ctx, f.db, u.ID, to, 0, "oscar", ""); err != nil {
					t.Fatal(err)
				}
			}
			want := map[string]string{"in_pool": "in_pool", "idle": "idle", "cordoned": "in_pool"}[start]
			if got, _ := f.device(t); got != want {
				t.Fatalf("after uncordon: device %s, want %s", got, want)
			}
			if got := f.holder(t); got != 0 {
				t.Fatalf("after uncordon: still held by %d", got)
			}
			var audits int
			if err := f.db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE target_type = 'order' AND target_id IN ($1, $2)`,
				fmt.Sprint(m.ID), fmt.Sprint(u.ID)).Scan(&audits); err != nil {
				t.Fatal(err)
			}
			if audits != 6 { // create, confirm, complete; create, execute, complete
				t.Fatalf("got %d audit rows, want 6", audits)
			}
		})
	}
}

func TestMaintenanceConfirmRefusesARetiredDevice(t *testing.T) {
	ctx := context.Background()
	f := newMaintFixture(t, "in_pool")
	m := f.createMaintenance(t)
	if _, err := f.db.Exec(ctx, `UPDATE devices SET status = 'retired' WHERE id = $1`, f.deviceID); err != nil {
		t.Fatal(err)
	}
	_, _, err := postgres.TransitionOrder(ctx, f.db, m.ID, "maintenance_in_progress", 0, "oscar", "")
	var refused *postgres.TransitionRefusedError
	if !errors.As(err, &refused) || !errors.Is(err, orderflow.ErrNotAllowed) {
		t.Fatalf("got %v, want a TransitionRefusedError", err)
	}
	if len(refused.Allowed) != 1 || refused.Allowed[0] != "cancelled" || refused.Why == "" {
		t.Fatalf("got %+v, want allowed [cancelled] and a reason", refused)
	}
	if got, _ := postgres.GetOrder(ctx, f.db, m.ID); got.Status != "pending" {
		t.Fatalf("order %s after the refusal, want pending", got.Status)
	}
	// Cancelling is the way out and releases the device.
	if _, _, err := postgres.TransitionOrder(ctx, f.db, m.ID, "cancelled", 0, "oscar", ""); err != nil {
		t.Fatal(err)
	}
	if got := f.holder(t); got != 0 {
		t.Fatalf("still held by %d", got)
	}
}

func TestMaintenanceCompletedAfterRetirementOpensNoUncordon(t *testing.T) {
	ctx := context.Background()
	f := newMaintFixture(t, "in_pool")
	m := f.createMaintenance(t)
	if _, _, err := postgres.TransitionOrder(ctx, f.db, m.ID, "maintenance_in_progress", 0, "oscar", ""); err != nil {
		t.Fatal(err)
	}
	// Found broken beyond repair during maintenance.
	if _, err := f.db.Exec(ctx, `UPDATE devices SET status = 'retired' WHERE id = $1`, f.deviceID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := postgres.TransitionOrder(ctx, f.db, m.ID, "completed", 0, "ext:itsm", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.device(t); got != "retired" {
		t.Fatalf("device %s, want retired", got)
	}
	var n int
	if err := f.db.QueryRow(ctx, `SELECT count(*) FROM elastic_scaling_orders WHERE action_type = 'uncordon'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("got %d uncordon orders, want 0", n)
	}
	var st, msg string
	if err := f.db.QueryRow(ctx, `SELECT status, error FROM order_devices WHERE order_id = $1`, m.ID).Scan(&st, &msg); err != nil {
		t.Fatal(err)
	}
	if st != "skipped" || msg == "" {
		t.Fatalf("order device %s %q, want skipped with a reason", st, msg)
	}
}

func TestMaintenanceTicketIsUniquePerSystem(t *testing.T) {
	ctx := context.Background()
	f := newMaintFixture(t, "in_pool")
	f.createMaintenance(t)
	var other int64
	if err := f.db.QueryRow(ctx, `INSERT INTO devices (hostname) VALUES ('node-2') RETURNING id`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	insert := func(system string) error {
		return postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			_, err := postgres.CreateOrder(ctx, tx, postgres.NewOrder{ActionType: "maintenance", DeviceID: &other,
				DeviceIDs: []int64{other}, ExternalSystem: system, ExternalTicketID: "CHG-1", CreatedBy: "t"})
			return err
		})
	}
	if err := insert("itsm"); !errors.Is(postgres.Translate(err), postgres.ErrConflict) {
		t.Fatalf("same system and ticket: got %v, want a conflict", err)
	}
	if err := insert("cmdb"); err != nil {
		t.Fatalf("another system's ticket CHG-1: %v", err)
	}
}
