package devicequery

import "strings"

// Device holds the fields a template can test, as stored in the devices table.
// ClusterID and PoolID are nil where the column is NULL.
type Device struct {
	Hostname    string            `json:"hostname"`
	IP          string            `json:"ip"`
	Serial      string            `json:"serial"`
	CPUArch     string            `json:"cpuArch"`
	CPUCores    int64             `json:"cpuCores"`
	MemoryBytes int64             `json:"memoryBytes"`
	GPUCount    int64             `json:"gpuCount"`
	GPUModel    string            `json:"gpuModel"`
	DiskBytes   int64             `json:"diskBytes"`
	IDC         string            `json:"idc"`
	Zone        string            `json:"zone"`
	Rack        string            `json:"rack"`
	Status      string            `json:"status"`
	ClusterID   *int64            `json:"clusterId"`
	PoolID      *int64            `json:"poolId"`
	NodeName    string            `json:"nodeName"`
	Labels      map[string]string `json:"labels"`
	Taints      []Taint           `json:"taints"`
}

// Taint is one element of devices.taints. The collector stores taints as
// [{"key":…,"value":…,"effect":…}]; a missing value and "" are the same here.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// Match is the reference evaluator: it reports whether d satisfies t with the
// same semantics as the SQL that Compile produces, NULL behaviour included (a
// comparison with an absent clusterId/poolId is false, ne and notIn included).
// An invalid template matches nothing.
func Match(t Template, d Device) bool {
	var errs FieldErrors
	p := analyze(t, &errs)
	if len(errs) > 0 {
		return false
	}
	return p.match(&d)
}

func (p *program) match(d *Device) bool {
	for i := range p.groups {
		m := p.groups[i].match(d)
		if m == p.or {
			return m // OR: first true decides; AND: first false decides
		}
	}
	return !p.or
}

func (g *groupProg) match(d *Device) bool {
	for i := range g.conds {
		m := g.conds[i].match(d)
		if m == g.or {
			return m
		}
	}
	return !g.or
}

func (x *cond) match(d *Device) bool {
	switch x.typ {
	case btDevice:
		return x.matchDevice(d)
	case btLabel:
		return x.matchLabel(d)
	case btTaint:
		return x.matchTaint(d)
	}
	return false
}

func (x *cond) matchDevice(d *Device) bool {
	f := x.field
	if f.kind == kindText {
		v := d.textValue(f.id)
		switch x.op {
		case opEq:
			return v == x.text
		case opNe:
			return v != x.text
		case opIn:
			return containsString(x.texts, v)
		case opNotIn:
			return !containsString(x.texts, v)
		case opExists:
			return v != ""
		case opNotExists:
			return v == ""
		case opContains:
			return strings.Contains(v, x.text)
		case opPrefix:
			return strings.HasPrefix(v, x.text)
		}
		return false
	}
	v, ok := d.numValue(f.id)
	switch x.op {
	case opExists:
		return ok
	case opNotExists:
		return !ok
	}
	if !ok {
		return false
	}
	switch x.op {
	case opEq:
		return v == x.num
	case opNe:
		return v != x.num
	case opGt:
		return v > x.num
	case opGte:
		return v >= x.num
	case opLt:
		return v < x.num
	case opLte:
		return v <= x.num
	case opIn:
		return containsInt(x.nums, v)
	case opNotIn:
		return !containsInt(x.nums, v)
	}
	return false
}

func (x *cond) matchLabel(d *Device) bool {
	v, ok := d.Labels[x.key]
	switch x.op {
	case opEq:
		return ok && v == x.text
	case opNe:
		return !ok || v != x.text
	case opIn:
		return ok && containsString(x.texts, v)
	case opNotIn:
		return !ok || !containsString(x.texts, v)
	case opExists:
		return ok
	case opNotExists:
		return !ok
	case opContains:
		return ok && strings.Contains(v, x.text)
	case opPrefix:
		return ok && strings.HasPrefix(v, x.text)
	}
	return false
}

func (x *cond) matchTaint(d *Device) bool {
	spec := x.taint
	if x.op == opExists || x.op == opNotExists {
		spec = taintSpec{}
	}
	found := false
	for _, t := range d.Taints {
		if t.Key == x.key && (!spec.hasValue || t.Value == spec.value) && (!spec.hasEffect || t.Effect == spec.effect) {
			found = true
			break
		}
	}
	if x.op == opNe || x.op == opNotExists {
		return !found
	}
	return found
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsInt(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
