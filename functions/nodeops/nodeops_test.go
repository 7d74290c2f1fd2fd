package nodeops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/sethvargo/go-envconfig"
	"gocloud.dev/secrets/localsecrets"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/kubetest"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

func event(t *testing.T, id, typ string, data any) cloudevents.Event {
	t.Helper()
	e, err := events.Outgoing{ID: id, Type: typ, Source: events.SourceOrders, Data: data}.Event(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// fakeExecutor stands in for the executor where only the answer's status is tested.
type fakeExecutor struct {
	err error
	ids []int64
}

func (f *fakeExecutor) Execute(_ context.Context, id int64) (nodeplan.NodeOperations, error) {
	f.ids = append(f.ids, id)
	return nodeplan.NodeOperations{OrderID: id}, f.err
}

// The answer is the retry policy (events.RetryableStatus).
func TestHandleStatus(t *testing.T) {
	exec := events.OrderExecute{OrderID: 7}
	tests := []struct {
		name   string
		e      cloudevents.Event
		err    error
		want   int
		wantID int64
	}{
		{"executed", event(t, "1", events.TypeOrderExecute, exec), nil, 200, 7},
		{"maintenance confirmed", event(t, "2", events.TypeMaintenanceConfirmed, events.Maintenance{OrderID: 9, ExternalTicketID: "T"}), nil, 200, 9},
		{"already done or moved on", event(t, "3", events.TypeOrderExecute, exec), fmt.Errorf("x: %w", nodeplan.ErrNotExecutable), 200, 7},
		{"running elsewhere", event(t, "4", events.TypeOrderExecute, exec), fmt.Errorf("x: %w", nodeplan.ErrBusy), 200, 7},
		{"no such order", event(t, "5", events.TypeOrderExecute, exec), fmt.Errorf("x: %w", postgres.ErrNotFound), 422, 7},
		{"database down", event(t, "6", events.TypeOrderExecute, exec), errors.New("connection refused"), 503, 7},
		{"no order id", event(t, "7", events.TypeOrderExecute, events.OrderExecute{}), nil, 400, 0},
		{"unreadable data", event(t, "8", events.TypeOrderExecute, "not an object"), nil, 400, 0},
		{"other type", event(t, "9", events.TypeOrderCreated, exec), nil, 422, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &fakeExecutor{err: tt.err}
			err := New(x).Handle(context.Background(), tt.e)
			if got := events.StatusCode(err); got != tt.want {
				t.Errorf("got %d (%v), want %d", got, err, tt.want)
			}
			if tt.wantID != 0 && (len(x.ids) != 1 || x.ids[0] != tt.wantID) {
				t.Errorf("executed %v, want order %d", x.ids, tt.wantID)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	var s Settings
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &s, Lookuper: envconfig.MapLookuper(nil)}); err != nil {
		t.Fatal(err)
	}
	if s.NotReadyTaint != kube.DefaultNotReadyTaint || s.DrainTimeout != 5*time.Minute || s.Parallel != 4 || s.Validate() != nil {
		t.Errorf("defaults: got %+v", s)
	}
	for _, bad := range []Settings{{NotReadyTaint: "not a key!", DrainTimeout: time.Second, Parallel: 1},
		{NotReadyTaint: "a/b", DrainTimeout: 0, Parallel: 1}, {NotReadyTaint: "a/b", DrainTimeout: time.Second, Parallel: 0}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: got valid, want refused", bad)
		}
	}
}

// The same order.execute event delivered three times at once (and once more
// afterwards) operates the node once: one run, one eviction, one audit row.
func TestRedeliveryRunsOnce(t *testing.T) {
	ctx := context.Background()
	cfg := kubetest.Start(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	db := pgtest.NewPool(t)
	rd := redistest.New(t)
	key, _ := localsecrets.NewRandomKey()
	keeper := localsecrets.NewKeeper(key)
	sealed, err := clustercred.Seal(ctx, keeper, clustercred.Credentials{Kubeconfig: fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, cfg.Host, cfg.BearerToken)})
	if err != nil {
		t.Fatal(err)
	}
	var clusterID, poolID, deviceID int64
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.QueryRow(ctx, "INSERT INTO clusters (name, credentials) VALUES ('c1', $1) RETURNING id", sealed).Scan(&clusterID))
	must(db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector) VALUES ($1, 'general', 'general', 'pool=general')
		RETURNING id`, clusterID).Scan(&poolID))
	must(db.QueryRow(ctx, `INSERT INTO devices (hostname, status, cluster_id, pool_id) VALUES ('redeliver-1', 'in_pool', $1, $2) RETURNING id`,
		clusterID, poolID).Scan(&deviceID))
	_, err = cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "redeliver-1", Labels: map[string]string{"pool": "general"}}},
		metav1.CreateOptions{})
	must(err)
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "redeliver"}}, metav1.CreateOptions{})
	must(err)
	_, err = cs.CoreV1().Pods("redeliver").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: corev1.PodSpec{NodeName: "redeliver-1", Containers: []corev1.Container{{Name: "c", Image: "x"}}}}, metav1.CreateOptions{})
	must(err)
	var o postgres.Order
	must(postgres.InTx(ctx, db, func(tx pgx.Tx) error {
		o, err = postgres.CreateOrder(ctx, tx, postgres.NewOrder{ActionType: "pool_exit", ClusterID: &clusterID, PoolID: &poolID,
			DeviceIDs: []int64{deviceID}, Reason: "test", CreatedBy: "tester"})
		return err
	}))
	_, _, err = postgres.TransitionOrder(ctx, db, o.ID, "processing", 0, "tester", "")
	must(err)

	x := nodeexec.New(nodeexec.Deps{DB: db, Keeper: keeper, Locks: lock.New(rd.Client, rd.Prefix),
		Options: kube.OpOptions{DrainTimeout: 5 * time.Second}})
	f := New(x)
	e := event(t, fmt.Sprintf("order-%d-v2-execute", o.ID), events.TypeOrderExecute, events.OrderExecute{OrderID: o.ID})
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.Handle(ctx, e)
		}()
	}
	wg.Wait()
	errs = append(errs, f.Handle(ctx, e)) // a late redelivery
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: got %v (status %d), want handled (200)", i, err, events.StatusCode(err))
		}
	}
	var runs int
	var steps []byte
	must(db.QueryRow(ctx, `SELECT count(*), min(after->'devices'->0->>'steps') FROM audit_log
		WHERE target_type = 'order' AND target_id = $1 AND action = 'order.operations'`, fmt.Sprint(o.ID)).Scan(&runs, &steps))
	got, err := postgres.GetOrder(ctx, db, o.ID)
	must(err)
	p, err := cs.CoreV1().Pods("redeliver").Get(ctx, "app", metav1.GetOptions{})
	evicted := err != nil || p.DeletionTimestamp != nil
	if runs != 1 || got.Status != "completed" || !evicted {
		t.Errorf("got %d runs (steps %s), order %s, pod evicted %v; want one run, completed, evicted", runs, steps, got.Status, evicted)
	}
}

type fakePreviewer struct{ err error }

func (f fakePreviewer) Preview(_ context.Context, id int64) (nodeplan.NodeOperations, error) {
	return nodeplan.NodeOperations{OrderID: id, DryRun: true}, f.err
}

// The API's preview route: the statuses RemoteNodeOps (functions/orders) maps back.
func TestPreviewHandler(t *testing.T) {
	tests := []struct {
		name, method, body string
		err                error
		want               int
	}{
		{"plan", "POST", `{"orderId": 3}`, nil, 200},
		{"no such order", "POST", `{"orderId": 3}`, fmt.Errorf("order 3: %w", postgres.ErrNotFound), 404},
		{"closed order", "POST", `{"orderId": 3}`, fmt.Errorf("%w: cancelled", nodeplan.ErrNotExecutable), 409},
		{"database down", "POST", `{"orderId": 3}`, errors.New("connection refused"), 500},
		{"no order", "POST", `{}`, nil, 400},
		{"not JSON", "POST", `x`, nil, 400},
		{"GET", "GET", ``, nil, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			PreviewHandler(fakePreviewer{err: tt.err}).ServeHTTP(rec, httptest.NewRequest(tt.method, nodeplan.PreviewPath, strings.NewReader(tt.body)))
			if rec.Code != tt.want {
				t.Errorf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			var got nodeplan.NodeOperations
			if tt.want == 200 && (json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.OrderID != 3 || !got.DryRun) {
				t.Errorf("got body %s", rec.Body)
			}
		})
	}
}
