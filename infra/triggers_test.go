package infra_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/elasticpool/elasticpool/shared/events"
)

// The Trigger fields infra/ may use, for a strict decode: the server keeps
// unknown Trigger fields, so a typo there would silently drop a filter or a
// retry policy (the whole filter missing means "every event").
type triggerSpec struct {
	Broker     string         `json:"broker"`
	Filter     *triggerFilter `json:"filter"`
	Subscriber destination    `json:"subscriber"`
	Delivery   *deliverySpec  `json:"delivery"`
}

type triggerFilter struct {
	Attributes map[string]string `json:"attributes"`
}

type destination struct {
	Ref *struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Name       string `json:"name"`
		Namespace  string `json:"namespace,omitempty"`
	} `json:"ref"`
	URI string `json:"uri,omitempty"`
}

type deliverySpec struct {
	Retry          *int32       `json:"retry"`
	BackoffPolicy  string       `json:"backoffPolicy"`
	BackoffDelay   string       `json:"backoffDelay"`
	DeadLetterSink *destination `json:"deadLetterSink"`
}

var isoDuration = regexp.MustCompile(`^PT(\d+H)?(\d+M)?(\d+(\.\d+)?S)?$`)

func decodeTriggerSpec(o *unstructured.Unstructured) (triggerSpec, error) {
	var spec triggerSpec
	raw, err := json.Marshal(o.Object["spec"])
	if err != nil {
		return spec, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return spec, fmt.Errorf("Trigger %s: spec: %w", o.GetName(), err)
	}
	return spec, nil
}

// checkTriggerSpec holds a Trigger to what the routing table can express:
// one broker, a filter on exactly the CloudEvent type, a Service subscriber,
// and a delivery policy with retries, backoff and a dead-letter sink.
func checkTriggerSpec(o *unstructured.Unstructured) error {
	spec, err := decodeTriggerSpec(o)
	if err != nil {
		return err
	}
	var errs []string
	if spec.Broker != "default" {
		errs = append(errs, fmt.Sprintf("broker %q, want default", spec.Broker))
	}
	if spec.Filter == nil || len(spec.Filter.Attributes) != 1 || spec.Filter.Attributes["type"] == "" {
		errs = append(errs, "filter must be exactly attributes.type")
	}
	if !isServiceRef(&spec.Subscriber) {
		errs = append(errs, "subscriber must be a ref to a serving.knative.dev/v1 Service")
	}
	switch d := spec.Delivery; {
	case d == nil:
		errs = append(errs, "no delivery policy")
	default:
		if d.Retry == nil || *d.Retry < 1 {
			errs = append(errs, "delivery.retry must be ≥ 1")
		}
		if d.BackoffPolicy != "exponential" && d.BackoffPolicy != "linear" {
			errs = append(errs, fmt.Sprintf("delivery.backoffPolicy %q", d.BackoffPolicy))
		}
		if !isoDuration.MatchString(d.BackoffDelay) || d.BackoffDelay == "PT" {
			errs = append(errs, fmt.Sprintf("delivery.backoffDelay %q is not an ISO 8601 duration", d.BackoffDelay))
		}
		if d.DeadLetterSink == nil || !isServiceRef(d.DeadLetterSink) {
			errs = append(errs, "delivery.deadLetterSink must be a ref to a Service")
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("Trigger %s: %s", o.GetName(), strings.Join(errs, "; "))
	}
	return nil
}

func isServiceRef(d *destination) bool {
	return d.Ref != nil && d.Ref.APIVersion == "serving.knative.dev/v1" && d.Ref.Kind == "Service" && d.Ref.Name != ""
}

func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// routes turns rendered Triggers into the local broker's table rows.
func routes(t *testing.T, objs []*unstructured.Unstructured) []events.Trigger {
	t.Helper()
	var out []events.Trigger
	for _, o := range ofKind(objs, "Trigger") {
		spec, err := decodeTriggerSpec(o)
		if err != nil {
			t.Fatal(err)
		}
		r := events.Trigger{Name: o.GetName(), Path: spec.Subscriber.URI}
		if spec.Filter != nil {
			r.EventType = spec.Filter.Attributes["type"]
		}
		if spec.Subscriber.Ref != nil {
			r.Subscriber = spec.Subscriber.Ref.Name
		}
		out = append(out, r)
	}
	sortTriggers(out)
	return out
}

func sortTriggers(ts []events.Trigger) {
	slices.SortFunc(ts, func(a, b events.Trigger) int { return strings.Compare(a.Name, b.Name) })
}

// Every rendered Trigger uses only known fields and has the full policy.
func TestTriggerSpecsAreStrict(t *testing.T) {
	for _, overlay := range overlays {
		t.Run(overlay, func(t *testing.T) {
			trs := ofKind(render(t, overlay), "Trigger")
			if len(trs) == 0 {
				t.Fatal("no Triggers rendered")
			}
			for _, o := range trs {
				if err := checkTriggerSpec(o); err != nil {
					t.Error(err)
				}
			}
		})
	}
	// And the check itself catches the typos the server lets through.
	base := ofKind(render(t, "overlays/prod"), "Trigger")[0]
	bad := []struct {
		name   string
		mutate func(spec map[string]any)
	}{
		{"filter misspelled", func(s map[string]any) { s["fliter"] = s["filter"]; delete(s, "filter") }},
		{"attribute other than type", func(s map[string]any) {
			s["filter"] = map[string]any{"attributes": map[string]any{"typ": "x"}}
		}},
		{"retry misspelled", func(s map[string]any) { s["delivery"].(map[string]any)["retires"] = int64(3) }},
		{"no dead-letter sink", func(s map[string]any) { delete(s["delivery"].(map[string]any), "deadLetterSink") }},
		{"backoff delay not ISO 8601", func(s map[string]any) { s["delivery"].(map[string]any)["backoffDelay"] = "500ms" }},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			o := base.DeepCopy()
			spec := o.Object["spec"].(map[string]any)
			b.mutate(spec)
			if err := checkTriggerSpec(o); err == nil {
				t.Errorf("got accepted, want rejected")
			}
		})
	}
}

// The Knative Triggers and the local broker's routing table are the same
// data, in every overlay: local mode and Knative cannot route differently.
func TestTriggersAreTheLocalBrokerTable(t *testing.T) {
	want := slices.Clone(events.Triggers)
	sortTriggers(want)
	for _, dir := range append([]string{"base"}, overlays...) {
		t.Run(dir, func(t *testing.T) {
			if diff := cmp.Diff(want, routes(t, render(t, dir))); diff != "" {
				t.Errorf("infra/%s Triggers differ from events.Triggers (-events.Triggers +infra):\n%s", dir, diff)
			}
		})
	}
}

// catalog reads the event types of DESIGN §2: the Type* string constants of
// shared/events.
func catalog(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "shared", "events", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{} // value → constant name
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Type") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					types[v] = name.Name
				}
			}
		}
	}
	if len(types) == 0 {
		t.Fatal("no Type* constants in shared/events")
	}
	return types
}

// Every Trigger filters on a type of the event catalog and reaches a
// function that exists; every type of the catalog has a Trigger (an event
// nobody receives would be lost silently).
func TestTriggersCoverTheEventCatalog(t *testing.T) {
	types := catalog(t)
	routed := map[string]bool{}
	for _, r := range events.Triggers {
		routed[r.EventType] = true
		if _, ok := types[r.EventType]; !ok {
			t.Errorf("Trigger %s filters on %q, which is not an event type of shared/events", r.Name, r.EventType)
		}
		if _, err := os.Stat(filepath.Join("..", "functions", r.Subscriber)); err != nil {
			t.Errorf("Trigger %s: subscriber %q is not a function in functions/", r.Name, r.Subscriber)
		}
		if _, err := os.Stat(filepath.Join("base", "functions", r.Subscriber, "service.yaml")); err != nil {
			t.Errorf("Trigger %s: subscriber %q has no Knative Service in infra/base/functions", r.Name, r.Subscriber)
		}
	}
	for v, name := range types {
		if !routed[v] {
			t.Errorf("event type %s (%s) has no Trigger", name, v)
		}
	}
}
