package devicequery

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCompileBlocks(t *testing.T) {
	tests := []struct {
		name  string
		block Block
		sql   string // compiled with argStart 3
		args  []any
	}{
		// device text
		{"text eq", Block{"device", "hostname", "eq", "h1"}, "(d.hostname = $3::text)", []any{"h1"}},
		{"text ne", Block{"device", "idc", "ne", "bj"}, "(d.idc <> $3::text)", []any{"bj"}},
		{"text in", Block{"device", "status", "in", "idle, in_pool,idle"}, "(d.status = ANY($3::text[]))", []any{[]string{"idle", "in_pool"}}},
		{"text notIn", Block{"device", "zone", "notIn", "z1,z2"}, "(d.zone <> ALL($3::text[]))", []any{[]string{"z1", "z2"}}},
		{"text exists", Block{"device", "rack", "exists", ""}, "(d.rack <> '')", nil},
		{"text notExists", Block{"device", "nodeName", "notExists", ""}, "(d.node_name = '')", nil},
		{"text contains", Block{"device", "gpuModel", "contains", "A100"}, "(d.gpu_model LIKE $3::text)", []any{"%A100%"}},
		{"text contains escapes", Block{"device", "hostname", "contains", `50%_a\b`}, "(d.hostname LIKE $3::text)", []any{`%50\%\_a\\b%`}},
		{"text prefix", Block{"device", "cpuArch", "prefix", "arm_"}, "(d.cpu_arch LIKE $3::text)", []any{`arm\_%`}},
		// device numeric
		{"num eq", Block{"device", "cpuCores", "eq", "64"}, "(d.cpu_cores = $3::bigint)", []any{int64(64)}},
		{"num ne", Block{"device", "gpuCount", "ne", "0"}, "(d.gpu_count <> $3::bigint)", []any{int64(0)}},
		{"num gt", Block{"device", "cpuCores", "gt", "5000000000"}, "(d.cpu_cores > $3::bigint)", []any{int64(5000000000)}},
		{"num gte quantity", Block{"device", "memoryBytes", "gte", "512Gi"}, "(d.memory_bytes >= $3::bigint)", []any{int64(512 << 30)}},
		{"num lt", Block{"device", "diskBytes", "lt", "2T"}, "(d.disk_bytes < $3::bigint)", []any{int64(2e12)}},
		{"num lte", Block{"device", "gpuCount", "lte", "8"}, "(d.gpu_count <= $3::bigint)", []any{int64(8)}},
		{"num in", Block{"device", "memoryBytes", "in", "1Ki,1024,2Ki"}, "(d.memory_bytes = ANY($3::bigint[]))", []any{[]int64{1024, 2048}}},
		{"num notIn", Block{"device", "cpuCores", "notIn", "8,16"}, "(d.cpu_cores <> ALL($3::bigint[]))", []any{[]int64{8, 16}}},
		// device nullable numeric
		{"nullable eq", Block{"device", "clusterId", "eq", "7"}, "((d.cluster_id IS NOT NULL AND d.cluster_id = $3::bigint))", []any{int64(7)}},
		{"nullable ne", Block{"device", "poolId", "ne", "7"}, "((d.pool_id IS NOT NULL AND d.pool_id <> $3::bigint))", []any{int64(7)}},
		{"nullable notIn", Block{"device", "poolId", "notIn", "1,2"}, "((d.pool_id IS NOT NULL AND d.pool_id <> ALL($3::bigint[])))", []any{[]int64{1, 2}}},
		{"nullable gte", Block{"device", "clusterId", "gte", "2"}, "((d.cluster_id IS NOT NULL AND d.cluster_id >= $3::bigint))", []any{int64(2)}},
		{"nullable exists", Block{"device", "clusterId", "exists", ""}, "(d.cluster_id IS NOT NULL)", nil},
		{"nullable notExists", Block{"device", "poolId", "notExists", ""}, "(d.pool_id IS NULL)", nil},
		// nodeLabel
		{"label eq", Block{"nodeLabel", "gpu", "eq", "a100"}, "(d.labels @> $3::jsonb)", []any{`{"gpu":"a100"}`}},
		{"label eq empty value", Block{"nodeLabel", "gpu", "eq", ""}, "(d.labels @> $3::jsonb)", []any{`{"gpu":""}`}},
		{"label ne", Block{"nodeLabel", "example.com/team", "ne", "web"}, "(NOT (d.labels @> $3::jsonb))", []any{`{"example.com/team":"web"}`}},
		{"label in", Block{"nodeLabel", "pool", "in", "p1,p2"}, "(d.labels @> ANY($3::jsonb[]))", []any{[]string{`{"pool":"p1"}`, `{"pool":"p2"}`}}},
		{"label notIn", Block{"nodeLabel", "pool", "notIn", "p1"}, "(NOT (d.labels @> ANY($3::jsonb[])))", []any{[]string{`{"pool":"p1"}`}}},
		{"label exists", Block{"nodeLabel", "gpu", "exists", ""}, "(d.labels ? $3::text)", []any{"gpu"}},
		{"label notExists", Block{"nodeLabel", "gpu", "notExists", ""}, "(NOT (d.labels ? $3::text))", []any{"gpu"}},
		{"label contains", Block{"nodeLabel", "team", "contains", "ml_o"}, "((d.labels ? $3::text AND COALESCE(d.labels ->> $3::text, '') LIKE $4::text))", []any{"team", `%ml\_o%`}},
		{"label prefix", Block{"nodeLabel", "team", "prefix", "ml"}, "((d.labels ? $3::text AND COALESCE(d.labels ->> $3::text, '') LIKE $4::text))", []any{"team", `ml%`}},
		// taint
		{"taint eq value", Block{"taint", "dedicated", "eq", "ai"}, "(d.taints @> $3::jsonb)", []any{`[{"key":"dedicated","value":"ai"}]`}},
		{"taint eq effect", Block{"taint", "dedicated", "eq", ":NoSchedule"}, "(d.taints @> $3::jsonb)", []any{`[{"key":"dedicated","effect":"NoSchedule"}]`}},
		{"taint eq both", Block{"taint", "dedicated", "eq", "ai:NoExecute"}, "(d.taints @> $3::jsonb)", []any{`[{"key":"dedicated","value":"ai","effect":"NoExecute"}]`}},
		{"taint ne", Block{"taint", "dedicated", "ne", "ai:PreferNoSchedule"}, "(NOT (d.taints @> $3::jsonb))", []any{`[{"key":"dedicated","value":"ai","effect":"PreferNoSchedule"}]`}},
		{"taint exists", Block{"taint", "node.kubernetes.io/unschedulable", "exists", ""}, "(d.taints @> $3::jsonb)", []any{`[{"key":"node.kubernetes.io/unschedulable"}]`}},
		{"taint notExists", Block{"taint", "dedicated", "notExists", ""}, "(NOT (d.taints @> $3::jsonb))", []any{`[{"key":"dedicated"}]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args, err := Compile(AllOf(tt.block), 3)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if sql != tt.sql {
				t.Errorf("sql got %s want %s", sql, tt.sql)
			}
			if diff := cmp.Diff(tt.args, args, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileLogic(t *testing.T) {
	a := Block{"device", "cpuCores", "gte", "64"}
	b := Block{"nodeLabel", "gpu", "exists", ""}
	c := Block{"taint", "dedicated", "eq", "ai:NoSchedule"}
	tests := []struct {
		name string
		t    Template
		sql  string
	}{
		{"design example", Template{Logic: "AND", Groups: []Group{{Logic: "OR", Blocks: []Block{a, b, c}}}},
			"((d.cpu_cores >= $1::bigint OR d.labels ? $2::text OR d.taints @> $3::jsonb))"},
		{"empty logic is AND", Template{Groups: []Group{{Blocks: []Block{a, b}}, {Blocks: []Block{c}}}},
			"((d.cpu_cores >= $1::bigint AND d.labels ? $2::text) AND d.taints @> $3::jsonb)"},
		{"OR of AND groups", Template{Logic: "OR", Groups: []Group{{Logic: "AND", Blocks: []Block{a, b}}, {Logic: "OR", Blocks: []Block{c, a}}}},
			"((d.cpu_cores >= $1::bigint AND d.labels ? $2::text) OR (d.taints @> $3::jsonb OR d.cpu_cores >= $4::bigint))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args, err := Compile(tt.t, 1)
			if err != nil {
				t.Fatal(err)
			}
			if sql != tt.sql {
				t.Errorf("sql got %s want %s", sql, tt.sql)
			}
			checkPlaceholders(t, sql, args, 1)
		})
	}
}

func TestCompileAll(t *testing.T) {
	stored := Template{Logic: "OR", Groups: []Group{
		{Blocks: []Block{{"nodeLabel", "gpu", "eq", "a100"}}},
		{Blocks: []Block{{"device", "gpuCount", "gte", "8"}}},
	}}
	sel, err := SelectorBlocks("pool=general, !maintenance")
	if err != nil {
		t.Fatal(err)
	}
	extra := AllOf(append([]Block{
		{"device", "status", "eq", "idle"},
		{"device", "idc", "eq", "bj1"},
	}, sel...)...)
	sql, args, err := CompileAll(2, stored, extra)
	if err != nil {
		t.Fatal(err)
	}
	wantSQL := "((d.labels @> $2::jsonb OR d.gpu_count >= $3::bigint) AND ((d.status = $4::text AND d.idc = $5::text AND d.labels @> $6::jsonb AND NOT (d.labels ? $7::text))))"
	if sql != wantSQL {
		t.Errorf("sql got %s want %s", sql, wantSQL)
	}
	wantArgs := []any{`{"gpu":"a100"}`, int64(8), "idle", "bj1", `{"pool":"general"}`, "maintenance"}
	if diff := cmp.Diff(wantArgs, args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}

	one, oneArgs, err := CompileAll(1, stored)
	direct, directArgs, _ := Compile(stored, 1)
	if err != nil || one != direct || !cmp.Equal(oneArgs, directArgs) {
		t.Errorf("CompileAll of one template got %s %v, want Compile's %s %v (err %v)", one, oneArgs, direct, directArgs, err)
	}

	_, _, err = CompileAll(1, stored, Template{Groups: []Group{{Blocks: []Block{{"device", "nope", "eq", "1"}}}}})
	var fe FieldErrors
	if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Path != "templates[1].groups[0].blocks[0].key" {
		t.Errorf("got %v, want one error at templates[1].groups[0].blocks[0].key", err)
	}
	if _, _, err := CompileAll(1); err == nil {
		t.Error("CompileAll() with no templates: got nil error")
	}
	if _, _, err := CompileAll(0, stored); err == nil {
		t.Error("CompileAll(0, …): got nil error")
	}
}

func TestCompileRejectsInvalid(t *testing.T) {
	tests := []struct {
		name string
		t    Template
	}{
		{"empty template", Template{}},
		{"empty group", Template{Groups: []Group{{}}}},
		{"empty AllOf", AllOf()},
		{"numeric op on text", AllOf(Block{"device", "hostname", "gt", "a"})},
		{"numeric op on label", AllOf(Block{"nodeLabel", "gpu", "gt", "1"})},
		{"contains on taint", AllOf(Block{"taint", "t", "contains", "a"})},
		{"in on taint", AllOf(Block{"taint", "t", "in", "a,b"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args, err := Compile(tt.t, 1)
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("got %q %v err %v, want FieldErrors", sql, args, err)
			}
			if sql != "" || args != nil {
				t.Errorf("got sql %q args %v alongside errors", sql, args)
			}
			if diff := cmp.Diff(Validate(tt.t), fe); diff != "" {
				t.Errorf("Compile errors differ from Validate (-validate +compile):\n%s", diff)
			}
		})
	}
	if _, _, err := Compile(AllOf(Block{"device", "ip", "eq", "x"}), 0); err == nil {
		t.Error("argStart 0: got nil error")
	}
	if _, _, err := Compile(AllOf(Block{"device", "ip", "eq", "x"}), 65535); err != nil {
		t.Errorf("argStart 65535 with one parameter: %v", err)
	}
	if _, _, err := Compile(AllOf(Block{"device", "ip", "eq", "x"}, Block{"device", "ip", "eq", "y"}), 65535); err == nil {
		t.Error("parameter 65536: got nil error")
	}
}

// TestCompileInjection feeds SQL-injection attempts through every place user
// text goes: they are rejected with a path, or matched literally as parameters.
func TestCompileInjection(t *testing.T) {
	attacks := []string{
		`'; DROP TABLE devices; --`,
		`x' OR '1'='1`,
		`") OR true --`,
		`$1`,
		`1); DELETE FROM devices; --`,
		`%' OR d.hostname LIKE '%`,
		`\'; SELECT pg_sleep(10); --`,
		"a\u2019b", // typographic quote
		`{"gpu":"a100"}`,
		`*/ OR 1=1 /*`,
	}
	for _, a := range attacks {
		t.Run(a, func(t *testing.T) {
			// Text device values are matched literally: the whole string is one argument.
			for _, op := range []string{"eq", "ne", "contains", "prefix", "in", "notIn"} {
				sql, args, err := Compile(AllOf(Block{"device", "hostname", op, a}), 1)
				if err != nil {
					// Only in/notIn may reject (a comma splits the list into items, none empty here).
					t.Fatalf("op %s: %v", op, err)
				}
				assertNoUserText(t, sql, a, AllOf(Block{"device", "hostname", op, "v"}))
				checkPlaceholders(t, sql, args, 1)
				d := Device{Hostname: a}
				if (op == "eq" || op == "contains" || op == "prefix") && !Match(AllOf(Block{"device", "hostname", op, a}), d) {
					t.Errorf("op %s: a device whose hostname is the attack string does not match it literally", op)
				}
			}
			// Keys and label/taint values with SQL or JSON metacharacters are rejected with a path.
			for _, b := range []Block{
				{"nodeLabel", a, "exists", ""},
				{"nodeLabel", "gpu", "eq", a},
				{"nodeLabel", "gpu", "in", a},
				{"nodeLabel", "gpu", "contains", a},
				{"taint", a, "exists", ""},
				{"taint", "dedicated", "eq", a},
				{"device", a, "eq", "x"},
				{"device", "cpuCores", "eq", a},
				{"device", "memoryBytes", "gte", a},
			} {
				_, _, err := Compile(AllOf(b), 1)
				var fe FieldErrors
				if !errors.As(err, &fe) || len(fe) == 0 || !strings.HasPrefix(fe[0].Path, "groups[0].blocks[0].") {
					t.Errorf("%+v: got %v, want a FieldError on the block", b, err)
				}
			}
		})
	}
}

func TestEscapeLike(t *testing.T) {
	tests := map[string]string{
		"plain":   "plain",
		"a%b":     `a\%b`,
		"a_b":     `a\_b`,
		`a\b`:     `a\\b`,
		`%_\`:     `\%\_\\`,
		"ünï_cöd": `ünï\_cöd`,
	}
	for in, want := range tests {
		if got := escapeLike(in); got != want {
			t.Errorf("escapeLike(%q) got %q want %q", in, got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := map[string]string{
		"gpu":           `"gpu"`,
		`a"b\c`:         `"a\"b\\c"`,
		"tab\tnl\n\x01": `"tab\u0009nl\u000a\u0001"`,
		"é":             `"é"`,
		"bad\xff":       `"bad\ufffd"`,
	}
	for in, want := range tests {
		if got := string(appendJSONString(nil, in)); got != want {
			t.Errorf("appendJSONString(%q) got %s want %s", in, got, want)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	tmpl, err := Parse([]byte(designExample))
	if err != nil {
		b.Fatal(err)
	}
	extra := AllOf(
		Block{"device", "status", "eq", "idle"},
		Block{"device", "idc", "eq", "bj1"},
		Block{"device", "zone", "eq", "bj1-a"},
		Block{"nodeLabel", "pool", "in", "general,spare"},
		Block{"device", "memoryBytes", "gte", "512Gi"},
	)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := CompileAll(1, tmpl, extra); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseValidateCompile(b *testing.B) {
	data := []byte(designExample)
	b.ReportAllocs()
	for b.Loop() {
		t, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Compile(t, 1); err != nil {
			b.Fatal(err)
		}
	}
}
