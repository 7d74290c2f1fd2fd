package orders

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gocloud.dev/secrets/localsecrets"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/elasticpool/elasticpool/functions/nodeops"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi/apitest"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/kubetest"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
)

// Executing (and retrying) an order queues its node operations; POST
// …/operations queues another run of a processing order.
func TestOrderOperationsQueue(t *testing.T) {
	fx := newOrderFixture(t)
	d := fx.idleDevice(t)
	o := fx.order(t, "pool_entry", fx.pool, d.ID)
	url := fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/operations", o.ID)

	// Not processing yet: nothing to run.
	p := fx.operator.Must(http.StatusConflict, "POST", url, map[string]any{"dryRun": false}).Problem(t)
	if !strings.Contains(p.Detail, "pending") {
		t.Errorf("got %q; want the status named", p.Detail)
	}
	if got := fx.emitted.ofType(events.TypeOrderExecute); len(got) != 0 {
		t.Fatalf("a pending order queued %d executions", len(got))
	}

	o = fx.move(t, o, "processing", http.StatusOK)
	got := fx.emitted.ofType(events.TypeOrderExecute)
	if len(got) != 1 || got[0].ID != fmt.Sprintf("order-%d-v2-execute", o.ID) ||
		got[0].Data.(events.OrderExecute) != (events.OrderExecute{OrderID: o.ID, OrderNumber: o.OrderNumber, Action: "pool_entry", RequestedBy: "oscar"}) {
		t.Fatalf("execute emitted %+v; want one order.execute for version 2", got)
	}

	var q OrderOperations
	fx.operator.Must(http.StatusAccepted, "POST", url, map[string]any{"dryRun": false}).JSON(t, &q)
	if !q.Queued || q.OrderID != o.ID || q.OrderStatus != "processing" || q.DryRun {
		t.Errorf("got %+v; want queued for the processing order", q)
	}
	if got := fx.emitted.ofType(events.TypeOrderExecute); len(got) != 2 || got[1].ID != q.EventID || got[1].ID == got[0].ID {
		t.Errorf("emitted %+v; want a second execute event with the answered id", got)
	}

	// A failed order is retried: that queues a run too (it continues where it stopped).
	o = fx.move(t, o, "failed", http.StatusOK)
	fx.operator.Must(http.StatusConflict, "POST", url, map[string]any{"dryRun": false})
	o = fx.move(t, o, "processing", http.StatusOK)
	if got := fx.emitted.ofType(events.TypeOrderExecute); len(got) != 3 || got[2].ID != fmt.Sprintf("order-%d-v%d-execute", o.ID, o.Version) {
		t.Errorf("retry: emitted %+v", got)
	}

	fx.viewer.Must(http.StatusForbidden, "POST", url, map[string]any{"dryRun": false})
	fx.operator.Must(http.StatusNotFound, "POST", "/api/v1/elastic-scaling/orders/999999/operations", map[string]any{"dryRun": false})
	if locs := fx.operator.Must(http.StatusUnprocessableEntity, "POST", url, map[string]any{}).Problem(t).Locations(); !cmp.Equal(locs, []string{"body.dryRun"}) {
		t.Errorf("missing dryRun: got %v", locs)
	}
	// No node operations wired (Knative: the API does not link client-go): a preview is 503.
	fx.operator.Must(http.StatusServiceUnavailable, "POST", url, map[string]any{"dryRun": true})
	fx.f.emitter = nil
	fx.operator.Must(http.StatusServiceUnavailable, "POST", url, map[string]any{"dryRun": false})
}

// A preview through the API against a real kube-apiserver: the planned
// steps, server-side dry run, nothing changed in the cluster or the order.
func TestOrderOperationsPreview(t *testing.T) {
	ctx := context.Background()
	cfg := kubetest.Start(t) // a server of its own: this package has no kubetest.Main
	cs := kubernetes.NewForConfigOrDie(cfg)
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	keeper := localsecrets.NewKeeper(key)
	fx := newOrderFixture(t)
	x := nodeexec.New(nodeexec.Deps{DB: fx.db.Pool, Keeper: keeper, Options: kube.OpOptions{DrainTimeout: 5 * time.Second}})
	f := New(Deps{DB: fx.db.Pool, Auth: mustAuth(), Location: fx.f.loc, Keeper: keeper, NodeOps: x, Emitter: fx.emitted})
	admin := apitest.New(t, f.Routes(), f.API(), adminToken, coverage)
	operator := admin.As(operatorToken)

	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, cfg.Host, cfg.BearerToken)
	admin.Must(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/clusters/%d/credentials", fx.cluster.ID), map[string]any{"kubeconfig": kubeconfig})
	admin.Must(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/pools/%d", fx.pool.ID),
		map[string]any{"name": "general", "poolType": "general", "nodeSelector": "pool=general", "version": fx.pool.Version})

	d := fx.idleDevice(t)
	taint := corev1.Taint{Key: kube.DefaultNotReadyTaint, Effect: corev1.TaintEffectNoSchedule}
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: d.Hostname},
		Spec: corev1.NodeSpec{Unschedulable: true, Taints: []corev1.Taint{taint}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before, err := cs.CoreV1().Nodes().Get(ctx, d.Hostname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := fx.order(t, "pool_entry", fx.pool, d.ID)

	// Knative mode: the API asks the nodeops Service's internal route.
	srv := httptest.NewServer(nodeops.PreviewHandler(x))
	t.Cleanup(srv.Close)
	remote := New(Deps{DB: fx.db.Pool, Auth: mustAuth(), Location: fx.f.loc, NodeOps: RemoteNodeOps{URL: srv.URL}})
	remoteOperator := apitest.New(t, remote.Routes(), remote.API(), operatorToken, coverage)

	for name, c := range map[string]*apitest.Client{"local": operator, "remote": remoteOperator} {
		var plan OrderOperations
		c.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/operations", o.ID), map[string]any{"dryRun": true}).JSON(t, &plan)
		if !plan.DryRun || plan.Queued || len(plan.Devices) != 1 {
			t.Fatalf("%s: got %+v; want a dry-run plan of one device", name, plan)
		}
		var acts []string
		for _, s := range plan.Devices[0].Steps {
			acts = append(acts, s.Action+" "+s.Detail)
		}
		if want := []string{"label pool=general", "untaint " + kube.DefaultNotReadyTaint, "uncordon "}; plan.Devices[0].Status != "done" || !cmp.Equal(want, acts) {
			t.Errorf("%s: planned %s %v; want done with %v", name, plan.Devices[0].Status, acts, want)
		}
	}
	after, err := cs.CoreV1().Nodes().Get(ctx, d.Hostname, metav1.GetOptions{})
	if err != nil || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the preview changed the node (resourceVersion %s → %s)", before.ResourceVersion, after.ResourceVersion)
	}
	var now OrderView
	operator.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d", o.ID), nil).JSON(t, &now)
	var devs struct{ Items []OrderDevice }
	operator.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/devices", o.ID), nil).JSON(t, &devs)
	if now.Version != o.Version || now.Status != "pending" || len(devs.Items) != 1 || devs.Items[0].Status != "pending" {
		t.Errorf("the preview changed the order: %s v%d, devices %+v", now.Status, now.Version, devs.Items)
	}
	// A closed order has nothing to preview.
	c := fx.move(t, o, "cancelled", http.StatusOK)
	for _, cl := range []*apitest.Client{operator, remoteOperator} {
		cl.Must(http.StatusConflict, "POST", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/operations", c.ID), map[string]any{"dryRun": true})
		cl.Must(http.StatusNotFound, "POST", "/api/v1/elastic-scaling/orders/999999/operations", map[string]any{"dryRun": true})
	}
	// nodeops unreachable: a gateway error, not the API's own.
	srv.Close()
	remoteOperator.Must(http.StatusBadGateway, "POST", fmt.Sprintf("/api/v1/elastic-scaling/orders/%d/operations", o.ID), map[string]any{"dryRun": true})
}
