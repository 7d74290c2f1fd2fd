package collect

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/kubetest"
	"github.com/elasticpool/elasticpool/shared/pgtest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

func testKeeper(t *testing.T) *secrets.Keeper {
	k, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	kp := localsecrets.NewKeeper(k)
	t.Cleanup(func() { _ = kp.Close() })
	return kp
}

func addCluster(t *testing.T, db *pgxpool.Pool, kp *secrets.Keeper, name string, creds *clustercred.Credentials) int64 {
	t.Helper()
	ctx := context.Background()
	var sealed []byte
	if creds != nil {
		var err error
		if sealed, err = clustercred.Seal(ctx, kp, *creds); err != nil {
			t.Fatal(err)
		}
	}
	var id int64
	if err := db.QueryRow(ctx, `INSERT INTO clusters (name, idc, credentials) VALUES ($1, 'idc1', $2) RETURNING id`, name, sealed).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func mustExec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func q(s string) resource.Quantity { return resource.MustParse(s) }

func makeNode(t *testing.T, cs kubernetes.Interface, name string, labels map[string]string, cpu, mem string) {
	t.Helper()
	ctx := context.Background()
	n, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: q(cpu), corev1.ResourceMemory: q(mem)}
	n.Status.Capacity = n.Status.Allocatable
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func req(cpu, mem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: q(cpu), corev1.ResourceMemory: q(mem)}}
}

func makePod(t *testing.T, cs kubernetes.Interface, ns, name, node string, phase corev1.PodPhase, init []corev1.ResourceRequirements, ctrs ...corev1.ResourceRequirements) {
	t.Helper()
	ctx := context.Background()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: node}}
	for i, r := range init {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init" + string(rune('a'+i)), Image: "x", Resources: r})
	}
	for i, r := range ctrs {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c" + string(rune('a'+i)), Image: "x", Resources: r})
	}
	p, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if phase != "" {
		p.Status.Phase = phase
		if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCollect runs the collector against a real kube-apiserver: the
// snapshot numbers must equal the sums computed by hand below.
func TestCollect(t *testing.T) {
	ctx := context.Background()
	cfg := kubetest.Start(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	db := pgtest.NewPool(t)
	kp := testKeeper(t)

	good := addCluster(t, db, kp, "good", &clustercred.Credentials{Kubeconfig: kube.KubeconfigFor(cfg)})
	broken := addCluster(t, db, kp, "broken", &clustercred.Credentials{Kubeconfig: kube.KubeconfigFor(&rest.Config{
		Host: "https://127.0.0.1:1", BearerToken: "x", TLSClientConfig: rest.TLSClientConfig{Insecure: true}})})
	manual := addCluster(t, db, kp, "manual", nil)
	var general, gpu, empty int64
	for _, p := range []struct {
		id       *int64
		name     string
		selector string
	}{{&general, "general", "pool=general"}, {&gpu, "gpu", "pool=gpu"}, {&empty, "empty", "pool=none"}} {
		if err := db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector) VALUES ($1, $2, $2, $3) RETURNING id`,
			good, p.name, p.selector).Scan(p.id); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, db, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector) VALUES ($1, 'general', 'general', 'pool=general')`, broken)

	makeNode(t, cs, "n1", map[string]string{"pool": "general", "zone": "a"}, "4", "8Gi")
	makeNode(t, cs, "n2", map[string]string{"pool": "general"}, "8", "16Gi")
	makeNode(t, cs, "n3", map[string]string{"pool": "gpu"}, "16", "32Gi")
	makeNode(t, cs, "n4", nil, "2", "4Gi")
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "work"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// n1: init 2 CPU/1Gi beats containers 750m; containers 2304Mi beat init 1Gi.
	makePod(t, cs, "work", "p1", "n1", corev1.PodRunning, []corev1.ResourceRequirements{req("2", "1Gi")}, req("500m", "2Gi"), req("250m", "256Mi"))
	makePod(t, cs, "work", "p2", "n2", corev1.PodRunning, nil, req("1", "1Gi"))
	makePod(t, cs, "work", "p3", "n2", corev1.PodSucceeded, nil, req("3", "3Gi")) // terminal: not counted
	makePod(t, cs, "work", "p4", "n3", corev1.PodFailed, nil, req("3", "3Gi"))    // terminal: not counted
	makePod(t, cs, "work", "p5", "n3", "", nil, req("4", "8Gi"))                  // pending but bound: counted
	makePod(t, cs, "work", "p6", "", "", nil, req("4", "8Gi"))                    // unscheduled: not counted

	// Devices: n1 by hostname (idle), n2 by node name (in the pool), one whose node is gone.
	mustExec(t, db, `INSERT INTO devices (hostname) VALUES ('n1')`)
	mustExec(t, db, `INSERT INTO devices (hostname, status, cluster_id, pool_id, node_name, node_cpu_allocated) VALUES ('dev-n2', 'in_pool', $1, $2, 'n2', 1)`, good, general)
	mustExec(t, db, `INSERT INTO devices (hostname, status, cluster_id, pool_id, node_name, node_cpu_allocated) VALUES ('gone', 'in_pool', $1, $2, 'n9', 7)`, good, general)

	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC) // 07:30 on the 30th in Shanghai
	f := New(Deps{DB: db, Keeper: kp, Location: loc, Now: func() time.Time { return at.Add(time.Hour) }, ClusterTimeout: 20 * time.Second})

	ping := cloudevents.NewEvent()
	ping.SetID("tick-1")
	ping.SetType(events.TypePing)
	ping.SetSource("/apis/v1/namespaces/elasticpool/pingsources/hourly-collect")
	ping.SetTime(at)
	if err := f.Handle(ctx, ping); err != nil {
		t.Fatalf("Handle: %v", err)
	}

	type snap struct {
		Pool           int64
		CPUCap, CPUAll int64
		CPUUse         *int64
		MemCap, MemAll int64
		MemUse         *int64
		Nodes          int
		Day            string
		Source         string
	}
	rows, err := db.Query(ctx, `SELECT pool_id, cpu_capacity, cpu_allocated, cpu_usage, mem_capacity, mem_allocated, mem_usage,
		node_count, day::text, source FROM cluster_resource_snapshots WHERE captured_at = $1 ORDER BY pool_id`, at)
	if err != nil {
		t.Fatal(err)
	}
	var got []snap
	for rows.Next() {
		var s snap
		if err := rows.Scan(&s.Pool, &s.CPUCap, &s.CPUAll, &s.CPUUse, &s.MemCap, &s.MemAll, &s.MemUse, &s.Nodes, &s.Day, &s.Source); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	const gi, mi = int64(1) << 30, int64(1) << 20
	want := []snap{
		{Pool: general, CPUCap: 12000, CPUAll: 2000 + 1000, MemCap: 24 * gi, MemAll: 2304*mi + 1*gi, Nodes: 2, Day: "2026-11-30", Source: "collector"},
		{Pool: gpu, CPUCap: 16000, CPUAll: 4000, MemCap: 32 * gi, MemAll: 8 * gi, Nodes: 1, Day: "2026-11-30", Source: "collector"},
		{Pool: empty, Day: "2026-11-30", Source: "collector"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("snapshots (-want +got):\n%s", d)
	}
	var daily int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM pool_daily_snapshots WHERE captured_at = $1 AND day = '2026-11-30'`, at).Scan(&daily); err != nil || daily != 3 {
		t.Errorf("got %d daily rows (%v), want 3", daily, err)
	}

	// Per-cluster outcome: the broken cluster did not stop the good one.
	type coll struct {
		Status, Error  string
		Metrics        bool
		Notes, Unknown string
		Vanished       string
	}
	read := func(id int64) coll {
		var c coll
		if err := db.QueryRow(ctx, `SELECT status, error, metrics_available, notes::text, unknown_nodes::text, vanished_devices::text
			FROM cluster_collections WHERE cluster_id = $1`, id).Scan(&c.Status, &c.Error, &c.Metrics, &c.Notes, &c.Unknown, &c.Vanished); err != nil {
			t.Fatalf("cluster %d: %v", id, err)
		}
		return c
	}
	g := read(good)
	if g.Status != "ok" || g.Metrics || g.Unknown != `["n3", "n4"]` {
		t.Errorf("good cluster: got %+v, want ok, no metrics, unknown n3 n4", g)
	}
	var vanished []clustercred.VanishedDevice
	_ = json.Unmarshal([]byte(g.Vanished), &vanished)
	if len(vanished) != 1 || vanished[0].Hostname != "gone" || vanished[0].NodeName != "n9" {
		t.Errorf("got vanished %s, want the device 'gone' on n9", g.Vanished)
	}
	if !json.Valid([]byte(g.Notes)) || g.Notes == "[]" {
		t.Errorf("got notes %s, want the missing-metrics note", g.Notes)
	}
	if b := read(broken); b.Status != "error" || b.Error == "" {
		t.Errorf("broken cluster: got %+v, want status error with a message", b)
	}
	if m := read(manual); m.Status != "manual" {
		t.Errorf("manual cluster: got %+v, want manual", m)
	}
	var brokenSnaps int
	_ = db.QueryRow(ctx, `SELECT count(*) FROM cluster_resource_snapshots WHERE cluster_id = $1`, broken).Scan(&brokenSnaps)
	if brokenSnaps != 0 {
		t.Errorf("got %d snapshots for the broken cluster, want 0", brokenSnaps)
	}

	// Devices carry the node's name, labels, taints and allocation.
	type dev struct {
		Node, Labels, Taints string
		CPU, Mem             *int64
	}
	readDev := func(host string) dev {
		var d dev
		if err := db.QueryRow(ctx, `SELECT node_name, labels::text, taints::text, node_cpu_allocated, node_mem_allocated FROM devices WHERE hostname = $1`,
			host).Scan(&d.Node, &d.Labels, &d.Taints, &d.CPU, &d.Mem); err != nil {
			t.Fatal(err)
		}
		return d
	}
	n1 := readDev("n1")
	if n1.Node != "n1" || n1.Labels != `{"pool": "general", "zone": "a"}` || n1.CPU == nil || *n1.CPU != 2000 || *n1.Mem != 2304*mi {
		t.Errorf("device n1: got %+v", n1)
	}
	if n2 := readDev("dev-n2"); n2.CPU == nil || *n2.CPU != 1000 {
		t.Errorf("device dev-n2: got %+v, want 1000m allocated", n2)
	}
	if gone := readDev("gone"); gone.CPU != nil {
		t.Errorf("device gone: got %+v, want node data cleared", gone)
	}

	// Collect now, again: same numbers, nothing on the devices changes.
	r, err := f.CollectCluster(ctx, good)
	if err != nil || r.Status != "ok" || r.DevicesUpdated != 0 || r.Snapshots != 3 {
		t.Errorf("collect now: got %+v, %v; want ok, 3 snapshots, 0 devices updated", r, err)
	}
	conn, err := f.TestConnection(ctx, good)
	if err != nil || !conn.OK || conn.Nodes < 4 {
		t.Errorf("test connection: got %+v, %v", conn, err)
	}
	if conn, _ := f.TestConnection(ctx, broken); conn.OK || conn.Error == "" {
		t.Errorf("test connection to the broken cluster: got %+v, want an error", conn)
	}
}
