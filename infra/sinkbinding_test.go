package infra_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// subject is a SinkBinding's spec.subject (Knative's tracker.Reference).
type subject struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Namespace  string                `json:"namespace"`
	Name       string                `json:"name"`
	Selector   *metav1.LabelSelector `json:"selector"`
}

// Every function Service gets K_SINK from a SinkBinding whose subject selects
// it. Functions emit whatever their trigger: collect, on its own PingSource
// outside the Broker, queues order.execute for orders whose node joined.
func TestEveryServiceGetsKSink(t *testing.T) {
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			objs := render(t, overlay)
			var subjects []subject
			for _, sb := range ofKind(objs, "SinkBinding") {
				raw, _, _ := unstructured.NestedMap(sb.Object, "spec", "subject")
				var s subject
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &s); err != nil {
					t.Fatalf("SinkBinding %s: subject: %v", sb.GetName(), err)
				}
				if s.Namespace == "" {
					s.Namespace = sb.GetNamespace()
				}
				subjects = append(subjects, s)
			}
			selected := func(name, ns string, l map[string]string) bool {
				for _, s := range subjects {
					if s.APIVersion != "serving.knative.dev/v1" || s.Kind != "Service" || s.Namespace != ns {
						continue
					}
					if s.Name != "" {
						if s.Name == name {
							return true
						}
						continue
					}
					sel, err := metav1.LabelSelectorAsSelector(s.Selector)
					if err != nil {
						t.Fatalf("SinkBinding selector: %v", err)
					}
					if s.Selector != nil && !sel.Empty() && sel.Matches(labels.Set(l)) {
						return true
					}
				}
				return false
			}
			checked := map[string]bool{}
			for _, svc := range ofKind(objs, "Service") {
				if svc.GetAPIVersion() != "serving.knative.dev/v1" {
					continue
				}
				checked[svc.GetName()] = true
				if !selected(svc.GetName(), svc.GetNamespace(), svc.GetLabels()) {
					t.Errorf("Service %s: no SinkBinding selects it, so it has no K_SINK", svc.GetName())
				}
			}
			if !checked["collect"] {
				t.Error("no Knative Service collect rendered")
			}
		})
	}
}
