// Tests of the Knative manifests: every object the overlays render is
// created, with server-side dry run and strict field validation, in a real
// kube-apiserver that has the Knative Serving and Eventing CRDs installed
// from their Go module downloads. Trigger specs preserve unknown fields on the
// server, so Triggers get a structural check of their own and are compared
// with the local broker's routing table (events.Triggers).
package infra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/elasticpool/elasticpool/shared/kubetest"
)

// The Knative releases whose CRD schemas the manifests are held to.
const (
	servingModule  = "knative.dev/serving@v0.51.0"
	eventingModule = "knative.dev/eventing@v0.45.0"
)

// overlays are the deployable renders.
var overlays = []string{"overlays/dev", "overlays/prod"}

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// cluster is the shared API server with the Knative CRDs installed.
type cluster struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

var (
	clusterOnce sync.Once
	clusterVal  *cluster
	clusterErr  error
)

func knativeCluster(t *testing.T) *cluster {
	t.Helper()
	clusterOnce.Do(func() {
		clusterVal, clusterErr = installKnative(t, kubetest.Start(t))
	})
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	return clusterVal
}

func installKnative(t *testing.T, rc *rest.Config) (*cluster, error) {
	serving, err := moduleDir(servingModule)
	if err != nil {
		return nil, err
	}
	eventing, err := moduleDir(eventingModule)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	names, err := kubetest.InstallCRDs(ctx, rc,
		filepath.Join(serving, "config", "core", "300-resources"),
		filepath.Join(eventing, "config", "core", "resources"))
	if err != nil {
		return nil, err
	}
	t.Logf("installed %d Knative CRDs", len(names))
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, err
	}
	groups, err := restmapper.GetAPIGroupResources(dc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	return &cluster{dyn: dyn, mapper: restmapper.NewDiscoveryRESTMapper(groups)}, nil
}

// moduleDir downloads a module (cached by the go command) and returns its
// folder. It runs outside the repo's module so go.mod is never touched.
func moduleDir(modVersion string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w\n%s%s", modVersion, err, out, stderr.Bytes())
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modVersion, err)
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", modVersion, m.Error)
	}
	return m.Dir, nil
}

var (
	renderMu    sync.Mutex
	renderCache = map[string][]*unstructured.Unstructured{}
)

// render runs kustomize (scripts/kustomize.sh, pinned and cached) on a folder
// of infra/ and returns the objects. Callers must not modify them: use
// DeepCopy.
func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	if objs, ok := renderCache[dir]; ok {
		return objs
	}
	cmd := exec.Command("bash", filepath.Join("..", "scripts", "kustomize.sh"), "build", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderr.Bytes())
	}
	objs, err := kubetest.DecodeYAML(out)
	if err != nil {
		t.Fatalf("kustomize build %s: decode: %v", dir, err)
	}
	if len(objs) == 0 {
		t.Fatalf("kustomize build %s rendered nothing", dir)
	}
	renderCache[dir] = objs
	return objs
}

// dryRun creates o in the API server with server-side dry run and strict
// field validation: schema, types, required fields and unknown fields are
// all checked, nothing is stored.
func (c *cluster) dryRun(ctx context.Context, o *unstructured.Unstructured, ns string) error {
	ri, err := c.resource(o, ns)
	if err != nil {
		return err
	}
	_, err = ri.Create(ctx, o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict})
	return err
}

func (c *cluster) resource(o *unstructured.Unstructured, ns string) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s: no such kind in the API server: %w", gvk, o.GetName(), err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if ns == "" {
			ns = o.GetNamespace()
		}
		if ns == "" {
			return nil, fmt.Errorf("%s %s has no namespace", gvk.Kind, o.GetName())
		}
		return c.dyn.Resource(m.Resource).Namespace(ns), nil
	}
	return c.dyn.Resource(m.Resource), nil
}

// ensureNamespace creates a namespace for real (dry-run objects still need
// their namespace to exist).
func (c *cluster) ensureNamespace(ctx context.Context, t *testing.T, name string, labels map[string]string) {
	t.Helper()
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(name)
	ns.SetLabels(labels)
	ri, err := c.resource(ns, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ri.Create(ctx, ns, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

func describe(o *unstructured.Unstructured) string {
	return o.GetKind() + "/" + o.GetName()
}

// Every object of every overlay is accepted by the API server with the
// Knative CRDs' schemas and strict field validation.
func TestOverlaysAreValidOnKubeAPIServer(t *testing.T) {
	c := knativeCluster(t)
	ctx := context.Background()
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			objs := render(t, overlay)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.GetKind()]++
				if o.GetKind() == "Namespace" {
					c.ensureNamespace(ctx, t, o.GetName(), o.GetLabels())
				}
			}
			for _, want := range []string{"Namespace", "ConfigMap", "Service", "Broker", "Trigger", "PingSource", "SinkBinding", "Job"} {
				if kinds[want] == 0 {
					t.Errorf("%s renders no %s", overlay, want)
				}
			}
			accepted := kinds["Namespace"] // created for real above
			for _, o := range objs {
				if o.GetKind() == "Namespace" {
					continue
				}
				if err := c.dryRun(ctx, o, ""); err != nil {
					t.Errorf("%s: %v", describe(o), err)
					continue
				}
				accepted++
			}
			t.Logf("%s: %d of %d objects accepted: %v", overlay, accepted, len(objs), kinds)
		})
	}
}

// Each function's folder is valid on its own, including the functions whose
// code has not landed yet (their folders are not listed in base until then).
func TestFunctionFoldersAreValidOnKubeAPIServer(t *testing.T) {
	c := knativeCluster(t)
	ctx := context.Background()
	c.ensureNamespace(ctx, t, "function-folders", nil)
	dirs, err := filepath.Glob("base/functions/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no function folders in base/functions")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			for _, o := range render(t, dir) {
				if err := c.dryRun(ctx, o, "function-folders"); err != nil {
					t.Errorf("%s: %v", describe(o), err)
				}
			}
		})
	}
}

// A misspelled or mistyped field fails validation: the check above would
// catch a typo in infra/. Triggers are the exception the server cannot
// catch (their spec preserves unknown fields): TestTriggerSpecsAreStrict
// covers them.
func TestMisspelledFieldsAreRejected(t *testing.T) {
	c := knativeCluster(t)
	ctx := context.Background()
	objs := render(t, "overlays/dev")
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			c.ensureNamespace(ctx, t, o.GetName(), o.GetLabels())
		}
	}
	find := func(kind, name string) *unstructured.Unstructured {
		for _, o := range objs {
			if o.GetKind() == kind && (name == "" || o.GetName() == name) {
				return o.DeepCopy()
			}
		}
		t.Fatalf("no %s %s in overlays/dev", kind, name)
		return nil
	}
	container := func(o *unstructured.Unstructured) map[string]any {
		cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		return cs[0].(map[string]any)
	}
	rename := func(m map[string]any, from, to string) {
		m[to] = m[from]
		delete(m, from)
	}
	tests := []struct {
		name   string
		kind   string
		mutate func(o *unstructured.Unstructured)
		want   string // in the error
	}{
		{"Service containerConcurrency misspelled", "Service", func(o *unstructured.Unstructured) {
			spec, _, _ := unstructured.NestedMap(o.Object, "spec", "template", "spec")
			rename(spec, "containerConcurrency", "containerConcurency")
			_ = unstructured.SetNestedMap(o.Object, spec, "spec", "template", "spec")
		}, `unknown field "spec.template.spec.containerConcurency"`},
		{"Service container image misspelled", "Service", func(o *unstructured.Unstructured) {
			c := container(o)
			rename(c, "image", "imgae")
			_ = unstructured.SetNestedSlice(o.Object, []any{c}, "spec", "template", "spec", "containers")
		}, `unknown field "spec.template.spec.containers[0].imgae"`},
		{"Service probe path misspelled", "Service", func(o *unstructured.Unstructured) {
			c := container(o)
			rename(c["readinessProbe"].(map[string]any)["httpGet"].(map[string]any), "path", "pth")
			_ = unstructured.SetNestedSlice(o.Object, []any{c}, "spec", "template", "spec", "containers")
		}, `unknown field "spec.template.spec.containers[0].readinessProbe.httpGet.pth"`},
		{"Service containerConcurrency as a string", "Service", func(o *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(o.Object, "8", "spec", "template", "spec", "containerConcurrency")
		}, `spec.template.spec.containerConcurrency`},
		{"PingSource schedule misspelled", "PingSource", func(o *unstructured.Unstructured) {
			spec, _, _ := unstructured.NestedMap(o.Object, "spec")
			rename(spec, "schedule", "schedul")
			_ = unstructured.SetNestedMap(o.Object, spec, "spec")
		}, `unknown field "spec.schedul"`},
		{"PingSource sink ref name misspelled", "PingSource", func(o *unstructured.Unstructured) {
			ref, _, _ := unstructured.NestedMap(o.Object, "spec", "sink", "ref")
			rename(ref, "name", "nme")
			_ = unstructured.SetNestedMap(o.Object, ref, "spec", "sink", "ref")
		}, `unknown field "spec.sink.ref.nme"`},
		{"SinkBinding subject misspelled", "SinkBinding", func(o *unstructured.Unstructured) {
			spec, _, _ := unstructured.NestedMap(o.Object, "spec")
			rename(spec, "subject", "subjct")
			_ = unstructured.SetNestedMap(o.Object, spec, "spec")
		}, `unknown field "spec.subjct"`},
		{"Broker delivery retry as a string", "Broker", func(o *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(o.Object, "ten", "spec", "delivery", "retry")
		}, `spec.delivery.retry`},
		{"Job envFrom misspelled", "Job", func(o *unstructured.Unstructured) {
			c := container(o)
			rename(c, "envFrom", "envfrom")
			_ = unstructured.SetNestedSlice(o.Object, []any{c}, "spec", "template", "spec", "containers")
		}, `unknown field "spec.template.spec.containers[0].envfrom"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := find(tt.kind, "")
			if err := c.dryRun(ctx, o, ""); err != nil {
				t.Fatalf("unmodified %s rejected: %v", describe(o), err)
			}
			tt.mutate(o)
			err := c.dryRun(ctx, o, "")
			if err == nil {
				t.Fatalf("got accepted, want rejected with %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to mention %q", err, tt.want)
			}
		})
	}

	// The known gap, kept visible: a misspelled Trigger field passes the
	// server. If this starts failing, Knative's schema became strict.
	t.Run("Trigger misspelling passes the server", func(t *testing.T) {
		o := find("Trigger", "")
		spec, _, _ := unstructured.NestedMap(o.Object, "spec")
		rename(spec, "subscriber", "subscribr")
		_ = unstructured.SetNestedMap(o.Object, spec, "spec")
		if err := c.dryRun(ctx, o, ""); err != nil {
			t.Logf("the server now rejects it (good): %v", err)
		}
		if err := checkTriggerSpec(o); err == nil {
			t.Error("checkTriggerSpec accepted spec.subscribr")
		}
	})
}
