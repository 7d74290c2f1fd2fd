package kubetest_test

import (
	"context"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/elasticpool/elasticpool/shared/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// The server is real: it stores objects, validates them and reports its version.
func TestServer(t *testing.T) {
	cs, err := kubernetes.NewForConfig(kubetest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.GitVersion, "v1.37.2"; got != want {
		t.Errorf("server version: got %s want %s", got, want)
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kubetest"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "kubetest"}, Data: map[string]string{"k": "v"}}
	if _, err := cs.CoreV1().ConfigMaps("kubetest").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CoreV1().ConfigMaps("kubetest").Get(ctx, "c", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["k"] != "v" {
		t.Errorf("configmap data: got %v want k=v", got.Data)
	}

	// Validation is the server's: an invalid name is refused.
	bad := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "Not_A_DNS_Name", Namespace: "kubetest"}}
	if _, err := cs.CoreV1().ConfigMaps("kubetest").Create(ctx, bad, metav1.CreateOptions{}); err == nil {
		t.Error("invalid name accepted")
	}
}
