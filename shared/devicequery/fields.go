package devicequery

import "strings"

type fieldKind uint8

const (
	kindText  fieldKind = iota // text NOT NULL DEFAULT ''
	kindInt                    // integer/bigint; values are decimal integers
	kindBytes                  // bigint bytes; values are integers or quantities (512Gi, 64G)
)

type fieldID uint8

const (
	fHostname fieldID = iota
	fIP
	fSerial
	fCPUArch
	fGPUModel
	fIDC
	fZone
	fRack
	fStatus
	fNodeName
	fCPUCores
	fMemoryBytes
	fGPUCount
	fDiskBytes
	fClusterID
	fPoolID
)

type field struct {
	id       fieldID
	name     string // JSON name used in templates
	column   string // devices column; the only identifiers compiled into SQL
	kind     fieldKind
	nullable bool     // cluster_id, pool_id: NULL while a device is idle
	enum     []string // allowed values for eq/ne/in/notIn, when the column is constrained
}

// deviceStatuses mirrors the CHECK constraint on devices.status.
var deviceStatuses = []string{"idle", "in_pool", "cordoned", "maintenance", "retired"}

// fields is the whitelist of device fields; nothing else reaches the SQL text.
var fields = [...]field{
	{id: fHostname, name: "hostname", column: "hostname", kind: kindText},
	{id: fIP, name: "ip", column: "ip", kind: kindText},
	{id: fSerial, name: "serial", column: "serial", kind: kindText},
	{id: fCPUArch, name: "cpuArch", column: "cpu_arch", kind: kindText},
	{id: fGPUModel, name: "gpuModel", column: "gpu_model", kind: kindText},
	{id: fIDC, name: "idc", column: "idc", kind: kindText},
	{id: fZone, name: "zone", column: "zone", kind: kindText},
	{id: fRack, name: "rack", column: "rack", kind: kindText},
	{id: fStatus, name: "status", column: "status", kind: kindText, enum: deviceStatuses},
	{id: fNodeName, name: "nodeName", column: "node_name", kind: kindText},
	{id: fCPUCores, name: "cpuCores", column: "cpu_cores", kind: kindInt},
	{id: fMemoryBytes, name: "memoryBytes", column: "memory_bytes", kind: kindBytes},
	{id: fGPUCount, name: "gpuCount", column: "gpu_count", kind: kindInt},
	{id: fDiskBytes, name: "diskBytes", column: "disk_bytes", kind: kindBytes},
	{id: fClusterID, name: "clusterId", column: "cluster_id", kind: kindInt, nullable: true},
	{id: fPoolID, name: "poolId", column: "pool_id", kind: kindInt, nullable: true},
}

func lookupField(name string) *field {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i]
		}
	}
	return nil
}

func fieldNames() string {
	names := make([]string, len(fields))
	for i := range fields {
		names[i] = fields[i].name
	}
	return strings.Join(names, ", ")
}

// Field describes one whitelisted device field, for UIs and API documents.
type Field struct {
	Name     string   `json:"name"`             // JSON name used as a device block's key
	Column   string   `json:"column"`           // devices column
	Numeric  bool     `json:"numeric"`          // gt/gte/lt/lte allowed; values are integers
	Quantity bool     `json:"quantity"`         // values may also be quantities such as 512Gi
	Nullable bool     `json:"nullable"`         // may be absent (exists/notExists allowed)
	Values   []string `json:"values,omitempty"` // the only values eq/ne/in/notIn accept, if constrained
	Ops      []string `json:"ops"`              // ops valid for this field
}

// DeviceFields returns the device field whitelist in a fixed order.
func DeviceFields() []Field {
	out := make([]Field, len(fields))
	for i := range fields {
		f := &fields[i]
		var ops []string
		for o := opEq; o <= opLte; o++ {
			if deviceOpAllowed(f, o) {
				ops = append(ops, opNames[o])
			}
		}
		out[i] = Field{
			Name:     f.name,
			Column:   f.column,
			Numeric:  f.kind != kindText,
			Quantity: f.kind == kindBytes,
			Nullable: f.nullable,
			Values:   append([]string(nil), f.enum...),
			Ops:      ops,
		}
	}
	return out
}

// textValue and numValue read a field of d without reflection.
func (d *Device) textValue(id fieldID) string {
	switch id {
	case fHostname:
		return d.Hostname
	case fIP:
		return d.IP
	case fSerial:
		return d.Serial
	case fCPUArch:
		return d.CPUArch
	case fGPUModel:
		return d.GPUModel
	case fIDC:
		return d.IDC
	case fZone:
		return d.Zone
	case fRack:
		return d.Rack
	case fStatus:
		return d.Status
	case fNodeName:
		return d.NodeName
	}
	return ""
}

// numValue reports false for an absent (NULL) value.
func (d *Device) numValue(id fieldID) (int64, bool) {
	switch id {
	case fCPUCores:
		return d.CPUCores, true
	case fMemoryBytes:
		return d.MemoryBytes, true
	case fGPUCount:
		return d.GPUCount, true
	case fDiskBytes:
		return d.DiskBytes, true
	case fClusterID:
		if d.ClusterID == nil {
			return 0, false
		}
		return *d.ClusterID, true
	case fPoolID:
		if d.PoolID == nil {
			return 0, false
		}
		return *d.PoolID, true
	}
	return 0, false
}
