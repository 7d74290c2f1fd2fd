// Package nodeexecint tests shared/nodeexec against a real kube-apiserver
// (shared/kubetest), real Postgres (pgtest) and Redis (redistest); it is a
// package of its own so the pure tests of shared/nodeexec run without them.
package nodeexecint

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/kubetest"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// recorder keeps what the executor emitted.
type recorder struct {
	mu     sync.Mutex
	events []events.Outgoing
}

var _ events.Emitter = (*recorder)(nil)

func (r *recorder) Emit(_ context.Context, e events.Outgoing) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) statusChanges() []events.OrderStatusChanged {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.OrderStatusChanged
	for _, e := range r.events {
		if d, ok := e.Data.(events.OrderStatusChanged); ok && e.Type == events.TypeOrderStatusChanged {
			out = append(out, d)
		}
	}
	return out
}

var seq atomic.Int64

type fixture struct {
	ctx       context.Context
	cs        kubernetes.Interface
	db        *pgxpool.Pool
	redis     *redistest.Redis
	keeper    *secrets.Keeper
	x         *nodeexec.Executor
	emitted   *recorder
	clusterID int64
	poolID    int64
	// p prefixes the test's node, namespace and host names: the API server is shared.
	p string
}

// newFixture: a cluster "c1" whose credentials reach the test API server, a
// pool selecting pool=general whose node_labels add team=infra, and an
// executor with a short drain timeout.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := kubetest.Start(t)
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ctx: context.Background(), cs: kubernetes.NewForConfigOrDie(cfg), db: pgtest.NewPool(t), redis: redistest.New(t),
		keeper: localsecrets.NewKeeper(key), emitted: &recorder{}, p: fmt.Sprintf("t%d-", seq.Add(1))}
	// The test server's certificate is self-signed: a kubeconfig says so, as
	// an operator's would for such a cluster.
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c1, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: c1, context: {cluster: c1, user: u}}]
current-context: c1
`, cfg.Host, cfg.BearerToken)
	sealed, err := clustercred.Seal(f.ctx, f.keeper, clustercred.Credentials{Kubeconfig: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	f.exec(t, "INSERT INTO clusters (name, idc, credentials) VALUES ('c1', 'bj1', $1) RETURNING id", []any{sealed}, &f.clusterID)
	f.exec(t, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector, node_labels)
		VALUES ($1, 'general', 'general', 'pool=general', '{"team": "infra"}') RETURNING id`, []any{f.clusterID}, &f.poolID)
	f.x = f.executor(nodeexec.Deps{})
	return f
}

// executor builds an executor on the fixture's database, keeper, locks and recorder.
func (f *fixture) executor(d nodeexec.Deps) *nodeexec.Executor {
	d.DB, d.Keeper, d.Emitter = f.db, f.keeper, f.emitted
	d.Locks = lock.New(f.redis.Client, f.redis.Prefix)
	if d.Options.DrainTimeout == 0 {
		d.Options = kube.OpOptions{DrainTimeout: 2 * time.Second, EvictRetry: 200 * time.Millisecond}
	}
	return nodeexec.New(d)
}

func (f *fixture) exec(t *testing.T, sql string, args []any, into ...any) {
	t.Helper()
	if len(into) == 0 {
		if _, err := f.db.Exec(f.ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := f.db.QueryRow(f.ctx, sql, args...).Scan(into...); err != nil {
		t.Fatal(err)
	}
}

// device inserts a device whose hostname is the (prefixed) node name.
func (f *fixture) device(t *testing.T, host, status string) (int64, string) {
	t.Helper()
	name := f.p + host
	var id int64
	var cluster, pool *int64
	if status != "idle" {
		cluster, pool = &f.clusterID, &f.poolID
	}
	f.exec(t, "INSERT INTO devices (hostname, idc, status, cluster_id, pool_id) VALUES ($1, 'bj1', $2, $3, $4) RETURNING id",
		[]any{name, status, cluster, pool}, &id)
	return id, name
}

// order creates an order of the fixture's pool (maintenance and uncordon:
// no pool) holding devices, and moves it through the statuses given.
func (f *fixture) order(t *testing.T, action string, devices []int64, statuses ...string) int64 {
	t.Helper()
	n := postgres.NewOrder{ActionType: action, DeviceIDs: devices, Reason: "test", CreatedBy: "tester"}
	if action == "pool_entry" || action == "pool_exit" {
		n.ClusterID, n.PoolID = &f.clusterID, &f.poolID
	} else {
		n.DeviceID = &devices[0]
		n.ExternalSystem, n.ExternalTicketID = "test", f.p+action
	}
	var o postgres.Order
	err := postgres.InTx(f.ctx, f.db, func(tx pgx.Tx) error {
		var err error
		o, err = postgres.CreateOrder(f.ctx, tx, n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range statuses {
		f.move(t, o.ID, s)
	}
	return o.ID
}

func (f *fixture) move(t *testing.T, id int64, status string) {
	t.Helper()
	if _, _, err := postgres.TransitionOrder(f.ctx, f.db, id, status, 0, "tester", "test"); err != nil {
		t.Fatalf("order %d → %s: %v", id, status, err)
	}
}

func (f *fixture) getOrder(t *testing.T, id int64) postgres.Order {
	t.Helper()
	o, err := postgres.GetOrder(f.ctx, f.db, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// rows are an order's order_devices as "hostname status: error".
func (f *fixture) rows(t *testing.T, id int64) map[string]string {
	t.Helper()
	rows, err := f.db.Query(f.ctx, `SELECT d.hostname, od.status, od.error FROM order_devices od JOIN devices d ON d.id = od.device_id
		WHERE od.order_id = $1`, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var h, s, e string
		if err := rows.Scan(&h, &s, &e); err != nil {
			t.Fatal(err)
		}
		out[h] = s
		if e != "" {
			out[h] += ": " + e
		}
	}
	return out
}

func (f *fixture) deviceStatus(t *testing.T, id int64) string {
	t.Helper()
	var s string
	f.exec(t, "SELECT status FROM devices WHERE id = $1", []any{id}, &s)
	return s
}

func (f *fixture) objects() kubetest.Objects { return kubetest.Objects{Ctx: f.ctx, CS: f.cs} }

func (f *fixture) node(t *testing.T, name string, labels map[string]string, unschedulable bool, taints ...corev1.Taint) {
	f.objects().Node(t, name, labels, unschedulable, taints...)
}

func (f *fixture) get(t *testing.T, name string) *corev1.Node { return f.objects().GetNode(t, name) }

func (f *fixture) namespace(t *testing.T) string {
	ns := f.p + "ns"
	f.objects().Namespace(t, ns)
	return ns
}

func (f *fixture) runningPod(t *testing.T, ns, name, node string, labels map[string]string, mutate func(*corev1.Pod)) {
	f.objects().RunningPod(t, ns, name, node, labels, mutate)
}

// terminating says whether the pod is gone or being deleted (evicted).
func (f *fixture) terminating(t *testing.T, ns, name string) bool {
	t.Helper()
	p, err := f.cs.CoreV1().Pods(ns).Get(f.ctx, name, metav1.GetOptions{})
	return err != nil || p.DeletionTimestamp != nil
}

// pdb protects the pods labelled app=<app> with a budget that allows no
// disruption (nobody computes PDB status here: it is set by hand).
func (f *fixture) pdb(t *testing.T, ns, app string) {
	t.Helper()
	one := intstr.FromInt32(1)
	p, err := f.cs.PolicyV1().PodDisruptionBudgets(ns).Create(f.ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: app},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: p.Generation, DisruptionsAllowed: 0,
		CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 1}
	if _, err := f.cs.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(f.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func taintKeys(n *corev1.Node) []string {
	out := []string{}
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key)
	}
	return out
}

// auditCount counts an order's audit rows of action.
func (f *fixture) auditCount(t *testing.T, id int64, action string) int {
	t.Helper()
	var n int
	f.exec(t, "SELECT count(*) FROM audit_log WHERE target_type = 'order' AND target_id = $1 AND action = $2",
		[]any{fmt.Sprint(id), action}, &n)
	return n
}
