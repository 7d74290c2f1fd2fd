package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/elasticpool/elasticpool/shared/devicequery"
)

const queryPath = "/api/v1/device-query/query"

// queryDevice is a fixture device as stored and as the reference evaluator sees it.
type queryDevice struct {
	id int64
	devicequery.Device
}

// seedQueryDevices stores 40 devices with varied fields, labels and taints.
func seedQueryDevices(t *testing.T, e *env) []queryDevice {
	t.Helper()
	ctx := context.Background()
	var devs []queryDevice
	for i := 0; i < 40; i++ {
		d := devicequery.Device{
			Hostname: fmt.Sprintf("node-%02d", (i*7)%40), CPUCores: []int64{32, 64, 96, 128}[i%4],
			MemoryBytes: int64(64*(1+i%5)) << 30, IDC: []string{"bj1", "sh1"}[i%2], Status: []string{"idle", "idle", "in_pool", "retired"}[i%4],
			Rack: "r" + fmt.Sprint(i%3), Labels: map[string]string{"team": []string{"search", "ads", "ai"}[i%3]},
		}
		if i%5 == 0 {
			d.Labels["gpu"] = "true"
			d.Taints = []devicequery.Taint{{Key: "dedicated", Value: "ai", Effect: "NoSchedule"}}
		}
		if i == 13 {
			d.Hostname = "x'; DROP TABLE devices; --"
		}
		var cluster, pool *int64
		if d.Status == "in_pool" {
			cluster, pool = queryFixturePool(t, e)
			d.ClusterID, d.PoolID = cluster, pool
		}
		labels, _ := json.Marshal(d.Labels)
		taints, _ := json.Marshal(d.Taints)
		if d.Taints == nil {
			taints = []byte("[]")
		}
		var id int64
		err := e.db.Pool.QueryRow(ctx, `INSERT INTO devices (hostname, cpu_cores, memory_bytes, idc, status, rack, labels, taints, cluster_id, pool_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			d.Hostname, d.CPUCores, d.MemoryBytes, d.IDC, d.Status, d.Rack, string(labels), string(taints), cluster, pool).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		devs = append(devs, queryDevice{id: id, Device: d})
	}
	return devs
}

func queryFixturePool(t *testing.T, e *env) (*int64, *int64) {
	t.Helper()
	ctx := context.Background()
	var c, p int64
	err := e.db.Pool.QueryRow(ctx, "SELECT c.id, p.id FROM clusters c JOIN resource_pools p ON p.cluster_id = c.id LIMIT 1").Scan(&c, &p)
	if err != nil {
		if err := e.db.Pool.QueryRow(ctx, "INSERT INTO clusters (name, idc) VALUES ('q1', 'bj1') RETURNING id").Scan(&c); err != nil {
			t.Fatal(err)
		}
		if err := e.db.Pool.QueryRow(ctx, "INSERT INTO resource_pools (cluster_id, name, pool_type) VALUES ($1, 'general', 'general') RETURNING id", c).Scan(&p); err != nil {
			t.Fatal(err)
		}
	}
	return &c, &p
}

// expect returns the ids of fixture devices the reference evaluator accepts.
func expect(devs []queryDevice, ts ...devicequery.Template) []int64 {
	var out []int64
	for _, d := range devs {
		ok := true
		for _, t := range ts {
			ok = ok && devicequery.Match(t, d.Device)
		}
		if ok {
			out = append(out, d.id)
		}
	}
	slices.Sort(out)
	return out
}

func ids(items []Device) []int64 {
	out := make([]int64, len(items))
	for i, d := range items {
		out[i] = d.ID
	}
	return out
}

func blk(typ, key, op, value string) map[string]any {
	b := map[string]any{"type": typ, "key": key, "op": op}
	if value != "" {
		b["value"] = value
	}
	return b
}

func oneGroup(logic string, blocks ...any) map[string]any {
	return map[string]any{"groups": []any{map[string]any{"logic": logic, "blocks": blocks}}}
}

func TestDeviceQueryList(t *testing.T) {
	e := newEnv(t)
	devs := seedQueryDevices(t, e)
	gpuOrBig := oneGroup("OR", blk("nodeLabel", "gpu", "exists", ""), blk("device", "cpuCores", "gte", "128"))
	qt := createTemplate(t, e, "gpu-or-big", gpuOrBig)
	tmpl := devicequery.Template{Groups: []devicequery.Group{{Logic: "OR", Blocks: []devicequery.Block{
		{Type: "nodeLabel", Key: "gpu", Op: "exists"}, {Type: "device", Key: "cpuCores", Op: "gte", Value: "128"}}}}}
	idleBJ := devicequery.AllOf(devicequery.Block{Type: "device", Key: "status", Op: "eq", Value: "idle"},
		devicequery.Block{Type: "device", Key: "idc", Op: "eq", Value: "bj1"})

	t.Run("inline and stored agree, one page is exact", func(t *testing.T) {
		want := expect(devs, tmpl)
		for _, body := range []map[string]any{{"groups": gpuOrBig}, {"templateId": qt.ID, "mode": "list"}} {
			var res DeviceQueryResult
			e.viewer.Must(http.StatusOK, "POST", queryPath, body).JSON(t, &res)
			if !slices.Equal(ids(res.Items), want) || res.Total != int64(len(want)) || res.CountKind != "exact" || res.NextCursor != "" || res.Mode != "list" {
				t.Fatalf("%v: got %v total %d %s, want %v", body, ids(res.Items), res.Total, res.CountKind, want)
			}
		}
	})

	t.Run("extra conditions as blocks and as a template", func(t *testing.T) {
		want := expect(devs, tmpl, idleBJ)
		if len(want) == 0 {
			t.Fatal("fixture: no idle bj1 device matches")
		}
		for _, extra := range []any{
			[]any{blk("device", "status", "eq", "idle"), blk("device", "idc", "eq", "bj1")},
			oneGroup("AND", blk("device", "status", "eq", "idle"), blk("device", "idc", "eq", "bj1")),
		} {
			var res DeviceQueryResult
			e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{"templateId": qt.ID, "extra": extra}).JSON(t, &res)
			if !slices.Equal(ids(res.Items), want) {
				t.Fatalf("extra %v: got %v, want %v", extra, ids(res.Items), want)
			}
		}
		var res DeviceQueryResult
		e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{"templateId": qt.ID, "extra": []any{}}).JSON(t, &res)
		if len(res.Items) != len(expect(devs, tmpl)) {
			t.Fatalf("empty extra changed the result: %v", ids(res.Items))
		}
	})

	t.Run("pages in every sort", func(t *testing.T) {
		all := devicequery.AllOf(devicequery.Block{Type: "device", Key: "memoryBytes", Op: "gte", Value: "64Gi"})
		want := expect(devs, all)
		byID := map[int64]queryDevice{}
		for _, d := range devs {
			byID[d.id] = d
		}
		for _, sort := range []string{"id", "-id", "hostname", "-hostname", "cpuCores", "-cpuCores", "memoryBytes", "-memoryBytes"} {
			var got []int64
			cursor := ""
			for page := 0; ; page++ {
				var res DeviceQueryResult
				e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{
					"groups": oneGroup("", blk("device", "memoryBytes", "gte", "64Gi")), "sort": sort, "limit": 7, "cursor": cursor,
				}).JSON(t, &res)
				if res.Total != int64(len(want)) || res.CountKind != "exact" {
					t.Fatalf("sort %s page %d: total %d %s, want %d exact", sort, page, res.Total, res.CountKind, len(want))
				}
				got = append(got, ids(res.Items)...)
				if res.NextCursor == "" {
					break
				}
				cursor = res.NextCursor
				if page > 10 {
					t.Fatalf("sort %s: pagination does not end", sort)
				}
			}
			key := strings.TrimPrefix(sort, "-")
			less := func(a, b int64) int {
				da, db := byID[a], byID[b]
				c := 0
				switch key {
				case "hostname":
					c = strings.Compare(da.Hostname, db.Hostname)
				case "cpuCores":
					c = int(da.CPUCores - db.CPUCores)
				case "memoryBytes":
					c = int((da.MemoryBytes - db.MemoryBytes) >> 30)
				}
				if c == 0 {
					c = int(a - b)
				}
				if sort[0] == '-' {
					c = -c
				}
				return c
			}
			wantSorted := slices.Clone(want)
			slices.SortFunc(wantSorted, less)
			if !slices.Equal(got, wantSorted) {
				t.Fatalf("sort %s: got %v, want %v", sort, got, wantSorted)
			}
		}
	})

	t.Run("injection is matched literally", func(t *testing.T) {
		var res DeviceQueryResult
		e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{
			"groups": oneGroup("", blk("device", "hostname", "contains", "'; DROP TABLE devices; --")),
		}).JSON(t, &res)
		if len(res.Items) != 1 || res.Items[0].Hostname != "x'; DROP TABLE devices; --" {
			t.Fatalf("got %+v", res.Items)
		}
		e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{
			"groups": oneGroup("", blk("device", "hostname", "prefix", "%")),
		}).JSON(t, &res)
		if len(res.Items) != 0 {
			t.Fatalf("prefix %% matched %v", ids(res.Items))
		}
	})
}

func TestDeviceQueryPreview(t *testing.T) {
	e := newEnv(t)
	devs := seedQueryDevices(t, e)
	gpu := devicequery.AllOf(devicequery.Block{Type: "nodeLabel", Key: "gpu", Op: "exists"})
	want := expect(devs, gpu)

	var res DeviceQueryResult
	e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{
		"groups": oneGroup("", blk("nodeLabel", "gpu", "exists", "")), "mode": "preview", "limit": 3,
	}).JSON(t, &res)
	if res.Mode != "preview" || res.Total != int64(len(want)) || res.CountKind != "exact" || len(res.Items) != 3 || res.NextCursor != "" || res.CountCap != 10000 {
		t.Fatalf("got total %d %s, %d items, want %d exact and 3 items", res.Total, res.CountKind, len(res.Items), len(want))
	}
	for _, d := range res.Items {
		if !slices.Contains(want, d.ID) || d.Labels["gpu"] != "true" || len(d.Taints) != 1 {
			t.Fatalf("sample device %+v does not match", d)
		}
	}
	// default sample size; nothing matches
	e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{
		"groups": oneGroup("", blk("device", "cpuCores", "gt", "4096")), "mode": "preview",
	}).JSON(t, &res)
	if res.Total != 0 || res.CountKind != "exact" || len(res.Items) != 0 || res.Items == nil {
		t.Fatalf("got %+v", res)
	}
}

func TestDeviceQueryCountCapped(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO devices (hostname, cpu_cores, labels)
		SELECT 'bulk-' || g, 64, '{"team":"search"}' FROM generate_series(1, 10050) g`); err != nil {
		t.Fatal(err)
	}
	search := oneGroup("", blk("nodeLabel", "team", "eq", "search"))
	var res DeviceQueryResult
	e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{"groups": search, "mode": "preview"}).JSON(t, &res)
	if res.Total != 10000 || res.CountKind != "capped" || len(res.Items) != 10 {
		t.Fatalf("preview: total %d %s, %d items; want 10000 capped, 10 items", res.Total, res.CountKind, len(res.Items))
	}
	e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{"groups": search, "limit": 100}).JSON(t, &res)
	if res.Total != 10000 || res.CountKind != "capped" || len(res.Items) != 100 || res.NextCursor == "" {
		t.Fatalf("list: total %d %s, %d items", res.Total, res.CountKind, len(res.Items))
	}
}

func TestDeviceQueryValidation(t *testing.T) {
	e := newEnv(t)
	qt := createTemplate(t, e, "gpu", oneGroup("", blk("nodeLabel", "gpu", "exists", "")))
	var broken int64
	if err := e.db.Pool.QueryRow(context.Background(), `INSERT INTO query_templates (name, groups)
		VALUES ('broken', '{"groups":[{"blocks":[{"type":"device","key":"colour","op":"eq","value":"red"}]}]}') RETURNING id`).Scan(&broken); err != nil {
		t.Fatal(err)
	}
	var first DeviceQueryResult
	seedQueryDevices(t, e)
	e.viewer.Must(http.StatusOK, "POST", queryPath, map[string]any{"templateId": qt.ID, "limit": 1}).JSON(t, &first)
	if first.NextCursor == "" {
		t.Fatal("fixture: want a second page")
	}
	good := oneGroup("", blk("nodeLabel", "gpu", "exists", ""))
	tests := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"neither", map[string]any{"mode": "list"}, []string{"body.templateId"}},
		{"both", map[string]any{"templateId": qt.ID, "groups": good}, []string{"body.groups"}},
		{"unknown template", map[string]any{"templateId": 99999}, []string{"body.templateId"}},
		{"stored template no longer valid", map[string]any{"templateId": broken}, []string{"body.templateId"}},
		{"bad inline template", map[string]any{"groups": oneGroup("", blk("nodeLabel", "gpu", "gt", "1"))}, []string{"body.groups.groups[0].blocks[0].op"}},
		{"bad extra blocks", map[string]any{"templateId": qt.ID, "extra": []any{blk("device", "idc", "eq", "bj1"), blk("device", "idc", "gte", "1")}},
			[]string{"body.extra[1].op"}},
		{"bad extra template", map[string]any{"templateId": qt.ID, "extra": oneGroup("", blk("taint", "k", "exists", "v"))},
			[]string{"body.extra.groups[0].blocks[0].value"}},
		{"extra neither array nor object", map[string]any{"templateId": qt.ID, "extra": "status=idle"}, []string{"body.extra"}},
		{"label key injection", map[string]any{"groups": oneGroup("", blk("nodeLabel", `gpu"}' OR 1=1 --`, "exists", ""))},
			[]string{"body.groups.groups[0].blocks[0].key"}},
		{"everything at once", map[string]any{"groups": oneGroup("", blk("device", "ram", "eq", "1")), "extra": []any{blk("taint", "a", "prefix", "b")}},
			[]string{"body.extra[0].op", "body.groups.groups[0].blocks[0].key"}},
		{"preview has no pages", map[string]any{"templateId": qt.ID, "mode": "preview", "cursor": first.NextCursor}, []string{"body.cursor"}},
		{"preview sample too big", map[string]any{"templateId": qt.ID, "mode": "preview", "limit": 51}, []string{"body.limit"}},
		{"garbage cursor", map[string]any{"templateId": qt.ID, "cursor": "garbage"}, []string{"body.cursor"}},
		{"cursor of another sort", map[string]any{"templateId": qt.ID, "cursor": first.NextCursor, "sort": "hostname"}, []string{"body.cursor"}},
		{"unknown sort", map[string]any{"templateId": qt.ID, "sort": "password"}, []string{"body.sort"}},
		{"unknown mode", map[string]any{"templateId": qt.ID, "mode": "count"}, []string{"body.mode"}},
		{"limit", map[string]any{"templateId": qt.ID, "limit": 501}, []string{"body.limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.viewer.Must(http.StatusUnprocessableEntity, "POST", queryPath, tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got locations %v, want %v (%+v)", got, tt.want, p)
			}
		})
	}
	e.anon.Must(http.StatusUnauthorized, "POST", queryPath, map[string]any{"templateId": qt.ID})
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM devices").Scan(&n); err != nil || n != 40 {
		t.Fatalf("devices: %d (%v)", n, err)
	}
}
