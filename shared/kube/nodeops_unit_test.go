package kube

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/elasticpool/elasticpool/shared/clustercred"
)

func TestDrainable(t *testing.T) {
	ctrl := true
	now := metav1.Now()
	tests := []struct {
		name string
		pod  corev1.Pod
		want bool
	}{
		{"plain", corev1.Pod{}, true},
		{"daemonset", corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{Kind: "DaemonSet", Controller: &ctrl}}}}, false},
		{"replicaset", corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Controller: &ctrl}}}}, true},
		{"mirror", corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{corev1.MirrorPodAnnotationKey: "x"}}}, false},
		{"succeeded", corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded}}, false},
		{"terminating", corev1.Pod{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, why := drainable(&tt.pod); got != tt.want {
				t.Errorf("got %v (%s), want %v", got, why, tt.want)
			}
		})
	}
}

func TestRESTConfig(t *testing.T) {
	kc := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://from-kubeconfig:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: tok}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	cfg, err := RESTConfig("", clustercred.Credentials{Kubeconfig: kc})
	if err != nil || cfg.Host != "https://from-kubeconfig:6443" || cfg.BearerToken != "tok" || cfg.Timeout != RequestTimeout {
		t.Fatalf("got %+v, %v", cfg, err)
	}
	cfg, err = RESTConfig("https://registry:6443", clustercred.Credentials{Kubeconfig: kc})
	if err != nil || cfg.Host != "https://registry:6443" {
		t.Fatalf("endpoint should win: got %+v, %v", cfg, err)
	}
	if _, err := RESTConfig("", clustercred.Credentials{Kubeconfig: "{not yaml"}); err == nil {
		t.Fatal("a broken kubeconfig was accepted")
	}
}
