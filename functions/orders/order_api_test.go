package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

func TestOrderCreateGetDevices(t *testing.T) {
	fx := newOrderFixture(t)
	d1, d2 := fx.idleDevice(t), fx.idleDevice(t)
	o := fx.order(t, "pool_entry", fx.pool, d1.ID, d2.ID)

	if !regexp.MustCompile(`^EP-20261129-\d{6}$`).MatchString(o.OrderNumber) {
		t.Errorf("order number %q, want EP-20261129-nnnnnn (the fixed clock's date in Asia/Shanghai)", o.OrderNumber)
	}
	if o.Status != "pending" || o.CreatedBy != "oscar" || o.DeviceCount != 2 || o.Version != 1 || o.StrategyID != nil {
		t.Errorf("created %+v", o.Order)
	}
	if o.ClusterName == nil || *o.ClusterName != "bj-prod-1" || o.PoolName == nil || *o.PoolName != "general" || o.StrategyName != nil {
		t.Errorf("names: cluster %v pool %v strategy %v", o.ClusterName, o.PoolName, o.StrategyName)
	}
	var got []string
	for _, a := range o.AllowedActions {
		got = append(got, a.Action+"→"+a.Status)
	}
	if want := []string{"execute→processing", "ignore→ignored", "cancel→cancelled"}; !slices.Equal(got, want) {
		t.Errorf("allowedActions %v, want %v", got, want)
	}

	r := fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d", o.ID), nil)
	if etag := r.Header.Get("ETag"); etag != `"1"` {
		t.Errorf("ETag %q, want \"1\"", etag)
	}
	fx.viewer.Must(http.StatusNotFound, "GET", "/api/v1/elastic-scaling/orders/999999", nil)

	var devs List[OrderDevice]
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/devices", o.ID), nil).JSON(t, &devs)
	if len(devs.Items) != 2 || devs.Items[0].DeviceID != d1.ID || devs.Items[0].Role != "add" || !devs.Items[0].Active ||
		devs.Items[0].Status != "pending" || devs.Items[0].Hostname != d1.Hostname {
		t.Errorf("order devices %+v", devs.Items)
	}
	fx.viewer.Must(http.StatusNotFound, "GET", "/api/v1/elastic-scaling/orders/999999/devices", nil)

	var dev Device
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/devices/%d", d1.ID), nil).JSON(t, &dev)
	if dev.HeldByOrderID == nil || *dev.HeldByOrderID != o.ID {
		t.Errorf("device heldByOrderId %v, want %d", dev.HeldByOrderID, o.ID)
	}

	created := fx.emitted.ofType(events.TypeOrderCreated)
	if len(created) != 1 {
		t.Fatalf("got %d order.created events, want 1", len(created))
	}
	data := created[0].Data.(events.OrderCreated)
	if data.OrderID != o.ID || data.OrderNumber != o.OrderNumber || data.Action != "pool_entry" || data.DeviceCount != 2 ||
		*data.PoolID != fx.pool.ID || data.CreatedBy != "oscar" || created[0].Source != events.SourceOrders {
		t.Errorf("order.created %+v", created[0])
	}
	// a manual order without devices: the operator picks them while processing
	o2 := fx.order(t, "pool_exit", fx.other)
	if o2.DeviceCount != 1 || o2.ActionType != "pool_exit" {
		t.Errorf("second order %+v", o2.Order)
	}
	if n1, n2 := o.OrderNumber[len(o.OrderNumber)-6:], o2.OrderNumber[len(o2.OrderNumber)-6:]; n2 <= n1 {
		t.Errorf("order numbers %s then %s do not increase", o.OrderNumber, o2.OrderNumber)
	}
}

func TestOrderCreateValidation(t *testing.T) {
	fx := newOrderFixture(t)
	idle, pooled := fx.idleDevice(t), fx.pooledDevice(t, fx.pool)
	otherIDC := fx.idleDevice(t)
	fx.operator.Must(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/devices/%d", otherIDC.ID),
		map[string]any{"hostname": otherIDC.Hostname, "idc": "sh2", "zone": "a", "version": 1})
	var foreign Cluster
	fx.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": "sh-prod-1"}).JSON(t, &foreign)

	base := func(over map[string]any) map[string]any {
		b := map[string]any{"actionType": "pool_entry", "clusterId": fx.cluster.ID, "poolId": fx.pool.ID, "deviceCount": 1, "reason": "capacity"}
		for k, v := range over {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	tests := []struct {
		name string
		body any
		want []string
	}{
		{"empty", map[string]any{}, []string{"body.actionType", "body.clusterId", "body.poolId", "body.reason"}},
		{"maintenance is not manual", base(map[string]any{"actionType": "maintenance"}), []string{"body.actionType"}},
		{"unknown field", base(map[string]any{"priority": 1}), []string{"body.priority"}},
		{"blank reason", base(map[string]any{"reason": "  "}), []string{"body.reason"}},
		{"no count, no devices", base(map[string]any{"deviceCount": nil}), []string{"body.deviceCount"}},
		{"count disagrees with devices", base(map[string]any{"deviceCount": 3, "deviceIds": []int64{idle.ID}}), []string{"body.deviceCount"}},
		{"pool of another cluster", base(map[string]any{"clusterId": foreign.ID}), []string{"body.poolId"}},
		{"no such pool", base(map[string]any{"poolId": 999999}), []string{"body.poolId"}},
		{"no such device", base(map[string]any{"deviceCount": nil, "deviceIds": []int64{idle.ID, 999999}}), []string{"body.deviceIds[1]"}},
		{"device listed twice", base(map[string]any{"deviceCount": nil, "deviceIds": []int64{idle.ID, idle.ID}}), []string{"body.deviceIds[1]"}},
		{"entry takes idle devices", base(map[string]any{"deviceCount": nil, "deviceIds": []int64{pooled.ID}}), []string{"body.deviceIds[0]"}},
		{"entry takes the cluster's idc", base(map[string]any{"deviceCount": nil, "deviceIds": []int64{idle.ID, otherIDC.ID}}), []string{"body.deviceIds[1]"}},
		{"exit takes devices of the pool", base(map[string]any{"actionType": "pool_exit", "deviceCount": nil, "deviceIds": []int64{pooled.ID, idle.ID}}), []string{"body.deviceIds[1]"}},
		{"exit from another pool", base(map[string]any{"actionType": "pool_exit", "poolId": fx.other.ID, "deviceCount": nil, "deviceIds": []int64{pooled.ID}}), []string{"body.deviceIds[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fx.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/elastic-scaling/orders", tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got locations %v, want %v (%+v)", got, tt.want, p)
			}
		})
	}
	fx.viewer.Must(http.StatusForbidden, "POST", "/api/v1/elastic-scaling/orders", base(nil))
	var n int
	if err := fx.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM elastic_scaling_orders").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d orders written by refused requests", n)
	}
}

func TestOrderHeldDevicesRefused(t *testing.T) {
	fx := newOrderFixture(t)
	d1, d2, d3 := fx.idleDevice(t), fx.idleDevice(t), fx.idleDevice(t)
	first := fx.order(t, "pool_entry", fx.pool, d1.ID, d2.ID)

	p := fx.operator.Must(http.StatusConflict, "POST", "/api/v1/elastic-scaling/orders", map[string]any{
		"actionType": "pool_entry", "clusterId": fx.cluster.ID, "poolId": fx.other.ID, "deviceIds": []int64{d3.ID, d2.ID, d1.ID}, "reason": "x",
	}).Problem(t)
	if got, want := p.Locations(), []string{"body.deviceIds[1]", "body.deviceIds[2]"}; !slices.Equal(got, want) {
		t.Errorf("locations %v, want %v", got, want)
	}
	if !strings.Contains(p.Detail, first.OrderNumber) || !strings.Contains(p.Detail, d1.Hostname) || !strings.Contains(p.Detail, d2.Hostname) {
		t.Errorf("detail %q should name %s, %s and the holding order %s", p.Detail, d1.Hostname, d2.Hostname, first.OrderNumber)
	}
	// cancelling the first order releases its devices
	fx.move(t, first, "cancelled", http.StatusOK)
	second := fx.order(t, "pool_entry", fx.other, d3.ID, d2.ID, d1.ID)
	if second.DeviceCount != 3 {
		t.Fatalf("second order %+v", second.Order)
	}

	// two orders racing for the same device: one wins, the other is told 409
	for round := 0; round < 5; round++ {
		d := fx.idleDevice(t)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = fx.operator.Do("POST", "/api/v1/elastic-scaling/orders", map[string]any{
					"actionType": "pool_entry", "clusterId": fx.cluster.ID, "poolId": fx.pool.ID, "deviceIds": []int64{d.ID}, "reason": "race",
				}).Status
			}()
		}
		wg.Wait()
		slices.Sort(codes)
		if !slices.Equal(codes, []int{http.StatusCreated, http.StatusConflict}) {
			t.Fatalf("round %d: got %v, want one 201 and one 409", round, codes)
		}
	}
}

// The whole status × target matrix for every action type: allowed targets
// answer 200 with the new status, every other one 409 listing the allowed.
func TestOrderTransitionMatrix(t *testing.T) {
	work := map[string][]string{
		"pending":    {"processing", "ignored", "cancelled"},
		"processing": {"completed", "failed"},
		"failed":     {"processing", "cancelled"},
	}
	maintenance := map[string][]string{
		"pending":                 {"maintenance_in_progress", "cancelled"},
		"maintenance_in_progress": {"completed"},
	}
	// how to reach each status through the API; nil: set directly (a status the type never has)
	workPath := map[string][]string{
		"pending": {}, "processing": {"processing"}, "completed": {"processing", "completed"},
		"failed": {"processing", "failed"}, "cancelled": {"cancelled"}, "ignored": {"ignored"},
	}
	maintPath := map[string][]string{
		"pending": {}, "maintenance_in_progress": {"maintenance_in_progress"},
		"completed": {"maintenance_in_progress", "completed"}, "cancelled": {"cancelled"},
	}
	statuses := []string{"pending", "processing", "completed", "failed", "cancelled", "ignored", "maintenance_in_progress"}

	for _, actionType := range []string{"pool_entry", "pool_exit", "maintenance", "uncordon"} {
		t.Run(actionType, func(t *testing.T) {
			t.Parallel()
			fx := newOrderFixture(t)
			allowed, paths := work, workPath
			if actionType == "maintenance" {
				allowed, paths = maintenance, maintPath
			}
			newOrder := func(t *testing.T) OrderView {
				t.Helper()
				if actionType == "pool_entry" || actionType == "pool_exit" {
					return fx.order(t, actionType, fx.pool)
				}
				// maintenance and uncordon orders come from the maintenance function: use the store
				dev := fx.idleDevice(t)
				var o postgres.Order
				err := postgres.InTx(context.Background(), fx.db.Pool, func(tx pgx.Tx) error {
					var err error
					o, err = postgres.CreateOrder(context.Background(), tx, postgres.NewOrder{ActionType: actionType,
						DeviceID: &dev.ID, DeviceIDs: []int64{dev.ID}, CreatedBy: "maint-hook", ExternalTicketID: fmt.Sprintf("T-%d", dev.ID)})
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				var v OrderView
				fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d", o.ID), nil).JSON(t, &v)
				return v
			}
			for _, from := range statuses {
				for _, to := range statuses {
					t.Run(from+"→"+to, func(t *testing.T) {
						path, reachable := paths[from]
						if !reachable && from == "maintenance_in_progress" {
							t.Skip("the schema forbids maintenance_in_progress outside maintenance orders")
						}
						o := newOrder(t)
						for _, step := range path {
							o = fx.move(t, o, step, http.StatusOK)
						}
						if !reachable {
							if _, err := fx.db.Pool.Exec(context.Background(), "UPDATE elastic_scaling_orders SET status = $2 WHERE id = $1", o.ID, from); err != nil {
								t.Fatal(err)
							}
						}
						want := allowed[from]
						r := fx.operator.Do("PUT", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/status", o.ID),
							map[string]any{"status": to, "reason": "matrix"}, "If-Match", fmt.Sprintf(`"%d"`, o.Version))
						if slices.Contains(want, to) {
							if r.Status != http.StatusOK {
								t.Fatalf("got %d, want 200; body %s", r.Status, r.Body)
							}
							var after OrderView
							r.JSON(t, &after)
							if after.Status != to || after.Version != o.Version+1 || after.Executor != "oscar" {
								t.Fatalf("after: status %s version %d executor %q, want %s, %d, oscar", after.Status, after.Version, after.Executor, to, o.Version+1)
							}
							return
						}
						if r.Status != http.StatusConflict {
							t.Fatalf("got %d, want 409; body %s", r.Status, r.Body)
						}
						p := r.Problem(t)
						if len(p.Errors) != 1 || p.Errors[0].Location != "body.status" {
							t.Fatalf("problem %+v, want one error at body.status", p)
						}
						got := parseAllowed(p.Errors[0].Message)
						if !slices.Equal(got, want) {
							t.Fatalf("409 lists %v (%q), want %v", got, p.Errors[0].Message, want)
						}
					})
				}
			}
		})
	}
}

// parseAllowed reads "allowed target statuses: a, b" (or "… none (final status)").
func parseAllowed(msg string) []string {
	_, list, _ := strings.Cut(msg, "allowed target statuses: ")
	if strings.HasPrefix(list, "none") {
		return nil
	}
	return strings.Split(list, ", ")
}

func TestOrderTransitionDetails(t *testing.T) {
	fx := newOrderFixture(t)
	o := fx.order(t, "pool_entry", fx.pool)
	url := fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/status", o.ID)

	fx.operator.Must(http.StatusPreconditionRequired, "PUT", url, map[string]any{"status": "processing"})
	fx.operator.Must(http.StatusPreconditionFailed, "PUT", url, map[string]any{"status": "processing", "version": 7})
	p := fx.operator.Must(http.StatusUnprocessableEntity, "PUT", url, map[string]any{"status": "done", "version": 1}).Problem(t)
	if !slices.Equal(p.Locations(), []string{"body.status"}) {
		t.Errorf("bad status: locations %v", p.Locations())
	}
	p = fx.operator.Must(http.StatusConflict, "PUT", url, map[string]any{"status": "completed", "version": 1}).Problem(t)
	if !strings.Contains(p.Detail, "processing, ignored, cancelled") {
		t.Errorf("409 detail %q does not list the allowed statuses", p.Detail)
	}
	fx.viewer.Must(http.StatusForbidden, "PUT", url, map[string]any{"status": "processing", "version": 1})
	fx.operator.Must(http.StatusNotFound, "PUT", "/api/v1/elastic-scaling/orders/999999/status", map[string]any{"status": "processing", "version": 1})

	var started OrderView
	fx.operator.Must(http.StatusOK, "PUT", url, map[string]any{"status": "processing"}, "If-Match", `"1"`).JSON(t, &started)
	if started.ExecutionTime == nil || started.CompletionTime != nil || started.Executor != "oscar" {
		t.Errorf("started: execution %v completion %v executor %q", started.ExecutionTime, started.CompletionTime, started.Executor)
	}
	// fail needs a reason
	p = fx.admin.Must(http.StatusUnprocessableEntity, "PUT", url, map[string]any{"status": "failed", "version": 2}).Problem(t)
	if !slices.Equal(p.Locations(), []string{"body.reason"}) {
		t.Errorf("fail without reason: locations %v", p.Locations())
	}
	var failed OrderView
	fx.admin.Must(http.StatusOK, "PUT", url, map[string]any{"status": "failed", "reason": "BMC unreachable", "version": 2}).JSON(t, &failed)
	if failed.FailureReason != "BMC unreachable" || failed.CompletionTime == nil || failed.Executor != "alice" {
		t.Errorf("failed: %+v", failed.Order)
	}
	var retried OrderView
	fx.operator.Must(http.StatusOK, "PUT", url, map[string]any{"status": "processing", "version": 3}).JSON(t, &retried)
	if retried.CompletionTime != nil || retried.Status != "processing" {
		t.Errorf("retried: %+v", retried.Order)
	}

	changes := fx.emitted.ofType(events.TypeOrderStatusChanged)
	if len(changes) != 3 {
		t.Fatalf("got %d status events, want 3", len(changes))
	}
	d := changes[1].Data.(events.OrderStatusChanged)
	if d.OrderID != o.ID || d.From != "processing" || d.To != "failed" || d.Actor != "alice" || d.Reason != "BMC unreachable" ||
		d.OrderNumber != o.OrderNumber || d.Action != "pool_entry" || changes[1].ID == changes[2].ID {
		t.Errorf("status event %+v", changes[1])
	}

	// the order's audit trail: newest first, with the transitions
	var audit List[AuditEntry]
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/audit", o.ID), nil).JSON(t, &audit)
	var actions []string
	for _, a := range audit.Items {
		actions = append(actions, a.Action+":"+a.Actor)
	}
	if want := []string{"order.status:oscar", "order.status:alice", "order.status:oscar", "order.create:oscar"}; !slices.Equal(actions, want) {
		t.Errorf("audit %v, want %v", actions, want)
	}
	after, _ := json.Marshal(audit.Items[1].After)
	var tr struct {
		Status     string            `json:"status"`
		Transition map[string]string `json:"transition"`
	}
	if err := json.Unmarshal(after, &tr); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"action": "fail", "from": "processing", "to": "failed", "reason": "BMC unreachable"}; tr.Status != "failed" || !maps.Equal(tr.Transition, want) {
		t.Errorf("audit after %s: want status failed and transition %v", after, want)
	}
	if audit.Items[0].RequestID == "" {
		t.Error("audit row without request id")
	}
	var page List[AuditEntry]
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/audit?limit=3", o.ID), nil).JSON(t, &page)
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/audit?limit=3&cursor=%s", o.ID, page.NextCursor), nil).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].Action != "order.create" {
		t.Errorf("page 2 of the audit: %+v", page.Items)
	}
	fx.viewer.Must(http.StatusNotFound, "GET", "/api/v1/elastic-scaling/orders/999999/audit", nil)
}

func TestOrderConcurrentUpdates(t *testing.T) {
	fx := newOrderFixture(t)
	for round := 0; round < 8; round++ {
		o := fx.order(t, "pool_entry", fx.pool)
		url := fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/status", o.ID)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, to := range []string{"processing", "cancelled"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = fx.operator.Do("PUT", url, map[string]any{"status": to, "version": o.Version}).Status
			}()
		}
		wg.Wait()
		slices.Sort(codes)
		if !slices.Equal(codes, []int{http.StatusOK, http.StatusPreconditionFailed}) {
			t.Fatalf("round %d: got %v, want exactly one 200 and one 412", round, codes)
		}
		var now OrderView
		fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d", o.ID), nil).JSON(t, &now)
		if now.Version != 2 {
			t.Fatalf("round %d: version %d after one winner, want 2", round, now.Version)
		}
	}
}

func TestOrderDeviceEffects(t *testing.T) {
	fx := newOrderFixture(t)
	ctx := context.Background()
	d1, d2, moved := fx.idleDevice(t), fx.idleDevice(t), fx.idleDevice(t)
	entry := fx.order(t, "pool_entry", fx.pool, d1.ID, d2.ID, moved.ID)
	entry = fx.move(t, entry, "processing", http.StatusOK)
	// meanwhile someone retires one of the devices: completing skips it
	if _, err := fx.db.Pool.Exec(ctx, "UPDATE devices SET status = 'retired' WHERE id = $1", moved.ID); err != nil {
		t.Fatal(err)
	}
	fx.move(t, entry, "completed", http.StatusOK)

	for _, d := range []Device{d1, d2} {
		var got Device
		fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil).JSON(t, &got)
		if got.Status != "in_pool" || got.ClusterID == nil || *got.ClusterID != fx.cluster.ID || got.PoolID == nil ||
			*got.PoolID != fx.pool.ID || got.HeldByOrderID != nil || got.Version != d.Version+1 || got.UpdatedBy != "oscar" {
			t.Errorf("after entry: %+v", got)
		}
	}
	var devs List[OrderDevice]
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/devices", entry.ID), nil).JSON(t, &devs)
	var states []string
	for _, d := range devs.Items {
		states = append(states, fmt.Sprintf("%s:%v", d.Status, d.Active))
	}
	if want := []string{"done:false", "done:false", "skipped:false"}; !slices.Equal(states, want) {
		t.Errorf("order devices %v, want %v", states, want)
	}
	if devs.Items[2].Error == "" || devs.Items[2].DeviceStatus != "retired" {
		t.Errorf("skipped device %+v lacks its reason", devs.Items[2])
	}

	exit := fx.order(t, "pool_exit", fx.pool, d1.ID)
	exit = fx.move(t, exit, "processing", http.StatusOK)
	fx.move(t, exit, "completed", http.StatusOK)
	var got Device
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/devices/%d", d1.ID), nil).JSON(t, &got)
	if got.Status != "idle" || got.ClusterID != nil || got.PoolID != nil || got.HeldByOrderID != nil {
		t.Errorf("after exit: %+v", got)
	}
	// d2 is untouched by the exit of d1
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/devices/%d", d2.ID), nil).JSON(t, &got)
	if got.Status != "in_pool" {
		t.Errorf("d2 after d1's exit: %s", got.Status)
	}
	// an ignored order releases its devices without moving them
	ign := fx.order(t, "pool_exit", fx.pool, d2.ID)
	fx.move(t, ign, "ignored", http.StatusOK)
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/devices/%d", d2.ID), nil).JSON(t, &got)
	if got.Status != "in_pool" || got.HeldByOrderID != nil {
		t.Errorf("d2 after an ignored exit: %+v", got)
	}
}

func TestOrderList(t *testing.T) {
	fx := newOrderFixture(t)
	ctx := context.Background()
	var all []OrderView
	for i := 0; i < 9; i++ {
		p := fx.pool
		action := "pool_entry"
		if i%3 == 2 {
			p, action = fx.other, "pool_exit"
		}
		all = append(all, fx.order(t, action, p))
	}
	// spread creation times so the sort is visible: order i created i hours after the first
	for i, o := range all {
		if _, err := fx.db.Pool.Exec(ctx, "UPDATE elastic_scaling_orders SET created_at = $2 WHERE id = $1",
			o.ID, time.Date(2026, 11, 1, i, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
	}
	fx.move(t, all[0], "processing", http.StatusOK)
	fx.move(t, all[1], "ignored", http.StatusOK)
	fx.move(t, all[4], "processing", http.StatusOK)

	ids := func(l List[OrderView]) []int64 {
		var out []int64
		for _, o := range l.Items {
			out = append(out, o.ID)
		}
		return out
	}
	list := func(q string) List[OrderView] {
		t.Helper()
		var l List[OrderView]
		fx.viewer.Must(http.StatusOK, "GET", "/api/v1/elastic-scaling/orders?"+q, nil).JSON(t, &l)
		return l
	}
	idsOf := func(idx ...int) []int64 {
		var out []int64
		for _, i := range idx {
			out = append(out, all[i].ID)
		}
		return out
	}
	tests := []struct {
		q    string
		want []int64
	}{
		{"", idsOf(8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"sort=createdAt&limit=3", idsOf(0, 1, 2)},
		{"status=pending", idsOf(8, 7, 6, 5, 3, 2)},
		{"status=processing&status=ignored", idsOf(4, 1, 0)},
		{"status=processing&status=pending&limit=4", idsOf(8, 7, 6, 5)},
		{fmt.Sprintf("poolId=%d", fx.other.ID), idsOf(8, 5, 2)},
		{fmt.Sprintf("clusterId=%d&actionType=pool_entry&status=pending", fx.cluster.ID), idsOf(7, 6, 3)},
		{"from=2026-11-01T03:00:00Z&to=2026-11-01T05:00:00Z", idsOf(4, 3)},
		{"q=" + all[6].OrderNumber[len(all[6].OrderNumber)-6:], idsOf(6)},
		{"q=-" + all[6].OrderNumber[len(all[6].OrderNumber)-6:], idsOf(6)},
		{"q=" + strings.ToLower(all[6].OrderNumber), idsOf(6)},
		{"q=" + all[6].OrderNumber[len("EP-"):], idsOf(6)},
		{"q=" + all[6].OrderNumber[len(all[6].OrderNumber)-3:], nil}, // the middle of a number is not searched
		{"strategyId=5", nil},
		{"sort=id&limit=2", idsOf(0, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := ids(list(tt.q)); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	// paging through several statuses with a cursor, and by updatedAt
	for _, q := range []string{"status=pending&status=processing", "sort=-updatedAt", "sort=createdAt", ""} {
		t.Run("pages of "+q, func(t *testing.T) {
			want := ids(list(q + "&limit=100"))
			var got []int64
			cursor := ""
			for page := 0; ; page++ {
				l := list(q + "&limit=2&cursor=" + cursor)
				got = append(got, ids(l)...)
				if l.NextCursor == "" {
					break
				}
				cursor = l.NextCursor
				if page > 10 {
					t.Fatal("paging does not end")
				}
			}
			if len(want) < 3 || !slices.Equal(got, want) {
				t.Fatalf("paged %v, want %v", got, want)
			}
		})
	}
	one := list("limit=1").Items[0]
	if one.AllowedActions == nil || one.PoolName == nil {
		t.Errorf("list item without names/allowed actions: %+v", one)
	}
	for _, bad := range []string{"status=open", "sort=orderNumber", "cursor=xyz", "actionType=pool", "from=yesterday",
		"from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "limit=501"} {
		fx.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/elastic-scaling/orders?"+bad, nil)
	}
}

func TestAuditLog(t *testing.T) {
	fx := newOrderFixture(t)
	o := fx.order(t, "pool_entry", fx.pool)
	fx.move(t, o, "cancelled", http.StatusOK)

	var l List[AuditEntry]
	fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/audit-log?targetType=order&targetId=%d", o.ID), nil).JSON(t, &l)
	if len(l.Items) != 2 || l.Items[0].Action != "order.status" || l.Items[1].Action != "order.create" || l.Items[0].TargetID != fmt.Sprint(o.ID) {
		t.Fatalf("order audit %+v", l.Items)
	}
	fx.viewer.Must(http.StatusOK, "GET", "/api/v1/audit-log?actor=alice&sort=at", nil).JSON(t, &l)
	var kinds []string
	for _, a := range l.Items {
		kinds = append(kinds, a.Action)
	}
	if want := []string{"cluster.create", "pool.create", "pool.create"}; !slices.Equal(kinds, want) {
		t.Errorf("alice's audit %v, want %v", kinds, want)
	}
	fx.viewer.Must(http.StatusOK, "GET", "/api/v1/audit-log?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z", nil).JSON(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("empty range returned %d rows", len(l.Items))
	}
	fx.viewer.Must(http.StatusOK, "GET", "/api/v1/audit-log?limit=2", nil).JSON(t, &l)
	if len(l.Items) != 2 || l.NextCursor == "" {
		t.Errorf("first page %d rows, cursor %q", len(l.Items), l.NextCursor)
	}
	p := fx.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/audit-log?targetId=5", nil).Problem(t)
	if !slices.Equal(p.Locations(), []string{"query.targetId"}) {
		t.Errorf("targetId alone: %v", p.Locations())
	}
}

func TestWorkbenchSummary(t *testing.T) {
	fx := newOrderFixture(t)
	ctx := context.Background()
	pending := fx.order(t, "pool_entry", fx.pool)
	_ = pending
	p1 := fx.order(t, "pool_entry", fx.pool)
	fx.move(t, p1, "processing", http.StatusOK)
	f1 := fx.order(t, "pool_exit", fx.other)
	f1 = fx.move(t, f1, "processing", http.StatusOK)
	fx.move(t, f1, "failed", http.StatusOK)
	dev := fx.idleDevice(t)
	if err := postgres.InTx(ctx, fx.db.Pool, func(tx pgx.Tx) error {
		m, err := postgres.CreateOrder(ctx, tx, postgres.NewOrder{ActionType: "maintenance", DeviceID: &dev.ID, DeviceIDs: []int64{dev.ID}, CreatedBy: "hook"})
		if err != nil {
			return err
		}
		_, _, err = postgres.TransitionOrderTx(ctx, tx, m.ID, "maintenance_in_progress", 1, "hook", "")
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// history: the gpu pool's latest evaluation triggered, the general pool's latest did not
	now := fx.now
	_, err := fx.db.Pool.Exec(ctx, `
		WITH s AS (INSERT INTO elastic_scaling_strategies (name, threshold_trigger_action, cpu_threshold_value, cpu_threshold_type,
			cpu_target_value, duration_minutes) VALUES ('hot', 'pool_entry', 80, 'allocated', 70, 1440) RETURNING id)
		INSERT INTO strategy_execution_history (strategy_id, cluster_id, pool_id, evaluated_at, result, action)
		SELECT s.id, $1, v.pool, v.at, v.result, 'pool_entry' FROM s, (VALUES
			($2::bigint, $4::timestamptz, 'triggered'), ($2, $5, 'not_met'),
			($3, $4, 'not_met'), ($3, $5, 'triggered'),
			($3, $6, 'triggered')) AS v(pool, at, result)`,
		fx.cluster.ID, fx.pool.ID, fx.other.ID, now.Add(-48*time.Hour), now.Add(-24*time.Hour), now.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// two shortage events (one notified on two channels), one old, one of another type
	_, err = fx.db.Pool.Exec(ctx, `INSERT INTO notification_log (event_id, event_type, channel, recipient, created_at) VALUES
		('e1', $1, 'email', 'a@x', $2), ('e1', $1, 'webhook', 'hook', $2), ('e2', $1, 'email', 'a@x', $2),
		('e0', $1, 'email', 'a@x', $3), ('e3', 'io.elasticpool.order.created.v1', 'email', 'a@x', $2)`,
		events.TypeInventoryShortage, now.Add(-time.Hour), now.Add(-8*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	var s WorkbenchSummary
	fx.viewer.Must(http.StatusOK, "GET", "/api/v1/workbench/summary", nil).JSON(t, &s)
	want := WorkbenchSummary{PendingOrders: 1, ProcessingOrders: 1, FailedOrders: 1, MaintenanceInProgress: 1,
		TriggeredPools: 1, ShortagesLast7Days: 2, GeneratedAt: s.GeneratedAt}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
}
