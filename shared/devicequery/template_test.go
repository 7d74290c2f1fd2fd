package devicequery

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// designExample is the template of DESIGN.md §6.
const designExample = `{"logic":"AND","groups":[{"logic":"OR","blocks":[
  {"type":"device","key":"cpuCores","op":"gte","value":"64"},
  {"type":"nodeLabel","key":"gpu","op":"exists"},
  {"type":"taint","key":"dedicated","op":"eq","value":"ai:NoSchedule"}]}]}`

func TestParseDesignExample(t *testing.T) {
	got, err := Parse([]byte(designExample))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Template{Logic: "AND", Groups: []Group{{Logic: "OR", Blocks: []Block{
		{Type: "device", Key: "cpuCores", Op: "gte", Value: "64"},
		{Type: "nodeLabel", Key: "gpu", Op: "exists"},
		{Type: "taint", Key: "dedicated", Op: "eq", Value: "ai:NoSchedule"},
	}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("got … want … (-want +got):\n%s", diff)
	}
	if errs := Validate(got); len(errs) > 0 {
		t.Errorf("Validate: %v", errs)
	}
	// Round trip through encoding/json gives the same template.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse(Marshal): %v", err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("round trip (-first +second):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want FieldErrors
	}{
		{"empty input", ``, FieldErrors{{"", "invalid JSON: unexpected end of JSON input"}}},
		{"syntax error", `{"groups":[}`, FieldErrors{{"", "invalid JSON: invalid character '}' looking for beginning of value"}}},
		{"trailing data", `{"groups":[]} {}`, FieldErrors{{"", "invalid JSON: invalid character '{' after top-level value"}}},
		{"null document", `null`, FieldErrors{{"", "must be a JSON object, not null"}}},
		{"array document", `[]`, FieldErrors{{"", "must be a JSON object"}}},
		{"unknown top field", `{"groups":[],"Logic":"AND","extra":1}`, FieldErrors{
			{"Logic", "unknown field"}, {"extra", "unknown field"}}},
		{"wrong types", `{"logic":1,"groups":{}}`, FieldErrors{
			{"logic", "must be a string"}, {"groups", "must be an array"}}},
		{"group not object", `{"groups":[1,null]}`, FieldErrors{
			{"groups[0]", "must be a JSON object"}, {"groups[1]", "must be a JSON object, not null"}}},
		{"nested paths", `{"groups":[{"blocks":[]},{"logic":"OR","blocks":[{"type":"device","key":"ip","op":"eq","vaule":"x"},{"type":true,"value":5}],"x":0}]}`, FieldErrors{
			{"groups[1].x", "unknown field"},
			{"groups[1].blocks[0].vaule", "unknown field"},
			{"groups[1].blocks[1].type", "must be a string"},
			{"groups[1].blocks[1].value", "must be a string"}}},
		{"blocks not array", `{"groups":[{"blocks":"x"}]}`, FieldErrors{{"groups[0].blocks", "must be an array"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want errors", tt.in, got)
			}
			var fe FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not FieldErrors", err)
			}
			if diff := cmp.Diff(tt.want, fe); diff != "" {
				t.Errorf("got … want … (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNullsAreAbsent(t *testing.T) {
	got, err := Parse([]byte(`{"logic":null,"groups":[{"logic":null,"blocks":[{"type":"nodeLabel","key":"gpu","op":"exists","value":null}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Template{Groups: []Group{{Blocks: []Block{{Type: "nodeLabel", Key: "gpu", Op: "exists"}}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseLimits(t *testing.T) {
	block := `{"type":"nodeLabel","key":"a","op":"exists"}`
	group := `{"blocks":[` + strings.Repeat(block+",", MaxBlocks) + block + `]}`
	_, err := Parse([]byte(`{"groups":[` + group + `]}`))
	want := FieldErrors{{"groups[0].blocks", "at most 100 blocks per group"}}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("blocks limit (-want +got):\n%s", diff)
	}
	small := `{"blocks":[` + block + `]}`
	_, err = Parse([]byte(`{"groups":[` + strings.Repeat(small+",", MaxGroups) + small + `]}`))
	want = FieldErrors{{"groups", "at most 100 groups"}}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("groups limit (-want +got):\n%s", diff)
	}
}

func TestFieldErrorsHelpers(t *testing.T) {
	var none FieldErrors
	if none.Err() != nil {
		t.Errorf("empty Err() = %v, want nil", none.Err())
	}
	es := FieldErrors{{"", "bad body"}, {"groups[0].op", "unknown"}}
	if got, want := es.Error(), "bad body; groups[0].op: unknown"; got != want {
		t.Errorf("Error() got %q want %q", got, want)
	}
	got := es.WithPrefix("template")
	want := FieldErrors{{"template", "bad body"}, {"template.groups[0].op", "unknown"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithPrefix (-want +got):\n%s", diff)
	}
	if got := (FieldErrors{{"[1].x", "m"}}).WithPrefix("items"); got[0].Path != "items[1].x" {
		t.Errorf("WithPrefix index path got %q want %q", got[0].Path, "items[1].x")
	}
}

func TestValidateStructure(t *testing.T) {
	tests := []struct {
		name string
		in   Template
		want FieldErrors
	}{
		{"no groups", Template{}, FieldErrors{{"groups", "must not be empty: a template needs at least one group"}}},
		{"bad logic and empty group", Template{Logic: "and", Groups: []Group{{Logic: "XOR"}}}, FieldErrors{
			{"logic", `must be AND or OR, got "and"`},
			{"groups[0].logic", `must be AND or OR, got "XOR"`},
			{"groups[0].blocks", "must not be empty: a group needs at least one block"}}},
		{"every error of every block", Template{Groups: []Group{
			{Blocks: []Block{{Type: "device", Key: "cpuCores", Op: "gte", Value: "64"}}},
			{Logic: "OR", Blocks: []Block{
				{Type: "disk", Key: "x", Op: "eq", Value: "1"},
				{Type: "device", Key: "hostname", Op: "gt", Value: "a"},
				{Type: "device", Key: "owner", Op: "eq", Value: "me"},
				{Type: "nodeLabel", Key: "bad key!", Op: "like", Value: "x"},
				{Type: "taint", Key: "t", Op: "eq", Value: "a:b:c"},
				{Type: "", Key: "", Op: ""},
			}},
		}}, FieldErrors{
			{"groups[1].blocks[0].type", `unknown type "disk"; want device, nodeLabel or taint`},
			{"groups[1].blocks[1].op", "op gt needs a numeric device field; hostname is text"},
			{"groups[1].blocks[2].key", `unknown device field "owner"; want one of hostname, ip, serial, cpuArch, gpuModel, idc, zone, rack, status, nodeName, cpuCores, memoryBytes, gpuCount, diskBytes, clusterId, poolId`},
			{"groups[1].blocks[3].key", `invalid label key "bad key!": the name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
			{"groups[1].blocks[3].op", `unknown op "like"; want one of eq, ne, in, notIn, exists, notExists, contains, prefix, gt, gte, lt, lte`},
			{"groups[1].blocks[4].value", `invalid taint effect "b:c": want NoSchedule, PreferNoSchedule or NoExecute`},
			{"groups[1].blocks[5].type", "required: one of device, nodeLabel, taint"},
			{"groups[1].blocks[5].op", "required: one of eq, ne, in, notIn, exists, notExists, contains, prefix, gt, gte, lt, lte"},
		}},
		{"key and value errors together", Template{Groups: []Group{{Blocks: []Block{
			{Type: "nodeLabel", Key: "-gpu", Op: "in", Value: "a,,b"},
		}}}}, FieldErrors{
			{"groups[0].blocks[0].key", `invalid label key "-gpu": the name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
			{"groups[0].blocks[0].value", "item 2 is empty"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Validate(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("got … want … (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateLimits(t *testing.T) {
	blocks := make([]Block, MaxBlocks+1)
	for i := range blocks {
		blocks[i] = Block{Type: TypeNodeLabel, Key: "a", Op: OpExists}
	}
	got := Validate(Template{Groups: []Group{{Blocks: blocks}}})
	want := FieldErrors{{"groups[0].blocks", "at most 100 blocks per group"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	groups := make([]Group, MaxGroups+1)
	for i := range groups {
		groups[i] = Group{Blocks: blocks[:1]}
	}
	got = Validate(Template{Groups: groups})
	want = FieldErrors{{"groups", "at most 100 groups"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	long := Validate(AllOf(Block{Type: TypeDevice, Key: "hostname", Op: OpEq, Value: strings.Repeat("h", MaxValueBytes+1)}))
	want = FieldErrors{{"groups[0].blocks[0].value", "at most 65536 bytes"}}
	if diff := cmp.Diff(want, long); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	list := strings.Repeat("1,", MaxListItems) + "1"
	got = Validate(AllOf(Block{Type: TypeDevice, Key: "cpuCores", Op: OpIn, Value: list}))
	want = FieldErrors{{"groups[0].blocks[0].value", "at most 4096 items"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestValidateOpsByType is the matrix of which op each type and field kind accepts.
func TestValidateOpsByType(t *testing.T) {
	type kindCase struct {
		typ, key string
		value    map[string]string // a valid value per op; missing op = no value
	}
	text := map[string]string{"eq": "a", "ne": "a", "in": "a,b", "notIn": "a,b", "contains": "a", "prefix": "a"}
	num := map[string]string{"eq": "1", "ne": "1", "in": "1,2", "notIn": "1,2", "gt": "1", "gte": "1", "lt": "1", "lte": "1"}
	kinds := []kindCase{
		{"device", "hostname", text},
		{"device", "cpuCores", num},
		{"device", "memoryBytes", num},
		{"device", "clusterId", num},
		{"nodeLabel", "gpu", text},
		{"taint", "dedicated", map[string]string{"eq": "ai", "ne": "ai"}},
	}
	valid := map[string]string{ // type/key → accepted ops
		"device/hostname":    "eq ne in notIn exists notExists contains prefix",
		"device/cpuCores":    "eq ne in notIn gt gte lt lte",
		"device/memoryBytes": "eq ne in notIn gt gte lt lte",
		"device/clusterId":   "eq ne in notIn exists notExists gt gte lt lte",
		"nodeLabel/gpu":      "eq ne in notIn exists notExists contains prefix",
		"taint/dedicated":    "eq ne exists notExists",
	}
	for _, k := range kinds {
		for o := opEq; o <= opLte; o++ {
			op := opNames[o]
			t.Run(k.typ+"/"+k.key+"/"+op, func(t *testing.T) {
				errs := Validate(AllOf(Block{Type: k.typ, Key: k.key, Op: op, Value: k.value[op]}))
				wantOK := strings.Contains(" "+valid[k.typ+"/"+k.key]+" ", " "+op+" ")
				if wantOK && len(errs) > 0 {
					t.Errorf("got errors %v, want valid", errs)
				}
				if !wantOK {
					if len(errs) != 1 || errs[0].Path != "groups[0].blocks[0].op" {
						t.Errorf("got %v, want one error at groups[0].blocks[0].op", errs)
					}
				}
			})
		}
	}
}

func TestValidateValues(t *testing.T) {
	const vp = "groups[0].blocks[0].value"
	tests := []struct {
		name  string
		block Block
		want  string // "" = valid; else the message at the value path
	}{
		{"exists takes no value", Block{"nodeLabel", "gpu", "exists", "x"}, "op exists takes no value"},
		{"notExists takes no value", Block{"device", "rack", "notExists", "x"}, "op notExists takes no value"},
		{"text eq empty is allowed", Block{"device", "rack", "eq", ""}, ""},
		{"text eq keeps spaces", Block{"device", "rack", "eq", " r1 "}, ""},
		{"text invalid utf8", Block{"device", "hostname", "eq", "a\xffb"}, "must be valid UTF-8"},
		{"text NUL", Block{"device", "hostname", "contains", "a\x00b"}, "must not contain NUL characters"},
		{"contains empty", Block{"device", "hostname", "contains", ""}, "must not be empty"},
		{"prefix empty label", Block{"nodeLabel", "team", "prefix", ""}, "must not be empty"},
		{"in empty", Block{"device", "idc", "in", " "}, "required: a comma-separated list"},
		{"in trailing comma", Block{"device", "idc", "in", "a,"}, "item 2 is empty"},
		{"status enum", Block{"device", "status", "eq", "idel"}, `invalid status "idel"; want one of idle, in_pool, cordoned, maintenance, retired`},
		{"status enum in list", Block{"device", "status", "notIn", "idle,gone"}, `item 2: invalid status "gone"; want one of idle, in_pool, cordoned, maintenance, retired`},
		{"status contains is free text", Block{"device", "status", "contains", "pool"}, ""},
		{"int", Block{"device", "cpuCores", "gte", "64"}, ""},
		{"int spaces", Block{"device", "cpuCores", "gte", " 64 "}, ""},
		{"int negative", Block{"device", "cpuCores", "gt", "-1"}, ""},
		{"int not a number", Block{"device", "cpuCores", "gte", "64c"}, `must be an integer, got "64c"`},
		{"int quantity rejected", Block{"device", "gpuCount", "eq", "1k"}, `must be an integer, got "1k"`},
		{"int range", Block{"device", "clusterId", "eq", "9223372036854775808"}, `integer out of range: "9223372036854775808"`},
		{"int list item", Block{"device", "poolId", "in", "1,x"}, `item 2: must be an integer, got "x"`},
		{"bytes quantity", Block{"device", "memoryBytes", "gte", "512Gi"}, ""},
		{"bytes quantity list", Block{"device", "diskBytes", "in", "1Ti, 2T"}, ""},
		{"bytes bad suffix", Block{"device", "memoryBytes", "gte", "512GB"}, quantityHelp + `, got "512GB"`},
		{"bytes fraction", Block{"device", "memoryBytes", "gte", "1.5k"}, ""},
		{"bytes not whole", Block{"device", "memoryBytes", "gte", "1.0001k"}, `quantity "1.0001k" is not a whole number of bytes`},
		{"bytes overflow", Block{"device", "memoryBytes", "gte", "8Ei"}, `quantity out of range: "8Ei"`},
		{"label value", Block{"nodeLabel", "gpu", "eq", "a100"}, ""},
		{"label empty value", Block{"nodeLabel", "gpu", "eq", ""}, ""},
		{"label bad value", Block{"nodeLabel", "gpu", "eq", "a 100"}, `invalid label value "a 100": must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
		{"label long value", Block{"nodeLabel", "gpu", "ne", strings.Repeat("a", 64)}, `invalid label value "` + strings.Repeat("a", 64) + `": must be at most 63 characters`},
		{"label in item", Block{"nodeLabel", "gpu", "in", "a100,h100!"}, `item 2: invalid label value "h100!": must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
		{"label fragment", Block{"nodeLabel", "team", "contains", "_o"}, ""},
		{"label fragment bad", Block{"nodeLabel", "team", "contains", "%"}, `label values only contain alphanumerics, '-', '_' and '.'; "%" can never match`},
		{"taint value", Block{"taint", "dedicated", "eq", "ai"}, ""},
		{"taint effect", Block{"taint", "dedicated", "eq", ":NoExecute"}, ""},
		{"taint both", Block{"taint", "dedicated", "ne", "ai:PreferNoSchedule"}, ""},
		{"taint empty", Block{"taint", "dedicated", "eq", ""}, "required: value:effect with either part optional (e.g. ai, :NoSchedule, ai:NoSchedule); use exists for any taint with the key"},
		{"taint colon only", Block{"taint", "dedicated", "eq", ":"}, `invalid taint effect "": want NoSchedule, PreferNoSchedule or NoExecute`},
		{"taint dangling colon", Block{"taint", "dedicated", "eq", "ai:"}, `invalid taint effect "": want NoSchedule, PreferNoSchedule or NoExecute`},
		{"taint bad effect", Block{"taint", "dedicated", "eq", "ai:noschedule"}, `invalid taint effect "noschedule": want NoSchedule, PreferNoSchedule or NoExecute`},
		{"taint bad value", Block{"taint", "dedicated", "eq", "a i:NoSchedule"}, `invalid taint value "a i": must consist of at most 63 alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(AllOf(tt.block))
			var want FieldErrors
			if tt.want != "" {
				want = FieldErrors{{vp, tt.want}}
			}
			if diff := cmp.Diff(want, errs); diff != "" {
				t.Errorf("got … want … (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateKeys(t *testing.T) {
	const kp = "groups[0].blocks[0].key"
	tests := []struct {
		typ, key string
		want     string
	}{
		{"nodeLabel", "gpu", ""},
		{"nodeLabel", "node.kubernetes.io/instance-type", ""},
		{"nodeLabel", "example.com/Team_A.b-1", ""},
		{"nodeLabel", strings.Repeat("a", 63), ""},
		{"nodeLabel", strings.Repeat("a", 64), `invalid label key "` + strings.Repeat("a", 64) + `": the name part must be at most 63 characters`},
		{"nodeLabel", "", "required"},
		{"nodeLabel", "/gpu", `invalid label key "/gpu": the prefix before '/' must not be empty`},
		{"nodeLabel", "example.com/", `invalid label key "example.com/": the name part must not be empty`},
		{"nodeLabel", "Example.com/gpu", `invalid label key "Example.com/gpu": prefix must be a DNS subdomain (lowercase alphanumerics, '-' and '.')`},
		{"nodeLabel", "a/b/c", `invalid label key "a/b/c": the name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
		{"nodeLabel", "gpu'; DROP TABLE devices; --", `invalid label key "gpu'; DROP TABLE devices; --": the name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
		{"nodeLabel", `gpu"}`, `invalid label key "gpu\"}": the name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
		{"taint", "node.kubernetes.io/unschedulable", ""},
		{"taint", "x y", `invalid taint key "x y": the name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric`},
		{"device", "", "required: a device field, one of " + fieldNames()},
		{"device", "cpu_cores", `unknown device field "cpu_cores"; want one of ` + fieldNames()},
		{"device", "labels", `unknown device field "labels"; want one of ` + fieldNames()},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.key, func(t *testing.T) {
			errs := Validate(AllOf(Block{Type: tt.typ, Key: tt.key, Op: OpEq, Value: "v"}))
			var want FieldErrors
			if tt.want != "" {
				want = FieldErrors{{kp, tt.want}}
			}
			if diff := cmp.Diff(want, errs); diff != "" {
				t.Errorf("got … want … (-want +got):\n%s", diff)
			}
		})
	}
	prefix := strings.Repeat("a", 250) + ".com/x"
	if errs := Validate(AllOf(Block{Type: TypeNodeLabel, Key: prefix, Op: OpExists})); len(errs) != 1 ||
		!strings.HasSuffix(errs[0].Message, "prefix must be at most 253 characters") {
		t.Errorf("long prefix: got %v", errs)
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1024", 1024, true},
		{"512Gi", 512 << 30, true},
		{"2Ti", 2 << 40, true},
		{"64G", 64e9, true},
		{"1.5Gi", 3 << 29, true},
		{"1k", 1000, true},
		{"7Ei", 7 << 60, true},
		{"9E", 9e18, true},
		{"10E", 0, false},
		{"-5", -5, true},
		{" 64Gi ", 64 << 30, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false},
		{"1.5", 0, false},
		{"-1Gi", 0, false},
		{"Gi", 0, false},
		{"1.Gi", 0, false},
		{".5Gi", 0, false},
		{"1K", 0, false},
		{"1m", 0, false},
		{"1e9", 0, false},
		{"0x10", 0, false},
		{"1/2Gi", 0, false},
		{"123456789012345678901234Ki", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, msg := parseBytes(tt.in)
			if (msg == "") != tt.ok || got != tt.want {
				t.Errorf("parseBytes(%q) got %d, %q want %d, ok=%v", tt.in, got, msg, tt.want, tt.ok)
			}
		})
	}
}

func TestDeviceFields(t *testing.T) {
	fs := DeviceFields()
	if len(fs) != 16 {
		t.Fatalf("got %d fields want 16", len(fs))
	}
	byName := map[string]Field{}
	for _, f := range fs {
		byName[f.Name] = f
	}
	want := Field{Name: "clusterId", Column: "cluster_id", Numeric: true, Nullable: true,
		Ops: []string{"eq", "ne", "in", "notIn", "exists", "notExists", "gt", "gte", "lt", "lte"}}
	if diff := cmp.Diff(want, byName["clusterId"]); diff != "" {
		t.Errorf("clusterId (-want +got):\n%s", diff)
	}
	if got := byName["status"].Values; len(got) != 5 {
		t.Errorf("status values got %v", got)
	}
	if !byName["diskBytes"].Quantity || byName["cpuCores"].Quantity {
		t.Errorf("quantity flags wrong: %+v %+v", byName["diskBytes"], byName["cpuCores"])
	}
}
