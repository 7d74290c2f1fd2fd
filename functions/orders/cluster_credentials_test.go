package orders

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"gocloud.dev/secrets/localsecrets"
	"k8s.io/client-go/rest"

	"github.com/elasticpool/elasticpool/functions/collect"
	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/httpapi/apitest"
	"github.com/elasticpool/elasticpool/shared/kube"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

// TestClusterCredentials covers the write-only credentials, test-connection,
// collect-now and the drift view. The real collector is wired in; its numbers
// against a real kube-apiserver are tested in functions/collect. Here the
// cluster is unreachable (loopback port 1), which is also what an operator
// sees for a wrong endpoint.
func TestClusterCredentials(t *testing.T) {
	ctx := context.Background()
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	keeper := localsecrets.NewKeeper(key)
	db := pgtest.New(t)
	r := redistest.New(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	collector := collect.New(collect.Deps{DB: db.Pool, Keeper: keeper, Location: loc, ClusterTimeout: 5 * time.Second})
	f := New(Deps{DB: db.Pool, Redis: r.Client, Auth: mustAuth(), Location: loc, Keeper: keeper, Clusters: collector})
	admin := apitest.New(t, f.Routes(), f.API(), adminToken, coverage)
	viewer, operator := admin.As(viewerToken), admin.As(operatorToken)

	var c Cluster
	admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": "sh-1", "idc": "sh"}).JSON(t, &c)
	base := fmt.Sprintf("/api/v1/clusters/%d", c.ID)

	// Never collected yet.
	var d InventoryDrift
	viewer.Must(http.StatusOK, "GET", base+"/inventory-drift", nil).JSON(t, &d)
	if d.Status != "never" {
		t.Fatalf("got drift status %q, want never", d.Status)
	}
	viewer.Must(http.StatusNotFound, "GET", "/api/v1/clusters/999999/inventory-drift", nil)

	// Wrong shapes are 422; only admins may write.
	admin.Must(http.StatusUnprocessableEntity, "PUT", base+"/credentials", map[string]any{"token": "abc"})
	admin.Must(http.StatusUnprocessableEntity, "PUT", base+"/credentials", map[string]any{})
	admin.Must(http.StatusUnprocessableEntity, "PUT", base+"/credentials", map[string]any{"kubeconfig": "x", "token": "abc"})
	operator.Must(http.StatusForbidden, "PUT", base+"/credentials", map[string]any{"kubeconfig": "x"})

	const token = "s3cret-token-value"
	kubeconfig := kube.KubeconfigFor(&rest.Config{Host: "https://127.0.0.1:1", BearerToken: token, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	res := admin.Must(http.StatusOK, "PUT", base+"/credentials", map[string]any{"kubeconfig": kubeconfig})
	var got Cluster
	res.JSON(t, &got)
	if !got.HasCredentials || got.Version != c.Version+1 {
		t.Fatalf("got %+v, want hasCredentials and the version bumped", got)
	}
	// Never returned, never stored in clear, never in the audit log.
	for _, body := range [][]byte{res.Body, viewer.Must(http.StatusOK, "GET", base, nil).Body} {
		if bytes.Contains(body, []byte(token)) {
			t.Fatalf("the token leaked in a response: %s", body)
		}
	}
	var sealed []byte
	var audit string
	if err := db.Pool.QueryRow(ctx, `SELECT credentials FROM clusters WHERE id = $1`, c.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(token)) {
		t.Fatal("credentials are stored in clear")
	}
	if creds, err := clustercred.Open(ctx, keeper, sealed); err != nil || creds.Kubeconfig != kubeconfig {
		t.Fatalf("decrypt: got %+v, %v", creds, err)
	}
	if err := db.Pool.QueryRow(ctx, `SELECT string_agg(coalesce(after::text, ''), ' ') FROM audit_log WHERE action = 'cluster.credentials.set'`).Scan(&audit); err != nil || bytes.Contains([]byte(audit), []byte(token)) || audit == "" {
		t.Fatalf("audit %q (%v): want an entry without the token", audit, err)
	}

	// The cluster does not answer: the connection test and the collection say so.
	var conn clustercred.ConnectionResult
	admin.Must(http.StatusOK, "POST", base+"/test-connection", nil).JSON(t, &conn)
	if conn.OK || conn.Error == "" {
		t.Fatalf("got %+v, want a failed connection with its error", conn)
	}
	var cr clustercred.CollectResult
	operator.Must(http.StatusOK, "POST", base+"/collect", nil).JSON(t, &cr)
	if cr.Status != clustercred.StatusError || cr.Error == "" {
		t.Fatalf("got %+v, want status error", cr)
	}
	viewer.Must(http.StatusOK, "GET", base+"/inventory-drift", nil).JSON(t, &d)
	if d.Status != "error" || d.Error == "" || d.AttemptedAt == nil || d.SucceededAt != nil {
		t.Fatalf("got drift %+v, want the error recorded", d)
	}

	// Without credentials the cluster is in manual mode.
	admin.Must(http.StatusOK, "DELETE", base+"/credentials", nil).JSON(t, &got)
	if got.HasCredentials {
		t.Fatalf("got %+v after delete, want no credentials", got)
	}
	operator.Must(http.StatusOK, "POST", base+"/collect", nil).JSON(t, &cr)
	if cr.Status != clustercred.StatusManual {
		t.Fatalf("got %+v, want manual", cr)
	}
	admin.Must(http.StatusOK, "POST", base+"/test-connection", nil).JSON(t, &conn)
	if conn.OK {
		t.Fatalf("got %+v without credentials, want not ok", conn)
	}
	operator.Must(http.StatusNotFound, "POST", "/api/v1/clusters/999999/collect", nil)

	// A deployment without a connector or keeper answers 503, not a crash.
	bare := New(Deps{DB: db.Pool, Auth: mustAuth(), Location: loc})
	bareAdmin := apitest.New(t, bare.Routes(), bare.API(), adminToken, coverage)
	bareAdmin.Must(http.StatusServiceUnavailable, "POST", base+"/collect", nil)
	bareAdmin.Must(http.StatusServiceUnavailable, "PUT", base+"/credentials", map[string]any{"kubeconfig": kubeconfig})
}
