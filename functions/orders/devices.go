package orders

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Taint is a Kubernetes node taint of a device.
type Taint struct {
	Key    string `json:"key" minLength:"1" maxLength:"317"`
	Value  string `json:"value,omitempty" maxLength:"63"`
	Effect string `json:"effect" enum:"NoSchedule,PreferNoSchedule,NoExecute"`
}

// Device is a physical server.
type Device struct {
	ID               int64             `json:"id"`
	Hostname         string            `json:"hostname"`
	IP               string            `json:"ip"`
	Serial           string            `json:"serial"`
	CPUArch          string            `json:"cpuArch"`
	CPUCores         int               `json:"cpuCores"`
	MemoryBytes      int64             `json:"memoryBytes"`
	GPUCount         int               `json:"gpuCount"`
	GPUModel         string            `json:"gpuModel"`
	DiskBytes        int64             `json:"diskBytes"`
	IDC              string            `json:"idc"`
	Zone             string            `json:"zone"`
	Rack             string            `json:"rack"`
	Status           string            `json:"status" enum:"idle,in_pool,cordoned,maintenance,retired"`
	ClusterID        *int64            `json:"clusterId"`
	PoolID           *int64            `json:"poolId"`
	NodeName         string            `json:"nodeName"`
	Labels           map[string]string `json:"labels"`
	Taints           []Taint           `json:"taints"`
	Extra            map[string]any    `json:"extra"`
	NodeCPUAllocated *int64            `json:"nodeCpuAllocated" doc:"Millicores requested on the device's node (collector); null without node data."`
	NodeMemAllocated *int64            `json:"nodeMemAllocated" doc:"Bytes requested on the device's node (collector); null without node data."`
	HeldByOrderID    *int64            `json:"heldByOrderId" doc:"The open order holding the device, if any."`
	Version          int               `json:"version"`
	CreatedBy        string            `json:"createdBy"`
	UpdatedBy        string            `json:"updatedBy"`
	CreatedAt        time.Time         `json:"createdAt"`
	UpdatedAt        time.Time         `json:"updatedAt"`
}

// DeviceRecord is what a client writes about a device (one import row, or
// the body of create/update).
type DeviceRecord struct {
	Hostname    string            `json:"hostname" minLength:"1" maxLength:"253" doc:"Unique; import upserts by it."`
	IP          string            `json:"ip,omitempty" maxLength:"64"`
	Serial      string            `json:"serial,omitempty" maxLength:"128" doc:"Unique when not empty."`
	CPUArch     string            `json:"cpuArch,omitempty" maxLength:"32"`
	CPUCores    int               `json:"cpuCores,omitempty" minimum:"0" maximum:"100000"`
	MemoryBytes int64             `json:"memoryBytes,omitempty" minimum:"0"`
	GPUCount    int               `json:"gpuCount,omitempty" minimum:"0" maximum:"1024"`
	GPUModel    string            `json:"gpuModel,omitempty" maxLength:"100"`
	DiskBytes   int64             `json:"diskBytes,omitempty" minimum:"0"`
	IDC         string            `json:"idc,omitempty" maxLength:"100"`
	Zone        string            `json:"zone,omitempty" maxLength:"100"`
	Rack        string            `json:"rack,omitempty" maxLength:"100"`
	Status      string            `json:"status,omitempty" enum:"idle,in_pool,cordoned,maintenance,retired" doc:"Default idle. idle: no cluster/pool; in_pool: both."`
	ClusterID   *int64            `json:"clusterId,omitempty" minimum:"1"`
	PoolID      *int64            `json:"poolId,omitempty" minimum:"1" doc:"Must belong to clusterId."`
	NodeName    string            `json:"nodeName,omitempty" maxLength:"253"`
	Labels      map[string]string `json:"labels,omitempty"`
	Taints      []Taint           `json:"taints,omitempty" maxItems:"100"`
	Extra       map[string]any    `json:"extra,omitempty" doc:"Free-form attributes (CMDB data)."`
}

// DeviceInput is the body of create and update.
type DeviceInput struct {
	DeviceRecord
	Version int `json:"version,omitempty" minimum:"1" doc:"Current version, for updates (or send If-Match)."`
}

func (r DeviceRecord) status() string {
	if r.Status == "" {
		return "idle"
	}
	return r.Status
}

// check validates what the schema cannot; loc names a field of this record.
func (r DeviceRecord) check(loc func(field string) string) []*httpapi.FieldError {
	var errs []*httpapi.FieldError
	switch st := r.status(); {
	case st == "idle" && (r.ClusterID != nil || r.PoolID != nil):
		errs = append(errs, &httpapi.FieldError{Location: loc("status"), Message: "an idle device belongs to no cluster or pool; drop clusterId/poolId or set another status", Value: st})
	case st == "in_pool" && r.ClusterID == nil:
		errs = append(errs, &httpapi.FieldError{Location: loc("clusterId"), Message: "is required when status is in_pool"})
	case st == "in_pool" && r.PoolID == nil:
		errs = append(errs, &httpapi.FieldError{Location: loc("poolId"), Message: "is required when status is in_pool"})
	case r.PoolID != nil && r.ClusterID == nil:
		errs = append(errs, &httpapi.FieldError{Location: loc("clusterId"), Message: "is required with poolId"})
	}
	for k := range r.Labels {
		if strings.TrimSpace(k) == "" || len(k) > 317 {
			errs = append(errs, &httpapi.FieldError{Location: loc("labels"), Message: "label keys are 1-317 characters", Value: k})
		}
	}
	return errs
}

// checkDeviceRefs verifies, in one round trip, that every record's cluster
// exists and its pool belongs to it.
func checkDeviceRefs(ctx context.Context, q postgres.Querier, recs []DeviceRecord, loc func(i int, field string) string) ([]*httpapi.FieldError, error) {
	var clusterIDs, poolIDs []int64
	for _, r := range recs {
		if r.ClusterID != nil {
			clusterIDs = append(clusterIDs, *r.ClusterID)
		}
		if r.PoolID != nil {
			poolIDs = append(poolIDs, *r.PoolID)
		}
	}
	if len(clusterIDs) == 0 && len(poolIDs) == 0 {
		return nil, nil
	}
	clusters := map[int64]bool{}
	poolCluster := map[int64]int64{}
	rows, err := q.Query(ctx, `SELECT 'c', id, 0 FROM clusters WHERE id = ANY($1)
		UNION ALL SELECT 'p', id, cluster_id FROM resource_pools WHERE id = ANY($2)`, clusterIDs, poolIDs)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	for rows.Next() {
		var kind string
		var id, cluster int64
		if err := rows.Scan(&kind, &id, &cluster); err != nil {
			rows.Close()
			return nil, postgres.Translate(err)
		}
		if kind == "c" {
			clusters[id] = true
		} else {
			poolCluster[id] = cluster
		}
	}
	if err := rows.Err(); err != nil {
		return nil, postgres.Translate(err)
	}
	var errs []*httpapi.FieldError
	for i, r := range recs {
		if r.ClusterID != nil && !clusters[*r.ClusterID] {
			errs = append(errs, &httpapi.FieldError{Location: loc(i, "clusterId"), Message: "no such cluster", Value: *r.ClusterID})
			continue
		}
		if r.PoolID == nil {
			continue
		}
		c, ok := poolCluster[*r.PoolID]
		switch {
		case !ok:
			errs = append(errs, &httpapi.FieldError{Location: loc(i, "poolId"), Message: "no such pool", Value: *r.PoolID})
		case r.ClusterID != nil && c != *r.ClusterID:
			errs = append(errs, &httpapi.FieldError{Location: loc(i, "poolId"), Message: fmt.Sprintf("pool %d belongs to cluster %d, not %d", *r.PoolID, c, *r.ClusterID), Value: *r.PoolID})
		}
	}
	return errs, nil
}

const deviceColumns = `id, hostname, ip, serial, cpu_arch, cpu_cores, memory_bytes, gpu_count, gpu_model, disk_bytes,
	idc, zone, rack, status, cluster_id, pool_id, node_name, labels, taints, extra, node_cpu_allocated, node_mem_allocated,
	(SELECT od.order_id FROM order_devices od WHERE od.device_id = devices.id AND od.active),
	version, created_by, updated_by, created_at, updated_at`

func scanDevice(row pgx.Row) (Device, error) {
	var d Device
	err := row.Scan(&d.ID, &d.Hostname, &d.IP, &d.Serial, &d.CPUArch, &d.CPUCores, &d.MemoryBytes, &d.GPUCount, &d.GPUModel,
		&d.DiskBytes, &d.IDC, &d.Zone, &d.Rack, &d.Status, &d.ClusterID, &d.PoolID, &d.NodeName, &d.Labels, &d.Taints,
		&d.Extra, &d.NodeCPUAllocated, &d.NodeMemAllocated, &d.HeldByOrderID, &d.Version, &d.CreatedBy, &d.UpdatedBy,
		&d.CreatedAt, &d.UpdatedAt)
	if d.Taints == nil {
		d.Taints = []Taint{}
	}
	return d, postgres.Translate(err)
}

func nonNilTaints(t []Taint) []Taint {
	if t == nil {
		return []Taint{}
	}
	return t
}

func nonNilAnyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

type deviceOutput struct {
	ETag string `header:"ETag"`
	Body Device
}

var deviceSorts = map[string]string{"id": "id", "hostname": "hostname", "createdAt": "created_at", "updatedAt": "updated_at"}

func deviceCursor(s httpapi.Sort) func(Device) httpapi.Cursor {
	return func(d Device) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: d.ID}
		switch s.Key {
		case "hostname":
			c.Value = d.Hostname
		case "createdAt":
			c.Value = d.CreatedAt
		case "updatedAt":
			c.Value = d.UpdatedAt
		}
		return c
	}
}

type listDevicesInput struct {
	Status    string   `query:"status" enum:"idle,in_pool,cordoned,maintenance,retired"`
	IDC       string   `query:"idc"`
	Zone      string   `query:"zone"`
	ClusterID int64    `query:"clusterId" minimum:"0"`
	PoolID    int64    `query:"poolId" minimum:"0"`
	Hostname  string   `query:"hostname" maxLength:"253" doc:"Substring of the hostname."`
	Label     []string `query:"label,explode" doc:"k=v (label equals) or k (label exists); repeat for several (all must hold)."`
	ListParams
}

func (f *Function) registerDevices() {
	huma.Register(f.api, huma.Operation{
		OperationID: "list-devices", Method: http.MethodGet, Path: httpapi.Prefix + "/devices",
		Summary: "List devices", Tags: []string{"devices"},
	}, func(ctx context.Context, in *listDevicesInput) (*struct{ Body List[Device] }, error) {
		sort, err := httpapi.ParseSort(in.Sort, "id", deviceSorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		w := newWhere()
		if in.Status != "" {
			w.add("status = " + w.arg(in.Status))
		}
		if in.IDC != "" {
			w.add("idc = " + w.arg(in.IDC))
		}
		if in.Zone != "" {
			w.add("zone = " + w.arg(in.Zone))
		}
		if in.ClusterID > 0 {
			w.add("cluster_id = " + w.arg(in.ClusterID))
		}
		if in.PoolID > 0 {
			w.add("pool_id = " + w.arg(in.PoolID))
		}
		if in.Hostname != "" {
			w.add("hostname ILIKE '%' || " + w.arg(escapeLike(in.Hostname)) + " || '%'")
		}
		equal := map[string]string{}
		for i, l := range in.Label {
			k, v, hasValue := strings.Cut(l, "=")
			k = strings.TrimSpace(k)
			if k == "" {
				return nil, httpapi.Invalid("bad label filter", &httpapi.FieldError{Location: fmt.Sprintf("query.label[%d]", i), Message: "want k=v or k", Value: l})
			}
			if hasValue {
				equal[k] = v
			} else {
				// jsonb ? is served by the default jsonb_ops GIN on labels.
				w.add("labels ? " + w.arg(k))
			}
		}
		if len(equal) > 0 {
			// one containment for all equalities: the GIN serves @> (never ->>).
			w.add("labels @> " + w.arg(equal))
		}
		items, next, err := listPage(ctx, customPlans{f.db}, "SELECT "+deviceColumns+" FROM devices", w, sort, cur, in.Limit, scanDevice, deviceCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "devices")
		}
		return &struct{ Body List[Device] }{Body: List[Device]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-device", Method: http.MethodGet, Path: httpapi.Prefix + "/devices/{id}",
		Summary: "Get a device", Tags: []string{"devices"},
	}, func(ctx context.Context, in *idPath) (*deviceOutput, error) {
		d, err := scanDevice(f.db.QueryRow(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = $1", in.ID))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("device %d", in.ID))
		}
		return &deviceOutput{ETag: httpapi.ETag(d.Version), Body: d}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "create-device", Method: http.MethodPost, Path: httpapi.Prefix + "/devices",
		Summary: "Create a device", Tags: []string{"devices"}, DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *struct{ Body DeviceInput }) (*deviceOutput, error) {
		r := in.Body.DeviceRecord
		if err := f.checkDeviceInput(ctx, r); err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var d Device
		err := postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			var err error
			d, err = scanDevice(tx.QueryRow(ctx, `INSERT INTO devices (hostname, ip, serial, cpu_arch, cpu_cores, memory_bytes, gpu_count,
					gpu_model, disk_bytes, idc, zone, rack, status, cluster_id, pool_id, node_name, labels, taints, extra, created_by, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)
				RETURNING `+deviceColumns,
				r.Hostname, r.IP, r.Serial, r.CPUArch, r.CPUCores, r.MemoryBytes, r.GPUCount, r.GPUModel, r.DiskBytes, r.IDC, r.Zone,
				r.Rack, r.status(), r.ClusterID, r.PoolID, r.NodeName, nonNilMap(r.Labels), nonNilTaints(r.Taints), nonNilAnyMap(r.Extra), actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "device.create", TargetType: "device",
				TargetID: d.ID, After: d, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, "device "+r.Hostname)
		}
		return &deviceOutput{ETag: httpapi.ETag(d.Version), Body: d}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-device", Method: http.MethodPut, Path: httpapi.Prefix + "/devices/{id}",
		Summary: "Replace a device's fields", Tags: []string{"devices"},
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    DeviceInput
	}) (*deviceOutput, error) {
		r := in.Body.DeviceRecord
		version, err := httpapi.ExpectedVersion(in.IfMatch, in.Body.Version)
		if err != nil {
			return nil, err
		}
		if err := f.checkDeviceInput(ctx, r); err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var after Device
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanDevice(tx.QueryRow(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = $1 FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			after, err = scanDevice(tx.QueryRow(ctx, `UPDATE devices SET hostname = $2, ip = $3, serial = $4, cpu_arch = $5, cpu_cores = $6,
					memory_bytes = $7, gpu_count = $8, gpu_model = $9, disk_bytes = $10, idc = $11, zone = $12, rack = $13, status = $14,
					cluster_id = $15, pool_id = $16, node_name = $17, labels = $18, taints = $19, extra = $20, updated_by = $21,
					version = version + 1, updated_at = now()
				WHERE id = $1 RETURNING `+deviceColumns,
				in.ID, r.Hostname, r.IP, r.Serial, r.CPUArch, r.CPUCores, r.MemoryBytes, r.GPUCount, r.GPUModel, r.DiskBytes, r.IDC,
				r.Zone, r.Rack, r.status(), r.ClusterID, r.PoolID, r.NodeName, nonNilMap(r.Labels), nonNilTaints(r.Taints),
				nonNilAnyMap(r.Extra), actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "device.update", TargetType: "device",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("device %d", in.ID))
		}
		return &deviceOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "delete-device", Method: http.MethodDelete, Path: httpapi.Prefix + "/devices/{id}",
		Summary: "Delete a device (refused once orders refer to it: retire it instead)", Tags: []string{"devices"},
		DefaultStatus: http.StatusNoContent, Metadata: map[string]any{httpapi.MetaRole: auth.RoleAdmin},
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		err := deleteAudited(ctx, f, "device", in.ID, "SELECT "+deviceColumns+" FROM devices WHERE id = $1 FOR UPDATE",
			scanDevice, "DELETE FROM devices WHERE id = $1")
		if errors.Is(err, postgres.ErrReference) {
			return nil, huma.Error409Conflict(fmt.Sprintf("device %d is referenced by orders; set its status to retired instead", in.ID))
		}
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("device %d", in.ID))
		}
		return nil, nil
	})

	f.registerDeviceImport()
}

// checkDeviceInput validates one create/update body.
func (f *Function) checkDeviceInput(ctx context.Context, r DeviceRecord) error {
	loc := func(field string) string { return "body." + field }
	errs := r.check(loc)
	if len(errs) == 0 {
		refErrs, err := checkDeviceRefs(ctx, f.db, []DeviceRecord{r}, func(_ int, field string) string { return loc(field) })
		if err != nil {
			return httpapi.StoreError(err, "device "+r.Hostname)
		}
		errs = refErrs
	}
	if len(errs) > 0 {
		return httpapi.Invalid("bad device", errs...)
	}
	return nil
}
