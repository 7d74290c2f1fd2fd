package devicequery

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

type opCode uint8

const (
	opNone opCode = iota
	opEq
	opNe
	opIn
	opNotIn
	opExists
	opNotExists
	opContains
	opPrefix
	opGt
	opGte
	opLt
	opLte
)

var opNames = [...]string{
	opNone: "", opEq: OpEq, opNe: OpNe, opIn: OpIn, opNotIn: OpNotIn, opExists: OpExists,
	opNotExists: OpNotExists, opContains: OpContains, opPrefix: OpPrefix,
	opGt: OpGt, opGte: OpGte, opLt: OpLt, opLte: OpLte,
}

const allOps = "eq, ne, in, notIn, exists, notExists, contains, prefix, gt, gte, lt, lte"

func lookupOp(s string) opCode {
	for o := opEq; o <= opLte; o++ {
		if opNames[o] == s {
			return o
		}
	}
	return opNone
}

type blockType uint8

const (
	btDevice blockType = iota + 1
	btLabel
	btTaint
)

// cond is a validated block in the form both the compiler and the evaluator use.
type cond struct {
	typ   blockType
	op    opCode
	field *field   // btDevice
	key   string   // btLabel, btTaint
	text  string   // eq/ne operand (text or label value), contains/prefix operand
	texts []string // in/notIn operands (text or label values)
	num   int64    // numeric eq/ne/gt/gte/lt/lte operand
	nums  []int64  // numeric in/notIn operands
	taint taintSpec
}

type groupProg struct {
	or    bool
	conds []cond
}

// program is a validated template.
type program struct {
	or     bool
	groups []groupProg
}

// Validate checks a template as it is stored: it returns every problem with
// its JSON path (nil when valid). A template needs at least one group and
// every group at least one block.
func Validate(t Template) FieldErrors {
	var errs FieldErrors
	analyze(t, &errs)
	return errs
}

// checkLogic reports whether s means OR; the path is only built for an error.
func checkLogic(s string, gi int, errs *FieldErrors) bool {
	switch s {
	case "", LogicAnd:
		return false
	case LogicOr:
		return true
	}
	path := "logic"
	if gi >= 0 {
		path = groupPath(gi) + ".logic"
	}
	errs.add(path, "must be AND or OR, got "+strconv.Quote(s))
	return false
}

func groupPath(gi int) string { return "groups[" + strconv.Itoa(gi) + "]" }

// blockLoc locates a block; paths are built only when there is an error, so
// validating a good template allocates no strings.
type blockLoc struct{ g, b int }

func (l blockLoc) path(field string) string {
	return groupPath(l.g) + ".blocks[" + strconv.Itoa(l.b) + "]." + field
}

// analyze validates t and returns its program; the program is only meaningful
// when no error was added.
func analyze(t Template, errs *FieldErrors) program {
	var p program
	p.or = checkLogic(t.Logic, -1, errs)
	groups := t.Groups
	switch {
	case len(groups) == 0:
		errs.add("groups", "must not be empty: a template needs at least one group")
	case len(groups) > MaxGroups:
		errs.add("groups", "at most "+strconv.Itoa(MaxGroups)+" groups")
		groups = groups[:MaxGroups]
	}
	p.groups = make([]groupProg, len(groups))
	for gi := range groups {
		g := &groups[gi]
		gp := &p.groups[gi]
		gp.or = checkLogic(g.Logic, gi, errs)
		blocks := g.Blocks
		switch {
		case len(blocks) == 0:
			errs.add(groupPath(gi)+".blocks", "must not be empty: a group needs at least one block")
		case len(blocks) > MaxBlocks:
			errs.add(groupPath(gi)+".blocks", "at most "+strconv.Itoa(MaxBlocks)+" blocks per group")
			blocks = blocks[:MaxBlocks]
		}
		gp.conds = make([]cond, 0, len(blocks))
		for bi := range blocks {
			if c, ok := analyzeBlock(&blocks[bi], blockLoc{gi, bi}, errs); ok {
				gp.conds = append(gp.conds, c)
			}
		}
	}
	return p
}

func deviceOpAllowed(f *field, op opCode) bool {
	switch op {
	case opEq, opNe, opIn, opNotIn:
		return true
	case opExists, opNotExists:
		return f.kind == kindText || f.nullable
	case opContains, opPrefix:
		return f.kind == kindText
	case opGt, opGte, opLt, opLte:
		return f.kind != kindText
	}
	return false
}

func deviceOpError(f *field, op opCode) string {
	name := opNames[op]
	switch op {
	case opGt, opGte, opLt, opLte:
		return "op " + name + " needs a numeric device field; " + f.name + " is text"
	case opContains, opPrefix:
		return "op " + name + " needs a text device field; " + f.name + " is numeric"
	case opExists, opNotExists:
		return "op " + name + " is not valid for " + f.name + ", which is always set (use e.g. gt 0)"
	}
	return "op " + name + " is not valid for " + f.name
}

const (
	labelOps = "eq, ne, in, notIn, exists, notExists, contains, prefix"
	taintOps = "eq, ne, exists, notExists"
)

func labelOpAllowed(op opCode) bool {
	return op >= opEq && op <= opPrefix
}

func taintOpAllowed(op opCode) bool {
	return op == opEq || op == opNe || op == opExists || op == opNotExists
}

// analyzeBlock validates one block, reporting errors in field order: type,
// key, op, value.
func analyzeBlock(b *Block, loc blockLoc, errs *FieldErrors) (cond, bool) {
	before := len(*errs)
	c := cond{op: lookupOp(b.Op)}
	opOK := c.op != opNone
	opErr := "" // op known but not valid for the type or field
	// valueOK: the type, field and op are known, so the value can be checked.
	valueOK := false
	switch b.Type {
	case TypeDevice:
		c.typ = btDevice
		c.field = lookupField(b.Key)
		switch {
		case b.Key == "":
			errs.add(loc.path("key"), "required: a device field, one of "+fieldNames())
		case c.field == nil:
			errs.add(loc.path("key"), "unknown device field "+strconv.Quote(b.Key)+"; want one of "+fieldNames())
		case opOK && !deviceOpAllowed(c.field, c.op):
			opErr = deviceOpError(c.field, c.op)
		default:
			valueOK = opOK
		}
	case TypeNodeLabel:
		c.typ, c.key = btLabel, b.Key
		if msg := checkLabelKey(b.Key); msg != "" {
			errs.add(loc.path("key"), msg)
		}
		if opOK && !labelOpAllowed(c.op) {
			opErr = "op " + b.Op + " is not valid for nodeLabel; want one of " + labelOps
		} else {
			valueOK = opOK
		}
	case TypeTaint:
		c.typ, c.key = btTaint, b.Key
		if msg := checkLabelKey(b.Key); msg != "" {
			errs.add(loc.path("key"), strings.Replace(msg, "label key", "taint key", 1))
		}
		if opOK && !taintOpAllowed(c.op) {
			opErr = "op " + b.Op + " is not valid for taint; want one of " + taintOps
		} else {
			valueOK = opOK
		}
	case "":
		errs.add(loc.path("type"), "required: one of device, nodeLabel, taint")
	default:
		errs.add(loc.path("type"), "unknown type "+strconv.Quote(b.Type)+"; want device, nodeLabel or taint")
	}
	switch {
	case b.Op == "":
		errs.add(loc.path("op"), "required: one of "+allOps)
	case !opOK:
		errs.add(loc.path("op"), "unknown op "+strconv.Quote(b.Op)+"; want one of "+allOps)
	case opErr != "":
		errs.add(loc.path("op"), opErr)
	}
	if valueOK {
		analyzeValue(&c, b.Value, loc, errs)
	}
	return c, len(*errs) == before
}

func analyzeValue(c *cond, v string, loc blockLoc, errs *FieldErrors) {
	if len(v) > MaxValueBytes {
		errs.add(loc.path("value"), "at most "+strconv.Itoa(MaxValueBytes)+" bytes")
		return
	}
	switch c.op {
	case opExists, opNotExists:
		if v != "" {
			errs.add(loc.path("value"), "op "+opNames[c.op]+" takes no value")
		}
		return
	case opIn, opNotIn:
		items, msg := splitList(v)
		if msg != "" {
			errs.add(loc.path("value"), msg)
			return
		}
		for i, it := range items {
			if msg := checkOperand(c, it); msg != "" {
				errs.add(loc.path("value"), "item "+strconv.Itoa(i+1)+": "+msg)
			}
		}
		if c.typ == btDevice && c.field.kind != kindText {
			c.nums = make([]int64, len(items))
			for i, it := range items {
				c.nums[i], _ = parseNumber(c.field, it)
			}
			c.nums = dedupe(c.nums)
		} else {
			c.texts = items
		}
		return
	case opContains, opPrefix:
		if v == "" {
			errs.add(loc.path("value"), "must not be empty")
			return
		}
		var msg string
		if c.typ == btLabel {
			msg = checkLabelFragment(v)
		} else {
			msg = checkText(v)
		}
		if msg != "" {
			errs.add(loc.path("value"), msg)
		}
		c.text = v
		return
	}
	// eq, ne, gt, gte, lt, lte
	switch c.typ {
	case btTaint:
		ts, msg := parseTaintValue(v)
		if msg != "" {
			errs.add(loc.path("value"), msg)
		}
		c.taint = ts
	case btDevice:
		if c.field.kind != kindText {
			n, msg := parseNumber(c.field, v)
			if msg != "" {
				errs.add(loc.path("value"), msg)
			}
			c.num = n
			return
		}
		fallthrough
	default:
		if msg := checkOperand(c, v); msg != "" {
			errs.add(loc.path("value"), msg)
		}
		c.text = v
	}
}

// checkOperand checks one eq/ne/in/notIn operand of a device or label block.
func checkOperand(c *cond, v string) string {
	if c.typ == btLabel {
		return checkLabelValue(v)
	}
	if c.field.kind != kindText {
		_, msg := parseNumber(c.field, v)
		return msg
	}
	if msg := checkText(v); msg != "" {
		return msg
	}
	if c.field.enum != nil {
		for _, e := range c.field.enum {
			if v == e {
				return ""
			}
		}
		return "invalid " + c.field.name + " " + strconv.Quote(v) + "; want one of " + strings.Join(c.field.enum, ", ")
	}
	return ""
}

func parseNumber(f *field, v string) (int64, string) {
	if f.kind == kindBytes {
		return parseBytes(v)
	}
	return parseInt(v)
}

// checkText rejects what Postgres text cannot hold, so a valid template never
// fails at query time.
func checkText(v string) string {
	if !utf8.ValidString(v) {
		return "must be valid UTF-8"
	}
	if strings.IndexByte(v, 0) >= 0 {
		return "must not contain NUL characters"
	}
	return ""
}

// splitList splits an in/notIn value on commas, trims spaces around items and
// drops duplicates. Items cannot contain commas (label values never do).
func splitList(v string) ([]string, string) {
	if strings.TrimSpace(v) == "" {
		return nil, "required: a comma-separated list"
	}
	n := strings.Count(v, ",") + 1
	if n > MaxListItems {
		return nil, "at most " + strconv.Itoa(MaxListItems) + " items"
	}
	items := make([]string, 0, n)
	for i, it := range strings.Split(v, ",") {
		it = strings.TrimSpace(it)
		if it == "" {
			return nil, "item " + strconv.Itoa(i+1) + " is empty"
		}
		items = append(items, it)
	}
	return dedupe(items), ""
}

// dedupe drops repeated elements, keeping the first of each, in place.
func dedupe[T comparable](s []T) []T {
	if len(s) <= 16 {
		out := s[:0]
		for _, x := range s {
			dup := false
			for _, y := range out {
				if x == y {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, x)
			}
		}
		return out
	}
	seen := make(map[T]struct{}, len(s))
	out := s[:0]
	for _, x := range s {
		if _, ok := seen[x]; !ok {
			seen[x] = struct{}{}
			out = append(out, x)
		}
	}
	return out
}
