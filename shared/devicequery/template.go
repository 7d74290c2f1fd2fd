package devicequery

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// Block types.
const (
	TypeDevice    = "device"    // a whitelisted device column (see DeviceFields)
	TypeNodeLabel = "nodeLabel" // a Kubernetes node label (devices.labels)
	TypeTaint     = "taint"     // a Kubernetes node taint (devices.taints)
)

// Ops. Which op is valid for which type is listed in docs/devicequery.md.
const (
	OpEq        = "eq"
	OpNe        = "ne"
	OpIn        = "in"    // value: comma-separated list
	OpNotIn     = "notIn" // value: comma-separated list
	OpExists    = "exists"
	OpNotExists = "notExists"
	OpContains  = "contains"
	OpPrefix    = "prefix"
	OpGt        = "gt"
	OpGte       = "gte"
	OpLt        = "lt"
	OpLte       = "lte"
)

// Logic values of templates and groups; the empty string means LogicAnd.
const (
	LogicAnd = "AND"
	LogicOr  = "OR"
)

// Limits that keep one template's cost bounded (the API should also cap the body size).
const (
	MaxGroups      = 100      // groups per template
	MaxBlocks      = 100      // blocks per group
	MaxValueBytes  = 64 << 10 // bytes in one block value
	MaxListItems   = 4096     // items in one in/notIn list
	maxSelectorLen = MaxValueBytes
)

// Template is the query template JSON of DESIGN.md §6: groups combined with
// Logic, each group's blocks combined with the group's Logic.
type Template struct {
	Logic  string  `json:"logic,omitempty"`
	Groups []Group `json:"groups"`
}

// Group is a list of blocks combined with Logic.
type Group struct {
	Logic  string  `json:"logic,omitempty"`
	Blocks []Block `json:"blocks"`
}

// Block is one condition. Value is empty for exists/notExists, a comma list
// for in/notIn, and "value:effect" (either part optional) for taints.
type Block struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Op    string `json:"op"`
	Value string `json:"value,omitempty"`
}

// AllOf returns a template that is the AND of blocks, for extra conditions
// (the additionCond of DESIGN.md §6) to pass to CompileAll next to a stored template.
func AllOf(blocks ...Block) Template {
	return Template{Logic: LogicAnd, Groups: []Group{{Logic: LogicAnd, Blocks: blocks}}}
}

// FieldError is one problem, located by a JSON path into the template such as
// groups[1].blocks[0].op ("" is the document itself).
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// FieldErrors is every problem found, in document order. It implements error;
// beware that a nil FieldErrors stored in an error variable is a non-nil error,
// so test len(errs) or use Err.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns es as an error, or nil when there are none.
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// WithPrefix returns the errors with prefix prepended to every path (joined
// with a dot), e.g. to locate a template inside a larger request body.
func (es FieldErrors) WithPrefix(prefix string) FieldErrors {
	if prefix == "" {
		return es
	}
	out := make(FieldErrors, len(es))
	for i, e := range es {
		out[i] = e
		switch {
		case e.Path == "":
			out[i].Path = prefix
		case strings.HasPrefix(e.Path, "["):
			out[i].Path = prefix + e.Path
		default:
			out[i].Path = prefix + "." + e.Path
		}
	}
	return out
}

func (es *FieldErrors) add(path, msg string) {
	*es = append(*es, FieldError{Path: path, Message: msg})
}

// Parse decodes template JSON strictly: unknown fields, wrong JSON types and
// trailing data are errors, reported as FieldErrors with their paths. JSON
// null counts as an absent field. Parse does not check the semantics; call
// Validate (or Compile, which validates) on the result.
func Parse(data []byte) (Template, error) {
	var errs FieldErrors
	var t Template
	obj, ok := decodeObject(data, "", &errs)
	if !ok {
		return Template{}, errs
	}
	checkFields(obj, "", &errs, "logic", "groups")
	t.Logic = decodeString(obj["logic"], "logic", &errs)
	rawGroups := decodeArray(obj["groups"], "groups", &errs)
	if len(rawGroups) > MaxGroups {
		errs.add("groups", "at most "+strconv.Itoa(MaxGroups)+" groups")
		rawGroups = rawGroups[:MaxGroups]
	}
	if rawGroups != nil {
		t.Groups = make([]Group, len(rawGroups))
	}
	for gi, rg := range rawGroups {
		gp := "groups[" + strconv.Itoa(gi) + "]"
		gobj, ok := decodeObject(rg, gp, &errs)
		if !ok {
			continue
		}
		checkFields(gobj, gp, &errs, "logic", "blocks")
		g := &t.Groups[gi]
		g.Logic = decodeString(gobj["logic"], gp+".logic", &errs)
		rawBlocks := decodeArray(gobj["blocks"], gp+".blocks", &errs)
		if len(rawBlocks) > MaxBlocks {
			errs.add(gp+".blocks", "at most "+strconv.Itoa(MaxBlocks)+" blocks per group")
			rawBlocks = rawBlocks[:MaxBlocks]
		}
		if rawBlocks != nil {
			g.Blocks = make([]Block, len(rawBlocks))
		}
		for bi, rb := range rawBlocks {
			bp := gp + ".blocks[" + strconv.Itoa(bi) + "]"
			bobj, ok := decodeObject(rb, bp, &errs)
			if !ok {
				continue
			}
			checkFields(bobj, bp, &errs, "type", "key", "op", "value")
			b := &g.Blocks[bi]
			b.Type = decodeString(bobj["type"], bp+".type", &errs)
			b.Key = decodeString(bobj["key"], bp+".key", &errs)
			b.Op = decodeString(bobj["op"], bp+".op", &errs)
			b.Value = decodeString(bobj["value"], bp+".value", &errs)
		}
	}
	if len(errs) > 0 {
		return Template{}, errs
	}
	return t, nil
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// decodeObject decodes a JSON object; null and non-objects are errors.
func decodeObject(raw json.RawMessage, path string, errs *FieldErrors) (map[string]json.RawMessage, bool) {
	if path == "" {
		// Only the document itself can be malformed JSON; nested raw values were checked with it.
		if !json.Valid(raw) {
			var v any
			err := json.Unmarshal(raw, &v)
			msg := "invalid JSON"
			if err != nil {
				msg += ": " + strings.TrimPrefix(err.Error(), "json: ")
			}
			errs.add(path, msg)
			return nil, false
		}
	}
	if isNull(raw) {
		errs.add(path, "must be a JSON object, not null")
		return nil, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		errs.add(path, "must be a JSON object")
		return nil, false
	}
	return m, true
}

// checkFields reports every key of obj not in known, in sorted order.
func checkFields(obj map[string]json.RawMessage, path string, errs *FieldErrors, known ...string) {
	var unknown []string
	for k := range obj {
		found := false
		for _, kn := range known {
			if k == kn {
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		p := k
		if path != "" {
			p = path + "." + k
		}
		errs.add(p, "unknown field")
	}
}

func decodeString(raw json.RawMessage, path string, errs *FieldErrors) string {
	if isNull(raw) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		errs.add(path, "must be a string")
		return ""
	}
	return s
}

func decodeArray(raw json.RawMessage, path string, errs *FieldErrors) []json.RawMessage {
	if isNull(raw) {
		return nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		errs.add(path, "must be an array")
		return nil
	}
	if a == nil {
		a = []json.RawMessage{}
	}
	return a
}
