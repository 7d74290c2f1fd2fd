package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func rl(cpu, mem string) corev1.ResourceList {
	l := corev1.ResourceList{}
	if cpu != "" {
		l[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		l[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return l
}

func ctr(cpu, mem string) corev1.Container {
	return corev1.Container{Name: "c", Resources: corev1.ResourceRequirements{Requests: rl(cpu, mem)}}
}

func sidecar(cpu, mem string) corev1.Container {
	c := ctr(cpu, mem)
	always := corev1.ContainerRestartPolicyAlways
	c.RestartPolicy = &always
	return c
}

func TestPodRequests(t *testing.T) {
	tests := []struct {
		name string
		spec corev1.PodSpec
		want Amount
	}{
		{"no requests", corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}, Amount{}},
		{"containers sum", corev1.PodSpec{Containers: []corev1.Container{ctr("100m", "1Mi"), ctr("250m", "2Mi")}},
			Amount{350, 3 << 20}},
		{"init larger wins per resource", corev1.PodSpec{
			InitContainers: []corev1.Container{ctr("1", "1Mi"), ctr("200m", "10Mi")},
			Containers:     []corev1.Container{ctr("500m", "4Mi")}},
			Amount{1000, 10 << 20}},
		{"init smaller ignored", corev1.PodSpec{
			InitContainers: []corev1.Container{ctr("100m", "1Mi")},
			Containers:     []corev1.Container{ctr("500m", "4Mi")}},
			Amount{500, 4 << 20}},
		{"sidecar adds to containers and to later inits", corev1.PodSpec{
			InitContainers: []corev1.Container{sidecar("100m", "1Mi"), ctr("800m", "1Mi")},
			Containers:     []corev1.Container{ctr("500m", "4Mi")}},
			// containers+sidecar = 600m/5Mi; init after sidecar = 900m/2Mi
			Amount{900, 5 << 20}},
		{"overhead added", corev1.PodSpec{
			Containers: []corev1.Container{ctr("500m", "4Mi")},
			Overhead:   rl("50m", "1Mi")},
			Amount{550, 5 << 20}},
		{"pod-level requests replace containers", corev1.PodSpec{
			Containers: []corev1.Container{ctr("500m", "4Mi")},
			Resources:  &corev1.ResourceRequirements{Requests: rl("2", "")}},
			Amount{2000, 4 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodRequests(&corev1.Pod{Spec: tt.spec})
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func node(name string, labels map[string]string, cpu, mem string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status: corev1.NodeStatus{Allocatable: rl(cpu, mem)}}
}

func pod(nodeName string, phase corev1.PodPhase, cpu, mem string) corev1.Pod {
	return corev1.Pod{Spec: corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{ctr(cpu, mem)}},
		Status: corev1.PodStatus{Phase: phase}}
}

func TestCompute(t *testing.T) {
	nodes := []corev1.Node{
		node("b", map[string]string{"pool": "general"}, "8", "16Gi"),
		node("a", map[string]string{"pool": "general"}, "4", "8Gi"),
		node("g", map[string]string{"pool": "gpu"}, "32", "64Gi"),
		node("x", nil, "2", "2Gi"),
	}
	nodes[0].Spec.Taints = []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule}}
	pods := []corev1.Pod{
		pod("a", corev1.PodRunning, "1", "1Gi"),
		pod("b", corev1.PodPending, "500m", "512Mi"),
		pod("b", corev1.PodSucceeded, "4", "4Gi"), // terminal: excluded
		pod("g", corev1.PodFailed, "4", "4Gi"),    // terminal: excluded
		pod("", corev1.PodPending, "4", "4Gi"),    // unscheduled: excluded
		pod("x", corev1.PodRunning, "100m", "0"),
	}
	pools := []Pool{{ID: 1, Name: "general", Selector: "pool=general"}, {ID: 2, Name: "gpu", Selector: "pool in (gpu)"},
		{ID: 3, Name: "all", Selector: ""}, {ID: 4, Name: "bad", Selector: "pool in ("}}
	usage := map[string]Amount{"a": {100, 1}, "b": {200, 2}}

	got := Compute(pools, nodes, pods, usage)
	want := []PoolTotals{
		{PoolID: 1, Nodes: []string{"a", "b"}, Capacity: Amount{12000, 24 << 30}, Allocated: Amount{1500, 1<<30 + 512<<20},
			Usage: &Amount{300, 3}},
		{PoolID: 2, Nodes: []string{"g"}, Capacity: Amount{32000, 64 << 30}}, // g has no metrics: usage nil
	}
	if d := cmp.Diff(want, got.Pools); d != "" {
		t.Errorf("pools (-want +got):\n%s", d)
	}
	if got.PodsCounted != 3 {
		t.Errorf("got %d pods counted, want 3", got.PodsCounted)
	}
	if len(got.Skipped) != 2 || got.Skipped[3] == "" || got.Skipped[4] == "" {
		t.Errorf("got skipped %v, want pools 3 and 4", got.Skipped)
	}
	if got.Nodes[1].Name != "b" || cmp.Diff([]Taint{{"k", "v", "NoSchedule"}}, got.Nodes[1].Taints) != "" ||
		got.Nodes[1].Allocated != (Amount{500, 512 << 20}) {
		t.Errorf("got node b %+v", got.Nodes[1])
	}
	if noMetrics := Compute(pools[:1], nodes, pods, nil); noMetrics.Pools[0].Usage != nil {
		t.Errorf("got usage %+v without metrics, want nil", noMetrics.Pools[0].Usage)
	}
}
