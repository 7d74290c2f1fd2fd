package kubetest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Objects creates the nodes, namespaces and pods tests of node operations
// need on a server without kubelets or controllers.
type Objects struct {
	Ctx context.Context
	CS  kubernetes.Interface
}

// Node creates a node.
func (o Objects) Node(t testing.TB, name string, labels map[string]string, unschedulable bool, taints ...corev1.Taint) {
	t.Helper()
	_, err := o.CS.CoreV1().Nodes().Create(o.Ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.NodeSpec{Unschedulable: unschedulable, Taints: taints}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// GetNode reads a node.
func (o Objects) GetNode(t testing.TB, name string) *corev1.Node {
	t.Helper()
	n, err := o.CS.CoreV1().Nodes().Get(o.Ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Namespace creates a namespace.
func (o Objects) Namespace(t testing.TB, name string) {
	t.Helper()
	if _, err := o.CS.CoreV1().Namespaces().Create(o.Ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// RunningPod creates a pod bound to node and marks it Running and Ready
// (no kubelet here; PodDisruptionBudgets only protect healthy pods).
func (o Objects) RunningPod(t testing.TB, ns, name, node string, labels map[string]string, mutate func(*corev1.Pod)) {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
	if mutate != nil {
		mutate(p)
	}
	p, err := o.CS.CoreV1().Pods(ns).Create(o.Ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if _, err := o.CS.CoreV1().Pods(ns).UpdateStatus(o.Ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}
