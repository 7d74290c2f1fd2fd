package infra_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const modulePath = "github.com/elasticpool/elasticpool"

// cmdFunctions are the functions whose container main exists
// (functions/<name>/cmd/*.go).
func cmdFunctions(t *testing.T) []string {
	t.Helper()
	mains, err := filepath.Glob(filepath.Join("..", "functions", "*", "cmd", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mains {
		n := filepath.Base(filepath.Dir(filepath.Dir(m)))
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// listedFunctions are the function folders infra/base/kustomization.yaml deploys.
func listedFunctions(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("base", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ Resources []string }
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range k.Resources {
		if n, ok := strings.CutPrefix(r, "functions/"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// A function is deployed exactly when its container main exists: a new
// function cannot be forgotten in infra/, and infra/ never points ko at a
// package that does not build. (A function whose cmd/ lands adds one line,
// "- functions/<name>", to infra/base/kustomization.yaml.)
func TestDeployedFunctionsAreTheBuiltOnes(t *testing.T) {
	built, listed := cmdFunctions(t), listedFunctions(t)
	if diff := cmp.Diff(built, listed); diff != "" {
		t.Errorf("functions/*/cmd (-) and the functions listed in infra/base/kustomization.yaml (+) differ:\n%s", diff)
	}
	for _, n := range built {
		if _, err := os.Stat(filepath.Join("base", "functions", n, "kustomization.yaml")); err != nil {
			t.Errorf("function %s has a cmd/ but no infra/base/functions/%s folder", n, n)
		}
	}
}

func str(o *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(o.Object, path...)
	return s
}

func firstContainer(o *unstructured.Unstructured) map[string]any {
	cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		return nil
	}
	c, _ := cs[0].(map[string]any)
	return c
}

// Every Knative Service is one function: its ko image, probes on the
// serve package's /healthz and /readyz, resource requests, a concurrency
// limit and config from the ConfigMap (and the Secret, if it needs one).
func TestServicesAreFunctions(t *testing.T) {
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			objs := render(t, overlay)
			for _, o := range ofKind(objs, "Service") {
				name := o.GetName()
				c := firstContainer(o)
				if c == nil {
					t.Errorf("Service %s: want exactly one container", name)
					continue
				}
				if got, want := c["image"], "ko://"+modulePath+"/functions/"+name+"/cmd"; got != want {
					t.Errorf("Service %s: image %v, want %s", name, got, want)
				}
				for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
					got, _, _ := unstructured.NestedString(c, probe, "httpGet", "path")
					if got != path {
						t.Errorf("Service %s: %s path %q, want %q", name, probe, got, path)
					}
				}
				for _, r := range []string{"cpu", "memory"} {
					if v, _, _ := unstructured.NestedString(c, "resources", "requests", r); v == "" {
						t.Errorf("Service %s: no %s request", name, r)
					}
				}
				if cc, ok, _ := unstructured.NestedInt64(o.Object, "spec", "template", "spec", "containerConcurrency"); !ok || cc < 1 {
					t.Errorf("Service %s: containerConcurrency %d, want a limit ≥ 1", name, cc)
				}
				// What Knative's webhook (not running in the test server)
				// would refuse under its default config-defaults.
				if ts, _, _ := unstructured.NestedInt64(o.Object, "spec", "template", "spec", "timeoutSeconds"); ts < 1 || ts > 600 {
					t.Errorf("Service %s: timeoutSeconds %d, want 1..600 (max-revision-timeout-seconds)", name, ts)
				}
				if cc, _, _ := unstructured.NestedInt64(o.Object, "spec", "template", "spec", "containerConcurrency"); cc > 1000 {
					t.Errorf("Service %s: containerConcurrency %d > 1000", name, cc)
				}
				ann, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "annotations")
				lo, _ := strconv.Atoi(ann["autoscaling.knative.dev/min-scale"])
				if hi, err := strconv.Atoi(ann["autoscaling.knative.dev/max-scale"]); err == nil && hi > 0 && lo > hi {
					t.Errorf("Service %s: min-scale %d > max-scale %d", name, lo, hi)
				}
				env, _, _ := unstructured.NestedSlice(c, "env")
				for _, e := range env {
					if n, _, _ := unstructured.NestedString(e.(map[string]any), "name"); slices.Contains(knativeReserved, n) {
						t.Errorf("Service %s: sets %s, which Knative reserves", name, n)
					}
				}
				if ports, _, _ := unstructured.NestedSlice(c, "ports"); len(ports) != 1 {
					t.Errorf("Service %s: %d container ports, Knative allows one", name, len(ports))
				}
				if !strings.HasPrefix(envFromName(c, "configMapRef"), "elasticpool-config") {
					t.Errorf("Service %s: no envFrom the elasticpool-config ConfigMap", name)
				}
				if o.GetLabels()["app.kubernetes.io/part-of"] != "elasticpool" {
					t.Errorf("Service %s: not selected by the SinkBinding (label app.kubernetes.io/part-of)", name)
				}
			}
			orders := find(t, objs, "Service", "orders")
			minScale, _ := strconv.Atoi(str(orders, "spec", "template", "metadata", "annotations", "autoscaling.knative.dev/min-scale"))
			if overlay == "overlays/prod" && minScale < 1 {
				t.Errorf("prod orders (the API) min-scale %d, want ≥ 1: people should not wait for a cold start", minScale)
			}
		})
	}
}

func envFromName(c map[string]any, refKind string) string {
	list, _, _ := unstructured.NestedSlice(c, "envFrom")
	for _, e := range list {
		if n, ok, _ := unstructured.NestedString(e.(map[string]any), refKind, "name"); ok {
			return n
		}
	}
	return ""
}

func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// The daily PingSource fires at 06:00 in the zone the functions compute
// evaluation days in, through the Broker.
func TestDailyPingSource(t *testing.T) {
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			objs := render(t, overlay)
			ps := find(t, objs, "PingSource", "daily-evaluation")
			if got := str(ps, "spec", "schedule"); got != "0 6 * * *" {
				t.Errorf("schedule %q, want 0 6 * * *", got)
			}
			if got := str(ps, "spec", "sink", "ref", "kind"); got != "Broker" {
				t.Errorf("sink kind %q, want Broker", got)
			}
			var tz string
			for _, cm := range ofKind(objs, "ConfigMap") {
				if strings.HasPrefix(cm.GetName(), "elasticpool-config") {
					tz = str(cm, "data", "TIMEZONE")
				}
			}
			if tz == "" {
				t.Fatal("ConfigMap elasticpool-config has no TIMEZONE")
			}
			for _, p := range ofKind(objs, "PingSource") {
				if got := str(p, "spec", "timezone"); got != tz {
					t.Errorf("PingSource %s timezone %q, want the ConfigMap's TIMEZONE %q", p.GetName(), got, tz)
				}
			}
			if _, err := time.LoadLocation(tz); err != nil {
				t.Errorf("TIMEZONE %q: %v", tz, err)
			}
		})
	}
}

// codeVariables are the environment variables the Go code reads: the env
// tags (go-envconfig) of every non-test file under functions/, shared/, cmd/.
func codeVariables(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	tag := regexp.MustCompile(`env:"([A-Z][A-Z0-9_]*)`)
	for _, dir := range []string{"functions", "shared", "cmd"} {
		err := filepath.WalkDir(filepath.Join("..", dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range tag.FindAllStringSubmatch(string(src), -1) {
				vars[m[1]] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !vars["DATABASE_URL"] {
		t.Fatal("found no env tags in the Go code")
	}
	return vars
}

// Knative sets these itself and refuses them in a Service's environment.
var knativeReserved = []string{"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}

// The ConfigMap and Secret hold only settings some code reads (a typo in a
// key would silently leave the default in force), none that Knative reserves; every envFrom reference resolves to a rendered object, except
// the production Secret, which is created by hand and never committed.
func TestConfigurationObjects(t *testing.T) {
	known := codeVariables(t)
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			objs := render(t, overlay)
			present := map[string]bool{}
			for _, o := range objs {
				if o.GetKind() == "ConfigMap" || o.GetKind() == "Secret" {
					present[o.GetKind()+"/"+o.GetName()] = true
					data, _, _ := unstructured.NestedMap(o.Object, "data")
					for k := range data {
						if !known[k] {
							t.Errorf("%s %s sets %s, which no code reads (no env tag names it)", o.GetKind(), o.GetName(), k)
						}
						if slices.Contains(knativeReserved, k) {
							t.Errorf("%s %s sets %s, which Knative reserves", o.GetKind(), o.GetName(), k)
						}
					}
				}
			}
			external := map[string]bool{}
			if overlay == "overlays/prod" {
				external["Secret/elasticpool-secrets"] = true
				if present["Secret/elasticpool-secrets"] {
					t.Error("prod renders the Secret: production credentials must not be in git")
				}
			}
			for _, o := range objs {
				c := firstContainer(o)
				if c == nil {
					continue
				}
				for refKind, kind := range map[string]string{"configMapRef": "ConfigMap", "secretRef": "Secret"} {
					n := envFromName(c, refKind)
					if n == "" {
						continue
					}
					if key := kind + "/" + n; !present[key] && !external[key] {
						t.Errorf("%s %s: envFrom %s %s is not rendered", o.GetKind(), o.GetName(), kind, n)
					}
				}
			}
		})
	}
}
