package devicequery

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Alias is the name the compiled predicate gives the devices table:
// FROM devices d WHERE <predicate>.
const Alias = "d"

// Compile validates t (as Validate does) and compiles it to one SQL predicate
// over devices d, with placeholders $argStart, $argStart+1, … bound to args
// in order. Keys and values only ever travel in args; the SQL text holds
// nothing but whitelisted columns, operators and placeholders. Every compiled
// predicate is two-valued (never NULL), so it can be negated safely.
//
// Argument types: string (text, jsonb as JSON text, LIKE patterns), int64,
// []string (text[] and jsonb[]), []int64 — all plain pgx v5 encodings.
// An invalid template returns FieldErrors.
func Compile(t Template, argStart int) (sql string, args []any, err error) {
	if argStart < 1 || argStart > maxParams {
		return "", nil, errArgStart
	}
	var errs FieldErrors
	p := analyze(t, &errs)
	if len(errs) > 0 {
		return "", nil, errs
	}
	c := newCompiler(argStart, p.conds())
	c.program(&p)
	return c.result()
}

// CompileAll compiles the AND of templates, e.g. a stored template and the
// extra conditions of AllOf, numbering placeholders from argStart across all
// of them. Each template must be valid; error paths are prefixed with
// templates[i]. At least one template is required.
func CompileAll(argStart int, templates ...Template) (sql string, args []any, err error) {
	if argStart < 1 || argStart > maxParams {
		return "", nil, errArgStart
	}
	if len(templates) == 0 {
		return "", nil, errors.New("devicequery: CompileAll needs at least one template")
	}
	progs := make([]program, len(templates))
	var all FieldErrors
	for i := range templates {
		var errs FieldErrors
		progs[i] = analyze(templates[i], &errs)
		all = append(all, errs.WithPrefix("templates["+strconv.Itoa(i)+"]")...)
	}
	if len(all) > 0 {
		return "", nil, all
	}
	n := 0
	for i := range progs {
		n += progs[i].conds()
	}
	c := newCompiler(argStart, n)
	if len(progs) > 1 {
		c.b.WriteByte('(')
	}
	for i := range progs {
		if i > 0 {
			c.b.WriteString(" AND ")
		}
		c.program(&progs[i])
	}
	if len(progs) > 1 {
		c.b.WriteByte(')')
	}
	return c.result()
}

// maxParams is the most parameters one Postgres statement can bind.
const maxParams = 65535

var errArgStart = errors.New("devicequery: argStart must be between 1 and 65535")

func (c *compiler) result() (string, []any, error) {
	if c.next-1 > maxParams {
		return "", nil, errors.New("devicequery: more than 65535 query parameters")
	}
	return c.b.String(), c.args, nil
}

type compiler struct {
	b    strings.Builder
	args []any
	next int
}

// newCompiler sizes the buffers for n conditions (about one argument and
// 40 bytes of SQL each) so building rarely reallocates.
func newCompiler(argStart, n int) *compiler {
	c := &compiler{next: argStart, args: make([]any, 0, n+n/4)}
	c.b.Grow(16 + 40*n)
	return c
}

func (p *program) conds() int {
	n := 0
	for i := range p.groups {
		n += len(p.groups[i].conds)
	}
	return n
}

// param binds v to the next placeholder and writes "$n::typ".
func (c *compiler) param(v any, typ string) {
	c.args = append(c.args, v)
	c.b.WriteByte('$')
	c.b.WriteString(strconv.Itoa(c.next))
	c.next++
	c.b.WriteString("::")
	c.b.WriteString(typ)
}

// paramRef writes a placeholder already bound, for a parameter used twice.
func (c *compiler) paramRef(n int, typ string) {
	c.b.WriteByte('$')
	c.b.WriteString(strconv.Itoa(n))
	c.b.WriteString("::")
	c.b.WriteString(typ)
}

func (c *compiler) program(p *program) {
	sep := " AND "
	if p.or {
		sep = " OR "
	}
	c.b.WriteByte('(')
	for i := range p.groups {
		if i > 0 {
			c.b.WriteString(sep)
		}
		c.group(&p.groups[i])
	}
	c.b.WriteByte(')')
}

// group needs parentheses only around several conditions: each compiled
// condition is an atom for AND/OR (comparisons bind tighter, NOT forms and
// compound forms are parenthesized).
func (c *compiler) group(g *groupProg) {
	if len(g.conds) == 1 {
		c.cond(&g.conds[0])
		return
	}
	sep := " AND "
	if g.or {
		sep = " OR "
	}
	c.b.WriteByte('(')
	for i := range g.conds {
		if i > 0 {
			c.b.WriteString(sep)
		}
		c.cond(&g.conds[i])
	}
	c.b.WriteByte(')')
}

var cmpOps = [...]string{opEq: " = ", opNe: " <> ", opGt: " > ", opGte: " >= ", opLt: " < ", opLte: " <= "}

func (c *compiler) cond(x *cond) {
	switch x.typ {
	case btDevice:
		c.device(x)
	case btLabel:
		c.label(x)
	case btTaint:
		c.taint(x)
	}
}

func (c *compiler) column(f *field) {
	c.b.WriteString("d.")
	c.b.WriteString(f.column)
}

func (c *compiler) device(x *cond) {
	f := x.field
	if f.kind == kindText {
		// Text columns are NOT NULL, so every form below is two-valued.
		c.column(f)
		switch x.op {
		case opEq, opNe:
			c.b.WriteString(cmpOps[x.op])
			c.param(x.text, "text")
		case opIn:
			c.b.WriteString(" = ANY(")
			c.param(x.texts, "text[]")
			c.b.WriteByte(')')
		case opNotIn:
			c.b.WriteString(" <> ALL(")
			c.param(x.texts, "text[]")
			c.b.WriteByte(')')
		case opExists:
			c.b.WriteString(" <> ''")
		case opNotExists:
			c.b.WriteString(" = ''")
		case opContains:
			c.b.WriteString(" LIKE ")
			c.param("%"+escapeLike(x.text)+"%", "text")
		case opPrefix:
			c.b.WriteString(" LIKE ")
			c.param(escapeLike(x.text)+"%", "text")
		}
		return
	}
	switch x.op {
	case opExists:
		c.column(f)
		c.b.WriteString(" IS NOT NULL")
		return
	case opNotExists:
		c.column(f)
		c.b.WriteString(" IS NULL")
		return
	}
	// An absent (NULL) value compares false, ne and notIn included.
	if f.nullable {
		c.b.WriteByte('(')
		c.column(f)
		c.b.WriteString(" IS NOT NULL AND ")
	}
	c.column(f)
	switch x.op {
	case opIn:
		c.b.WriteString(" = ANY(")
		c.param(x.nums, "bigint[]")
		c.b.WriteByte(')')
	case opNotIn:
		c.b.WriteString(" <> ALL(")
		c.param(x.nums, "bigint[]")
		c.b.WriteByte(')')
	default:
		// ::bigint so an operand beyond int4 compares with an integer column
		// instead of failing to encode.
		c.b.WriteString(cmpOps[x.op])
		c.param(x.num, "bigint")
	}
	if f.nullable {
		c.b.WriteByte(')')
	}
}

// label compiles to the operators the jsonb_ops GIN index on labels serves:
// @> (also through = ANY of a jsonb[]) and ?. Negations follow Kubernetes
// selectors: a device without the label matches ne and notIn.
func (c *compiler) label(x *cond) {
	switch x.op {
	case opEq:
		c.b.WriteString("d.labels @> ")
		c.param(labelJSON(x.key, x.text), "jsonb")
	case opNe:
		c.b.WriteString("NOT (d.labels @> ")
		c.param(labelJSON(x.key, x.text), "jsonb")
		c.b.WriteByte(')')
	case opIn, opNotIn:
		objs := make([]string, len(x.texts))
		for i, v := range x.texts {
			objs[i] = labelJSON(x.key, v)
		}
		if x.op == opNotIn {
			c.b.WriteString("NOT (d.labels @> ANY(")
			c.param(objs, "jsonb[]")
			c.b.WriteString("))")
		} else {
			c.b.WriteString("d.labels @> ANY(")
			c.param(objs, "jsonb[]")
			c.b.WriteByte(')')
		}
	case opExists:
		c.b.WriteString("d.labels ? ")
		c.param(x.key, "text")
	case opNotExists:
		c.b.WriteString("NOT (d.labels ? ")
		c.param(x.key, "text")
		c.b.WriteByte(')')
	case opContains, opPrefix:
		// The ? lets the GIN narrow a rare key; COALESCE keeps a JSON null value two-valued.
		pattern := escapeLike(x.text) + "%"
		if x.op == opContains {
			pattern = "%" + pattern
		}
		keyArg := c.next
		c.b.WriteString("(d.labels ? ")
		c.param(x.key, "text")
		c.b.WriteString(" AND COALESCE(d.labels ->> ")
		c.paramRef(keyArg, "text")
		c.b.WriteString(", '') LIKE ")
		c.param(pattern, "text")
		c.b.WriteByte(')')
	}
}

// taint compiles to @> on the taints array, which the jsonb_ops GIN serves.
func (c *compiler) taint(x *cond) {
	spec := x.taint
	if x.op == opExists || x.op == opNotExists {
		spec = taintSpec{} // any taint with the key
	}
	if x.op == opNe || x.op == opNotExists {
		c.b.WriteString("NOT (d.taints @> ")
		c.param(taintJSON(x.key, spec), "jsonb")
		c.b.WriteByte(')')
		return
	}
	c.b.WriteString("d.taints @> ")
	c.param(taintJSON(x.key, spec), "jsonb")
}

// escapeLike escapes LIKE's wildcards with backslash, LIKE's default escape
// character, so the operand matches literally.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '%', '_':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func labelJSON(key, value string) string {
	b := make([]byte, 0, len(key)+len(value)+8)
	b = append(b, '{')
	b = appendJSONString(b, key)
	b = append(b, ':')
	b = appendJSONString(b, value)
	b = append(b, '}')
	return string(b)
}

// taintJSON builds [{"key":…,"value":…,"effect":…}] with only the given parts,
// so an omitted part matches any value.
func taintJSON(key string, ts taintSpec) string {
	b := make([]byte, 0, len(key)+len(ts.value)+len(ts.effect)+40)
	b = append(b, `[{"key":`...)
	b = appendJSONString(b, key)
	if ts.hasValue {
		b = append(b, `,"value":`...)
		b = appendJSONString(b, ts.value)
	}
	if ts.hasEffect {
		b = append(b, `,"effect":`...)
		b = appendJSONString(b, ts.effect)
	}
	b = append(b, "}]"...)
	return string(b)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Validation already limits keys
// and values to ASCII label characters; escaping is complete all the same.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
