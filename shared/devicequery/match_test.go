package devicequery

import "testing"

func ptr(n int64) *int64 { return &n }

// Devices the evaluator tests run against.
var (
	devIdle = Device{
		Hostname: "gpu-node-01", IP: "10.0.0.1", Serial: "SN1", CPUArch: "amd64", CPUCores: 64,
		MemoryBytes: 512 << 30, GPUCount: 8, GPUModel: "A100_80G", DiskBytes: 2 << 40,
		IDC: "bj1", Zone: "bj1-a", Rack: "", Status: "idle", NodeName: "",
		Labels: map[string]string{"gpu": "a100", "pool": "general", "example.com/team": "ml_ops"},
		Taints: []Taint{{Key: "dedicated", Value: "ai", Effect: "NoSchedule"}, {Key: "node.kubernetes.io/unschedulable", Effect: "NoSchedule"}},
	}
	devInPool = Device{
		Hostname: "cpu-node-02", CPUArch: "arm64", CPUCores: 32, MemoryBytes: 128 << 30,
		IDC: "sh1", Zone: "sh1-b", Rack: "r7", Status: "in_pool", ClusterID: ptr(3), PoolID: ptr(9), NodeName: "node-02",
		Labels: map[string]string{"pool": "spare"},
	}
)

func TestMatchBlocks(t *testing.T) {
	tests := []struct {
		name         string
		block        Block
		idle, inPool bool // want for devIdle, devInPool
	}{
		// device text
		{"text eq", Block{"device", "idc", "eq", "bj1"}, true, false},
		{"text eq empty", Block{"device", "rack", "eq", ""}, true, false},
		{"text ne", Block{"device", "idc", "ne", "bj1"}, false, true},
		{"text in", Block{"device", "status", "in", "idle,cordoned"}, true, false},
		{"text notIn", Block{"device", "status", "notIn", "idle,cordoned"}, false, true},
		{"text exists", Block{"device", "rack", "exists", ""}, false, true},
		{"text notExists", Block{"device", "nodeName", "notExists", ""}, true, false},
		{"text contains", Block{"device", "hostname", "contains", "node-0"}, true, true},
		{"text contains literal underscore", Block{"device", "gpuModel", "contains", "0_8"}, true, false},
		{"text contains no wildcard", Block{"device", "gpuModel", "contains", "A100%"}, false, false},
		{"text contains is case-sensitive", Block{"device", "hostname", "contains", "GPU"}, false, false},
		{"text prefix", Block{"device", "hostname", "prefix", "gpu-"}, true, false},
		// device numeric
		{"num eq", Block{"device", "cpuCores", "eq", "64"}, true, false},
		{"num ne", Block{"device", "cpuCores", "ne", "64"}, false, true},
		{"num gt", Block{"device", "cpuCores", "gt", "32"}, true, false},
		{"num gte", Block{"device", "cpuCores", "gte", "32"}, true, true},
		{"num lt", Block{"device", "cpuCores", "lt", "64"}, false, true},
		{"num lte", Block{"device", "cpuCores", "lte", "64"}, true, true},
		{"num gte quantity", Block{"device", "memoryBytes", "gte", "512Gi"}, true, false},
		{"num lt decimal quantity", Block{"device", "memoryBytes", "lt", "200G"}, false, true},
		{"num in", Block{"device", "gpuCount", "in", "0,4"}, false, true},
		{"num notIn", Block{"device", "gpuCount", "notIn", "0,4"}, true, false},
		{"bytes eq quantity", Block{"device", "diskBytes", "eq", "2Ti"}, true, false},
		// nullable: absent compares false, ne and notIn included
		{"nullable eq", Block{"device", "clusterId", "eq", "3"}, false, true},
		{"nullable ne", Block{"device", "clusterId", "ne", "4"}, false, true},
		{"nullable notIn", Block{"device", "poolId", "notIn", "1,2"}, false, true},
		{"nullable lt", Block{"device", "poolId", "lt", "100"}, false, true},
		{"nullable gt", Block{"device", "poolId", "gt", "100"}, false, false},
		{"nullable exists", Block{"device", "clusterId", "exists", ""}, false, true},
		{"nullable notExists", Block{"device", "poolId", "notExists", ""}, true, false},
		// nodeLabel (Kubernetes selector semantics: absent matches ne/notIn/notExists)
		{"label eq", Block{"nodeLabel", "gpu", "eq", "a100"}, true, false},
		{"label eq empty needs label", Block{"nodeLabel", "gpu", "eq", ""}, false, false},
		{"label ne", Block{"nodeLabel", "gpu", "ne", "a100"}, false, true},
		{"label ne absent", Block{"nodeLabel", "gpu", "ne", "h100"}, true, true},
		{"label in", Block{"nodeLabel", "pool", "in", "general,other"}, true, false},
		{"label notIn", Block{"nodeLabel", "pool", "notIn", "general"}, false, true},
		{"label notIn absent", Block{"nodeLabel", "gpu", "notIn", "h100"}, true, true},
		{"label exists", Block{"nodeLabel", "gpu", "exists", ""}, true, false},
		{"label notExists", Block{"nodeLabel", "gpu", "notExists", ""}, false, true},
		{"label contains", Block{"nodeLabel", "example.com/team", "contains", "l_o"}, true, false},
		{"label contains absent", Block{"nodeLabel", "example.com/team", "contains", "x"}, false, false},
		{"label prefix", Block{"nodeLabel", "pool", "prefix", "sp"}, false, true},
		// taint
		{"taint eq value", Block{"taint", "dedicated", "eq", "ai"}, true, false},
		{"taint eq effect", Block{"taint", "dedicated", "eq", ":NoSchedule"}, true, false},
		{"taint eq both", Block{"taint", "dedicated", "eq", "ai:NoSchedule"}, true, false},
		{"taint eq wrong effect", Block{"taint", "dedicated", "eq", "ai:NoExecute"}, false, false},
		{"taint eq value of another key", Block{"taint", "node.kubernetes.io/unschedulable", "eq", "ai"}, false, false},
		{"taint ne", Block{"taint", "dedicated", "ne", "ai:NoSchedule"}, false, true},
		{"taint ne other effect", Block{"taint", "dedicated", "ne", ":NoExecute"}, true, true},
		{"taint exists", Block{"taint", "node.kubernetes.io/unschedulable", "exists", ""}, true, false},
		{"taint notExists", Block{"taint", "dedicated", "notExists", ""}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := AllOf(tt.block)
			if errs := Validate(tmpl); len(errs) > 0 {
				t.Fatalf("invalid: %v", errs)
			}
			if got := Match(tmpl, devIdle); got != tt.idle {
				t.Errorf("idle device: got %v want %v", got, tt.idle)
			}
			if got := Match(tmpl, devInPool); got != tt.inPool {
				t.Errorf("in-pool device: got %v want %v", got, tt.inPool)
			}
		})
	}
}

func TestMatchLogic(t *testing.T) {
	yes := Block{"device", "idc", "eq", "bj1"}    // true for devIdle
	no := Block{"device", "idc", "eq", "nowhere"} // false for both
	tests := []struct {
		name string
		t    Template
		want bool
	}{
		{"AND all true", Template{Groups: []Group{{Blocks: []Block{yes, yes}}}}, true},
		{"AND one false", Template{Groups: []Group{{Blocks: []Block{yes, no}}}}, false},
		{"OR one true", Template{Groups: []Group{{Logic: "OR", Blocks: []Block{no, yes}}}}, true},
		{"OR all false", Template{Groups: []Group{{Logic: "OR", Blocks: []Block{no, no}}}}, false},
		{"groups AND", Template{Logic: "AND", Groups: []Group{{Blocks: []Block{yes}}, {Blocks: []Block{no}}}}, false},
		{"groups OR", Template{Logic: "OR", Groups: []Group{{Blocks: []Block{no}}, {Blocks: []Block{yes}}}}, true},
		{"design example", func() Template { tm, _ := Parse([]byte(designExample)); return tm }(), true},
		{"invalid matches nothing", Template{Groups: []Group{{Blocks: []Block{yes, {"device", "nope", "eq", "x"}}}}}, false},
		{"empty matches nothing", Template{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.t, devIdle); got != tt.want {
				t.Errorf("got %v want %v", got, tt.want)
			}
		})
	}
}

func TestMatchNilMaps(t *testing.T) {
	var d Device // no labels, no taints, NULL cluster/pool
	tests := []struct {
		block Block
		want  bool
	}{
		{Block{"nodeLabel", "gpu", "ne", "a"}, true},
		{Block{"nodeLabel", "gpu", "notExists", ""}, true},
		{Block{"nodeLabel", "gpu", "eq", ""}, false},
		{Block{"taint", "t", "notExists", ""}, true},
		{Block{"taint", "t", "eq", "a"}, false},
		{Block{"device", "clusterId", "ne", "1"}, false},
		{Block{"device", "hostname", "eq", ""}, true},
	}
	for _, tt := range tests {
		if got := Match(AllOf(tt.block), d); got != tt.want {
			t.Errorf("%+v on zero device: got %v want %v", tt.block, got, tt.want)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	tmpl, _ := Parse([]byte(designExample))
	b.ReportAllocs()
	for b.Loop() {
		Match(tmpl, devInPool)
	}
}
