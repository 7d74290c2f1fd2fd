package orders

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/elasticpool/elasticpool/shared/events"
)

// recordingEmitter keeps what the API emitted (the broker is external to this function).
type recordingEmitter struct {
	mu     sync.Mutex
	events []events.Outgoing
}

var _ events.Emitter = (*recordingEmitter)(nil)

func (r *recordingEmitter) Emit(_ context.Context, e events.Outgoing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recordingEmitter) ofType(t string) []events.Outgoing {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.Outgoing
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

// orderFixture is an env with one cluster (idc bj1, zone a) holding two
// pools, and an event recorder.
type orderFixture struct {
	*env
	cluster Cluster
	pool    Pool
	other   Pool
	emitted *recordingEmitter
	seq     int
}

func newOrderFixture(t *testing.T) *orderFixture {
	t.Helper()
	fx := &orderFixture{env: newEnv(t), emitted: &recordingEmitter{}}
	fx.f.emitter = fx.emitted
	fx.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": "bj-prod-1", "idc": "bj1", "zone": "a"}).JSON(t, &fx.cluster)
	fx.admin.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/clusters/%d/pools", fx.cluster.ID),
		map[string]any{"name": "general", "poolType": "general"}).JSON(t, &fx.pool)
	fx.admin.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/clusters/%d/pools", fx.cluster.ID),
		map[string]any{"name": "gpu", "poolType": "gpu"}).JSON(t, &fx.other)
	return fx
}

// idleDevice creates an idle device in the cluster's idc and zone.
func (fx *orderFixture) idleDevice(t *testing.T) Device {
	t.Helper()
	fx.seq++
	var d Device
	fx.operator.Must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{
		"hostname": fmt.Sprintf("node-%03d", fx.seq), "idc": "bj1", "zone": "a", "cpuCores": 64, "memoryBytes": 256 << 30,
	}).JSON(t, &d)
	return d
}

// pooledDevice creates a device in_pool in p.
func (fx *orderFixture) pooledDevice(t *testing.T, p Pool) Device {
	t.Helper()
	fx.seq++
	var d Device
	fx.operator.Must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{
		"hostname": fmt.Sprintf("node-%03d", fx.seq), "idc": "bj1", "zone": "a", "status": "in_pool",
		"clusterId": p.ClusterID, "poolId": p.ID, "cpuCores": 64,
	}).JSON(t, &d)
	return d
}

// order creates a manual order through the API.
func (fx *orderFixture) order(t *testing.T, action string, p Pool, deviceIDs ...int64) OrderView {
	t.Helper()
	body := map[string]any{"actionType": action, "clusterId": p.ClusterID, "poolId": p.ID, "reason": "test"}
	if len(deviceIDs) > 0 {
		body["deviceIds"] = deviceIDs
	} else {
		body["deviceCount"] = 1
	}
	var o OrderView
	fx.operator.Must(http.StatusCreated, "POST", "/api/v1/elastic-scaling/orders", body).JSON(t, &o)
	return o
}

// move PUTs a target status with the order's current version; want is the expected HTTP status.
func (fx *orderFixture) move(t *testing.T, o OrderView, to string, want int) OrderView {
	t.Helper()
	var out OrderView
	r := fx.operator.Must(want, "PUT", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/status", o.ID),
		map[string]any{"status": to, "reason": "because", "version": o.Version})
	if want == http.StatusOK {
		r.JSON(t, &out)
	}
	return out
}
