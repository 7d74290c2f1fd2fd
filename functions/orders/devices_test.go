package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestDeviceCRUD(t *testing.T) {
	fx := newOrderFixture(t)
	var d Device
	fx.operator.Must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{
		"hostname": "gpu-001", "ip": "10.0.0.1", "serial": "SN1", "cpuCores": 96, "memoryBytes": 512 << 30, "gpuCount": 8,
		"gpuModel": "A100", "idc": "bj1", "zone": "a", "rack": "r1", "labels": map[string]string{"gpu": "a100"},
		"taints": []map[string]string{{"key": "dedicated", "value": "ai", "effect": "NoSchedule"}}, "extra": map[string]any{"owner": "ml"},
	}).JSON(t, &d)
	if d.Status != "idle" || d.CreatedBy != "oscar" || d.Version != 1 || len(d.Taints) != 1 || d.Taints[0].Effect != "NoSchedule" ||
		d.Labels["gpu"] != "a100" || d.Extra["owner"] != "ml" || d.HeldByOrderID != nil {
		t.Fatalf("created %+v", d)
	}
	r := fx.viewer.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil)
	if r.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q", r.Header.Get("ETag"))
	}
	var u Device
	fx.operator.Must(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/devices/%d", d.ID), map[string]any{
		"hostname": "gpu-001", "idc": "bj1", "status": "in_pool", "clusterId": fx.cluster.ID, "poolId": fx.other.ID,
	}, "If-Match", `"1"`).JSON(t, &u)
	if u.Status != "in_pool" || *u.PoolID != fx.other.ID || u.Version != 2 || u.Serial != "" || len(u.Taints) != 0 {
		t.Fatalf("updated (PUT replaces every field) %+v", u)
	}
	fx.operator.Must(http.StatusPreconditionFailed, "PUT", fmt.Sprintf("/api/v1/devices/%d", d.ID), map[string]any{"hostname": "gpu-001", "version": 1})
	fx.operator.Must(http.StatusPreconditionRequired, "PUT", fmt.Sprintf("/api/v1/devices/%d", d.ID), map[string]any{"hostname": "gpu-001"})
	fx.operator.Must(http.StatusConflict, "POST", "/api/v1/devices", map[string]any{"hostname": "gpu-001"})
	fx.operator.Must(http.StatusNotFound, "PUT", "/api/v1/devices/999999", map[string]any{"hostname": "x", "version": 1})

	// deletion is for admins, and refused once an order refers to the device
	fx.operator.Must(http.StatusForbidden, "DELETE", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil)
	o := fx.order(t, "pool_exit", fx.other, d.ID)
	fx.move(t, o, "cancelled", http.StatusOK)
	p := fx.admin.Must(http.StatusConflict, "DELETE", fmt.Sprintf("/api/v1/devices/%d", d.ID), nil).Problem(t)
	if !strings.Contains(p.Detail, "retired") {
		t.Errorf("409 detail %q should suggest retiring", p.Detail)
	}
	spare := fx.idleDevice(t)
	fx.admin.Must(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/devices/%d", spare.ID), nil)
	fx.viewer.Must(http.StatusNotFound, "GET", fmt.Sprintf("/api/v1/devices/%d", spare.ID), nil)
	var actions []string
	var l List[AuditEntry]
	fx.viewer.Must(http.StatusOK, "GET", "/api/v1/audit-log?targetType=device&sort=at", nil).JSON(t, &l)
	for _, a := range l.Items {
		actions = append(actions, a.Action+":"+a.TargetID)
	}
	want := []string{"device.create:" + fmt.Sprint(d.ID), "device.update:" + fmt.Sprint(d.ID),
		"device.create:" + fmt.Sprint(spare.ID), "device.delete:" + fmt.Sprint(spare.ID)}
	if !slices.Equal(actions, want) {
		t.Errorf("device audit %v, want %v", actions, want)
	}
}

func TestDeviceValidation(t *testing.T) {
	fx := newOrderFixture(t)
	var foreign Cluster
	fx.admin.Must(http.StatusCreated, "POST", "/api/v1/clusters", map[string]any{"name": "sh-1"}).JSON(t, &foreign)
	tests := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"missing hostname", map[string]any{"idc": "bj1"}, []string{"body.hostname"}},
		{"unknown field", map[string]any{"hostname": "h", "colour": "red"}, []string{"body.colour"}},
		{"negative cores", map[string]any{"hostname": "h", "cpuCores": -1}, []string{"body.cpuCores"}},
		{"bad status", map[string]any{"hostname": "h", "status": "broken"}, []string{"body.status"}},
		{"bad taint effect", map[string]any{"hostname": "h", "taints": []map[string]string{{"key": "k", "effect": "Never"}}}, []string{"body.taints[0].effect"}},
		{"taint without key", map[string]any{"hostname": "h", "taints": []map[string]string{{"effect": "NoExecute"}}}, []string{"body.taints[0].key"}},
		{"label value not a string", map[string]any{"hostname": "h", "labels": map[string]any{"a": 1}}, []string{"body.labels.a"}},
		{"empty label key", map[string]any{"hostname": "h", "labels": map[string]any{"": "x"}}, []string{"body.labels"}},
		{"idle in a pool", map[string]any{"hostname": "h", "clusterId": fx.cluster.ID, "poolId": fx.pool.ID}, []string{"body.status"}},
		{"in_pool without pool", map[string]any{"hostname": "h", "status": "in_pool", "clusterId": fx.cluster.ID}, []string{"body.poolId"}},
		{"pool without cluster", map[string]any{"hostname": "h", "status": "cordoned", "poolId": fx.pool.ID}, []string{"body.clusterId"}},
		{"pool of another cluster", map[string]any{"hostname": "h", "status": "in_pool", "clusterId": foreign.ID, "poolId": fx.pool.ID}, []string{"body.poolId"}},
		{"no such cluster", map[string]any{"hostname": "h", "status": "cordoned", "clusterId": 999999}, []string{"body.clusterId"}},
		{"no such pool", map[string]any{"hostname": "h", "status": "in_pool", "clusterId": fx.cluster.ID, "poolId": 999999}, []string{"body.poolId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fx.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/devices", tt.body).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v (%+v)", got, tt.want, p)
			}
		})
	}
	fx.viewer.Must(http.StatusForbidden, "POST", "/api/v1/devices", map[string]any{"hostname": "h"})
}

func TestDeviceList(t *testing.T) {
	fx := newOrderFixture(t)
	mk := func(host, idc, zone string, labels map[string]string, status string, p *Pool) Device {
		body := map[string]any{"hostname": host, "idc": idc, "zone": zone, "labels": labels}
		if p != nil {
			body["status"], body["clusterId"], body["poolId"] = status, p.ClusterID, p.ID
		}
		var d Device
		fx.operator.Must(http.StatusCreated, "POST", "/api/v1/devices", body).JSON(t, &d)
		return d
	}
	mk("bj1-web-01", "bj1", "a", map[string]string{"role": "web", "ssd": "true"}, "", nil)
	mk("bj1-web-02", "bj1", "b", map[string]string{"role": "web"}, "in_pool", &fx.pool)
	mk("bj1-gpu-01", "bj1", "a", map[string]string{"role": "gpu", "ssd": "true"}, "in_pool", &fx.other)
	mk("sh2-web_01", "sh2", "a", map[string]string{"role": "web"}, "", nil)
	mk("sh2-db-01", "sh2", "c", nil, "", nil)

	hosts := func(q string) []string {
		t.Helper()
		var l List[Device]
		fx.viewer.Must(http.StatusOK, "GET", "/api/v1/devices?"+q, nil).JSON(t, &l)
		var out []string
		for _, d := range l.Items {
			out = append(out, d.Hostname)
		}
		return out
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"", []string{"bj1-web-01", "bj1-web-02", "bj1-gpu-01", "sh2-web_01", "sh2-db-01"}},
		{"status=idle", []string{"bj1-web-01", "sh2-web_01", "sh2-db-01"}},
		{"idc=sh2", []string{"sh2-web_01", "sh2-db-01"}},
		{"zone=a&idc=bj1", []string{"bj1-web-01", "bj1-gpu-01"}},
		{fmt.Sprintf("clusterId=%d", fx.cluster.ID), []string{"bj1-web-02", "bj1-gpu-01"}},
		{fmt.Sprintf("poolId=%d", fx.other.ID), []string{"bj1-gpu-01"}},
		{"hostname=web", []string{"bj1-web-01", "bj1-web-02", "sh2-web_01"}},
		{"hostname=web_", []string{"sh2-web_01"}}, // _ is literal, not a wildcard
		{"label=role=web", []string{"bj1-web-01", "bj1-web-02", "sh2-web_01"}},
		{"label=role=web&label=ssd=true", []string{"bj1-web-01"}},
		{"label=ssd", []string{"bj1-web-01", "bj1-gpu-01"}},
		{"sort=-hostname", []string{"sh2-web_01", "sh2-db-01", "bj1-web-02", "bj1-web-01", "bj1-gpu-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			if got := hosts(tt.q); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	var page List[Device]
	fx.viewer.Must(http.StatusOK, "GET", "/api/v1/devices?sort=hostname&limit=3", nil).JSON(t, &page)
	if got := hosts("sort=hostname&limit=3&cursor=" + page.NextCursor); !slices.Equal(got, []string{"sh2-db-01", "sh2-web_01"}) {
		t.Errorf("page 2: %v", got)
	}
	for _, bad := range []string{"status=lost", "sort=ip", "label==x", "cursor=zz"} {
		fx.viewer.Must(http.StatusUnprocessableEntity, "GET", "/api/v1/devices?"+bad, nil)
	}
}

func deviceCount(t *testing.T, fx *orderFixture) int {
	t.Helper()
	var n int
	if err := fx.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM devices").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeviceImportJSON(t *testing.T) {
	fx := newOrderFixture(t)
	rows := []map[string]any{
		{"hostname": "imp-1", "cpuCores": 32, "memoryBytes": 128 << 30, "idc": "bj1", "labels": map[string]string{"a": "1"}, "serial": "S1"},
		{"hostname": "imp-2", "cpuCores": 64, "status": "in_pool", "clusterId": fx.cluster.ID, "poolId": fx.pool.ID},
		{"hostname": "imp-3", "taints": []map[string]string{{"key": "gpu", "effect": "NoSchedule"}}},
	}
	var res DeviceImportResult
	fx.operator.Must(http.StatusOK, "POST", "/api/v1/devices/import", rows).JSON(t, &res)
	if res != (DeviceImportResult{Rows: 3, Created: 3}) {
		t.Fatalf("first import %+v", res)
	}
	// again, unchanged: nothing is rewritten
	fx.operator.Must(http.StatusOK, "POST", "/api/v1/devices/import", rows).JSON(t, &res)
	if res != (DeviceImportResult{Rows: 3, Unchanged: 3}) {
		t.Fatalf("same import again %+v", res)
	}
	// a partial row changes only what it gives; placement fields go together
	fx.operator.Must(http.StatusOK, "POST", "/api/v1/devices/import", []map[string]any{
		{"hostname": "imp-1", "rack": "r9"},
		{"hostname": "imp-2", "status": "cordoned", "clusterId": fx.cluster.ID},
		{"hostname": "imp-4"},
	}).JSON(t, &res)
	if res != (DeviceImportResult{Rows: 3, Created: 1, Updated: 2}) {
		t.Fatalf("partial import %+v", res)
	}
	var l List[Device]
	fx.viewer.Must(http.StatusOK, "GET", "/api/v1/devices?hostname=imp-&sort=hostname", nil).JSON(t, &l)
	if len(l.Items) != 4 {
		t.Fatalf("got %d devices", len(l.Items))
	}
	d1, d2, d3 := l.Items[0], l.Items[1], l.Items[2]
	if d1.Rack != "r9" || d1.CPUCores != 32 || d1.Labels["a"] != "1" || d1.Serial != "S1" || d1.Version != 2 || d1.UpdatedBy != "oscar" {
		t.Errorf("imp-1 after a rack-only row: %+v", d1)
	}
	if d2.Status != "cordoned" || d2.PoolID != nil || *d2.ClusterID != fx.cluster.ID || d2.CPUCores != 64 {
		t.Errorf("imp-2 after a placement row: %+v", d2)
	}
	if len(d3.Taints) != 1 || d3.Taints[0].Key != "gpu" || d3.Version != 1 {
		t.Errorf("imp-3 untouched: %+v", d3)
	}

	// a body bigger than the default 1 MiB limit passes
	big := make([]map[string]any, 6000)
	for i := range big {
		big[i] = map[string]any{"hostname": fmt.Sprintf("bulk-%05d", i), "cpuCores": 64, "memoryBytes": 256 << 30, "idc": "bj1",
			"zone": "a", "rack": "r1", "labels": map[string]string{"team": "infra", "tier": "gold"}, "extra": map[string]any{"note": strings.Repeat("x", 80)}}
	}
	body, _ := json.Marshal(big)
	if len(body) <= 1<<20 {
		t.Fatalf("test body %d bytes is not above 1 MiB", len(body))
	}
	fx.operator.Must(http.StatusOK, "POST", "/api/v1/devices/import", body).JSON(t, &res)
	if res.Created != 6000 {
		t.Fatalf("bulk import %+v", res)
	}
}

func TestDeviceImportRejectsWholeBatch(t *testing.T) {
	fx := newOrderFixture(t)
	fx.operator.Must(http.StatusCreated, "POST", "/api/v1/devices", map[string]any{"hostname": "old", "serial": "TAKEN"})
	before := deviceCount(t, fx)
	ok := func(i int) map[string]any { return map[string]any{"hostname": fmt.Sprintf("h%d", i), "cpuCores": 8} }
	tests := []struct {
		name string
		rows []map[string]any
		want []string
	}{
		{"one bad row", []map[string]any{ok(0), ok(1), ok(2), {"hostname": "h3", "cpuCores": "many"}, ok(4)}, []string{"body[3].cpuCores"}},
		{"several", []map[string]any{{"cpuCores": 1}, ok(1), {"hostname": "h2", "taints": []map[string]string{{"key": "k", "effect": "Soon"}}}},
			[]string{"body[0].hostname", "body[2].taints[0].effect"}},
		{"repeated hostname", []map[string]any{ok(0), ok(1), ok(0)}, []string{"body[2].hostname"}},
		{"schema and rule errors together", []map[string]any{{"hostname": "h0", "cpuCores": -1}, {"hostname": "h1", "status": "cordoned", "poolId": fx.pool.ID}},
			[]string{"body[0].cpuCores", "body[1].clusterId"}},
		{"serial of another device", []map[string]any{ok(0), {"hostname": "h1", "serial": "TAKEN"}}, []string{"body[1].serial"}},
		{"pool of no cluster", []map[string]any{ok(0), {"hostname": "h1", "status": "in_pool", "clusterId": fx.cluster.ID, "poolId": 999999}}, []string{"body[1].poolId"}},
		{"idle with a pool", []map[string]any{{"hostname": "h0", "poolId": fx.pool.ID, "clusterId": fx.cluster.ID}}, []string{"body[0].status"}},
		{"unknown field", []map[string]any{ok(0), {"hostname": "h1", "owner": "me"}}, []string{"body[1].owner"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fx.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/devices/import", tt.rows).Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v (%+v)", got, tt.want, p)
			}
			if n := deviceCount(t, fx); n != before {
				t.Fatalf("%d devices after a refused import, want %d", n, before)
			}
		})
	}
	fx.operator.Must(http.StatusBadRequest, "POST", "/api/v1/devices/import", `[{"hostname":`)
	fx.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/devices/import", `[]`)
	fx.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/devices/import", `{"hostname":"x"}`)
	fx.operator.Must(http.StatusUnsupportedMediaType, "POST", "/api/v1/devices/import", "hostname\nx\n", "Content-Type", "application/xml")
	fx.viewer.Must(http.StatusForbidden, "POST", "/api/v1/devices/import", `[{"hostname":"x"}]`)
}

func TestDeviceImportCSV(t *testing.T) {
	fx := newOrderFixture(t)
	csv := "hostname,cpuCores,memoryBytes,idc,labels,taints,status,clusterId,poolId\n" +
		"c-1,64,512Gi,bj1,gpu=a100;team=ml,dedicated=ai:NoSchedule;spot:PreferNoSchedule,,,\n" +
		fmt.Sprintf("c-2,32,68719476736,bj1,\"{\"\"env\"\":\"\"prod\"\"}\",\"[{\"\"key\"\":\"\"k\"\",\"\"effect\"\":\"\"NoExecute\"\"}]\",in_pool,%d,%d\n", fx.cluster.ID, fx.pool.ID) +
		"c-3,,,sh2,,,,,\n"
	var res DeviceImportResult
	fx.operator.Must(http.StatusOK, "POST", "/api/v1/devices/import", csv, "Content-Type", "text/csv; charset=utf-8").JSON(t, &res)
	if res != (DeviceImportResult{Rows: 3, Created: 3}) {
		t.Fatalf("csv import %+v", res)
	}
	var l List[Device]
	fx.viewer.Must(http.StatusOK, "GET", "/api/v1/devices?hostname=c-&sort=hostname", nil).JSON(t, &l)
	c1, c2, c3 := l.Items[0], l.Items[1], l.Items[2]
	if c1.MemoryBytes != 512<<30 || c1.Labels["team"] != "ml" || len(c1.Taints) != 2 || c1.Taints[0] != (Taint{Key: "dedicated", Value: "ai", Effect: "NoSchedule"}) ||
		c1.Taints[1] != (Taint{Key: "spot", Effect: "PreferNoSchedule"}) || c1.Status != "idle" {
		t.Errorf("c-1 %+v", c1)
	}
	if c2.Status != "in_pool" || *c2.PoolID != fx.pool.ID || c2.Labels["env"] != "prod" || c2.Taints[0].Effect != "NoExecute" || c2.MemoryBytes != 64<<30 {
		t.Errorf("c-2 %+v", c2)
	}
	if c3.CPUCores != 0 || c3.IDC != "sh2" {
		t.Errorf("c-3 %+v", c3)
	}

	before := deviceCount(t, fx)
	tests := []struct {
		name string
		csv  string
		want []string
	}{
		{"bad integer in row 4", "hostname,cpuCores\na,1\nb,2\nc,3\nd,lots\ne,5\n", []string{"row 4 column cpuCores"}},
		{"bad quantity", "hostname,memoryBytes\na,12Qi\n", []string{"row 1 column memoryBytes"}},
		{"every kind of error at once", fmt.Sprintf("hostname,cpuCores,status,clusterId,poolId\na,x,,,\n,2,,,\nc,3,idle,%d,%d\nd,-4,,,\n", fx.cluster.ID, fx.pool.ID),
			[]string{"row 1 column cpuCores", "row 2 column hostname", "row 3 column status", "row 4 column cpuCores"}},
		{"missing hostname", "hostname,cpuCores\na,1\n,2\n", []string{"row 2 column hostname"}},
		{"bad taint effect", "hostname,taints\na,k=v:Sometimes\n", []string{"row 1 column taints"}},
		{"taint without effect", "hostname,taints\na,k=v\n", []string{"row 1 column taints"}},
		{"bad label", "hostname,labels\na,justakey\n", []string{"row 1 column labels"}},
		{"unknown column", "hostname,colour\na,red\n", []string{"header column 2"}},
		{"no hostname column", "cpuCores\n1\n", []string{"header"}},
		{"short row", "hostname,cpuCores\na\n", []string{"row 1"}},
		{"repeated hostname", "hostname\na\nb\na\n", []string{"row 3 column hostname"}},
		{"in_pool without pool", fmt.Sprintf("hostname,status,clusterId\na,in_pool,%d\n", fx.cluster.ID), []string{"row 1 column poolId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fx.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/devices/import", tt.csv, "Content-Type", "text/csv").Problem(t)
			if got := p.Locations(); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v (%+v)", got, tt.want, p)
			}
			if n := deviceCount(t, fx); n != before {
				t.Fatalf("%d devices after a refused import, want %d", n, before)
			}
		})
	}
	fx.operator.Must(http.StatusBadRequest, "POST", "/api/v1/devices/import", "", "Content-Type", "text/csv")
	fx.operator.Must(http.StatusUnprocessableEntity, "POST", "/api/v1/devices/import", "hostname\n", "Content-Type", "text/csv")
}
