package nodeexec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
)

func TestPoolLabels(t *testing.T) {
	tests := []struct {
		name       string
		selector   string
		nodeLabels map[string]string
		want       map[string]string
		wantErr    string
	}{
		{"empty", "", nil, map[string]string{}, ""},
		{"node labels only", "", map[string]string{"team": "ai"}, map[string]string{"team": "ai"}, ""},
		{"selector equality terms", "pool=general,tier==gold,zone in (a),gpu,env!=dev,os notin (win)", nil,
			map[string]string{"pool": "general", "tier": "gold", "zone": "a"}, ""},
		{"in with several values is not a label", "zone in (a,b)", nil, map[string]string{}, ""},
		{"both", "pool=general", map[string]string{"team": "ai", "pool": "general"}, map[string]string{"pool": "general", "team": "ai"}, ""},
		{"contradiction", "pool=general", map[string]string{"pool": "gpu"}, nil, "requires pool=general"},
		{"bad selector", "pool=(", nil, nil, "pool node selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PoolLabels(tt.selector, tt.nodeLabels)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || cmp.Diff(tt.want, got) != "" {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	dev := func(host, status, msg string) nodeplan.DeviceOperations {
		return nodeplan.DeviceOperations{Hostname: host, Node: host, Status: status, Error: msg}
	}
	tests := []struct {
		name       string
		actionType string
		devs       []nodeplan.DeviceOperations
		wantTarget string
		wantReason string // substring
		wantNote   string // substring of some note
	}{
		{"no devices", "pool_entry", nil, "", "", "holds no devices"},
		{"all done", "pool_entry", []nodeplan.DeviceOperations{dev("a", "done", ""), dev("b", "skipped", "gone")}, "completed", "done on 2 devices", ""},
		{"one failed", "pool_exit", []nodeplan.DeviceOperations{dev("a", "done", ""), dev("b", "failed", "drain blocked: db/db-0")},
			"failed", "failed on 1 of 2 devices: b (node b): drain blocked: db/db-0", ""},
		{"failed wins over waiting", "pool_entry", []nodeplan.DeviceOperations{dev("a", "pending", "not joined"), dev("b", "failed", "x")}, "failed", "1 of 2", ""},
		{"waiting", "pool_entry", []nodeplan.DeviceOperations{dev("a", "pending", "not joined"), dev("b", "done", "")}, "", "", "1 of 2 devices wait (a)"},
		{"interrupted", "uncordon", []nodeplan.DeviceOperations{dev("a", "processing", "interrupted")}, "", "", "1 of 1 devices wait"},
		{"maintenance done stays", "maintenance", []nodeplan.DeviceOperations{dev("a", "done", "")}, "", "", "maintenance can start"},
		{"maintenance failed stays", "maintenance", []nodeplan.DeviceOperations{dev("a", "failed", "drain blocked")}, "", "failed on 1 of 1", "no failed status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.actionType, tt.devs)
			if got.Target != tt.wantTarget || !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("got target %q reason %q; want %q containing %q", got.Target, got.Reason, tt.wantTarget, tt.wantReason)
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(got.Notes, "\n"), tt.wantNote) {
				t.Errorf("got notes %q; want one containing %q", got.Notes, tt.wantNote)
			}
		})
	}
	// A long reason is cut, on a rune boundary.
	long := dev("a", "failed", strings.Repeat("é", 3000))
	if r := Decide("pool_exit", []nodeplan.DeviceOperations{long}).Reason; len(r) > maxReason || !strings.HasSuffix(r, " …") || !strings.ContainsRune(r, 'é') {
		t.Errorf("long reason: got %d bytes, want ≤ %d ending in an ellipsis", len(r), maxReason)
	}
}
