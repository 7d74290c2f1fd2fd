package devicequery

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSelectorBlocks(t *testing.T) {
	L := func(key, op, value string) Block { return Block{Type: TypeNodeLabel, Key: key, Op: op, Value: value} }
	tests := []struct {
		in   string
		want []Block
	}{
		{"", nil},
		{"   ", nil},
		{"pool=general", []Block{L("pool", "eq", "general")}},
		{"pool==general", []Block{L("pool", "eq", "general")}},
		{"pool!=general", []Block{L("pool", "ne", "general")}},
		{"pool=", []Block{L("pool", "eq", "")}},
		{"pool=,gpu", []Block{L("pool", "eq", ""), L("gpu", "exists", "")}},
		{"gpu", []Block{L("gpu", "exists", "")}},
		{"!gpu", []Block{L("gpu", "notExists", "")}},
		{"! gpu", []Block{L("gpu", "notExists", "")}},
		{"zone in (a, b,c)", []Block{L("zone", "in", "a,b,c")}},
		{"zone notin (a)", []Block{L("zone", "notIn", "a")}},
		{" example.com/team = ml , node.kubernetes.io/instance-type!=m5.large,!maint,x in(y) ", []Block{
			L("example.com/team", "eq", "ml"),
			L("node.kubernetes.io/instance-type", "ne", "m5.large"),
			L("maint", "notExists", ""),
			L("x", "in", "y"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SelectorBlocks(tt.in)
			if err != nil {
				t.Fatalf("SelectorBlocks(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("got … want … (-want +got):\n%s", diff)
			}
			if len(got) > 0 {
				if errs := Validate(AllOf(got...)); len(errs) > 0 {
					t.Errorf("blocks do not validate: %v", errs)
				}
			}
		})
	}
}

// TestSelectorSemantics checks the Kubernetes meaning of each form on devices.
func TestSelectorSemantics(t *testing.T) {
	withPool := Device{Labels: map[string]string{"pool": "general"}}
	other := Device{Labels: map[string]string{"pool": "gpu"}}
	none := Device{}
	tests := []struct {
		sel                   string
		withPool, other, none bool
	}{
		{"pool=general", true, false, false},
		{"pool!=general", false, true, true},
		{"pool in (general,x)", true, false, false},
		{"pool notin (general)", false, true, true},
		{"pool", true, true, false},
		{"!pool", false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			blocks, err := SelectorBlocks(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			tm := AllOf(blocks...)
			for _, c := range []struct {
				name string
				d    Device
				want bool
			}{{"withPool", withPool, tt.withPool}, {"other", other, tt.other}, {"none", none, tt.none}} {
				if got := Match(tm, c.d); got != c.want {
					t.Errorf("%s: got %v want %v", c.name, got, c.want)
				}
			}
		})
	}
}

func TestSelectorErrors(t *testing.T) {
	tests := []struct {
		in   string
		pos  int
		want string
	}{
		{"a>1", 1, "operator '>' is not supported"},
		{"a<1", 1, "operator '<' is not supported"},
		{"a in ()", 6, "a set needs at least one value"},
		{"a in (b", 7, "expected ',' or ')', got the end"},
		{"a in b", 5, "expected '(', got \"b\""},
		{"a in (b,)", 8, "expected a label value, got ')'"},
		{"a=b,", 4, "expected a label key, got the end"},
		{",a", 0, "expected a label key, got ','"},
		{"a b", 2, `expected =, ==, !=, in, notin, ',' or the end after key "a", got "b"`},
		{"a=b c", 4, `expected ',' or the end after a requirement, got "c"`},
		{"a==(", 3, "expected a label value, got '('"},
		{"!", 1, "expected a label key, got the end"},
		{"bad key=1", 4, `expected =, ==, !=, in, notin, ',' or the end after key "bad", got "key"`},
		{"-a=1", 0, `invalid label key "-a"`},
		{"a=b'c", 2, `invalid label value "b'c"`},
		{"a='x' OR 1=1", 2, `invalid label value "'x'"`},
		{"a in (x;drop)", 6, `invalid label value "x;drop"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := SelectorBlocks(tt.in)
			var se *SelectorError
			if !errors.As(err, &se) {
				t.Fatalf("got %+v, %v; want a *SelectorError", got, err)
			}
			if se.Pos != tt.pos || !strings.HasPrefix(se.Msg, tt.want) {
				t.Errorf("got pos %d %q want pos %d %q…", se.Pos, se.Msg, tt.pos, tt.want)
			}
		})
	}
}
