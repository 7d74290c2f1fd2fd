package devicequery

import (
	"strconv"
	"strings"
)

// SelectorError locates a problem in a label selector (Pos is a byte offset).
type SelectorError struct {
	Pos int
	Msg string
}

func (e *SelectorError) Error() string {
	return "label selector: at position " + strconv.Itoa(e.Pos) + ": " + e.Msg
}

// SelectorBlocks turns a Kubernetes label selector (a strategy's nodeSelector)
// into nodeLabel blocks, meant to be ANDed (see AllOf). Supported, as in
// k8s.io/apimachinery/pkg/labels: "k=v", "k==v", "k!=v", "k in (a,b)",
// "k notin (a,b)", "k", "!k", joined by commas. The set-based forms need at
// least one value. "k>1"/"k<1" are rejected. An empty or blank selector yields
// no blocks (it selects everything). Errors are *SelectorError.
func SelectorBlocks(selector string) ([]Block, error) {
	if len(selector) > maxSelectorLen {
		return nil, &SelectorError{Pos: 0, Msg: "selector longer than " + strconv.Itoa(maxSelectorLen) + " bytes"}
	}
	lx := lexer{s: selector}
	if lx.peek().kind == tokEOF {
		return nil, nil
	}
	var blocks []Block
	for {
		b, err := lx.requirement()
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, b)
		t := lx.next()
		switch t.kind {
		case tokEOF:
			return blocks, nil
		case tokComma:
			continue
		default:
			return nil, lx.errAt(t, "expected ',' or the end after a requirement, got "+t.describe())
		}
	}
}

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokIdent
	tokNot     // !
	tokEq      // = or ==
	tokNotEq   // !=
	tokOpen    // (
	tokClose   // )
	tokComma   // ,
	tokCompare // > or <, not supported
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "the end"
	case tokIdent:
		return strconv.Quote(t.text)
	}
	return "'" + t.text + "'"
}

type lexer struct {
	s      string
	pos    int
	peeked *token
}

func isSelectorSpecial(c byte) bool {
	switch c {
	case '!', '=', '(', ')', ',', '<', '>', ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

func (l *lexer) peek() token {
	if l.peeked == nil {
		t := l.scan()
		l.peeked = &t
	}
	return *l.peeked
}

func (l *lexer) next() token {
	t := l.peek()
	l.peeked = nil
	return t
}

func (l *lexer) scan() token {
	for l.pos < len(l.s) && strings.IndexByte(" \t\n\r\f\v", l.s[l.pos]) >= 0 {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.s) {
		return token{kind: tokEOF, pos: start}
	}
	two := ""
	if l.pos+1 < len(l.s) {
		two = l.s[l.pos : l.pos+2]
	}
	switch {
	case two == "!=":
		l.pos += 2
		return token{kind: tokNotEq, text: two, pos: start}
	case two == "==":
		l.pos += 2
		return token{kind: tokEq, text: two, pos: start}
	}
	kind := tokIdent
	switch l.s[l.pos] {
	case '!':
		kind = tokNot
	case '=':
		kind = tokEq
	case '(':
		kind = tokOpen
	case ')':
		kind = tokClose
	case ',':
		kind = tokComma
	case '<', '>':
		kind = tokCompare
	}
	if kind != tokIdent {
		l.pos++
		return token{kind: kind, text: l.s[start:l.pos], pos: start}
	}
	for l.pos < len(l.s) && !isSelectorSpecial(l.s[l.pos]) {
		l.pos++
	}
	return token{kind: tokIdent, text: l.s[start:l.pos], pos: start}
}

func (l *lexer) errAt(t token, msg string) error {
	return &SelectorError{Pos: t.pos, Msg: msg}
}

func (l *lexer) key() (string, error) {
	t := l.next()
	if t.kind != tokIdent {
		return "", l.errAt(t, "expected a label key, got "+t.describe())
	}
	if msg := checkLabelKey(t.text); msg != "" {
		return "", l.errAt(t, msg)
	}
	return t.text, nil
}

func (l *lexer) requirement() (Block, error) {
	b := Block{Type: TypeNodeLabel}
	if l.peek().kind == tokNot {
		l.next()
		k, err := l.key()
		if err != nil {
			return Block{}, err
		}
		b.Key, b.Op = k, OpNotExists
		return b, nil
	}
	k, err := l.key()
	if err != nil {
		return Block{}, err
	}
	b.Key = k
	t := l.peek()
	switch {
	case t.kind == tokEOF || t.kind == tokComma:
		b.Op = OpExists
		return b, nil
	case t.kind == tokEq || t.kind == tokNotEq:
		l.next()
		b.Op = OpEq
		if t.kind == tokNotEq {
			b.Op = OpNe
		}
		// "k=" selects the empty value, as in Kubernetes.
		if v := l.peek(); v.kind == tokIdent {
			l.next()
			if msg := checkLabelValue(v.text); msg != "" {
				return Block{}, l.errAt(v, msg)
			}
			b.Value = v.text
		} else if v.kind != tokEOF && v.kind != tokComma {
			return Block{}, l.errAt(v, "expected a label value, got "+v.describe())
		}
		return b, nil
	case t.kind == tokIdent && (t.text == "in" || t.text == "notin"):
		l.next()
		b.Op = OpIn
		if t.text == "notin" {
			b.Op = OpNotIn
		}
		vals, err := l.valueSet()
		if err != nil {
			return Block{}, err
		}
		b.Value = strings.Join(vals, ",")
		return b, nil
	case t.kind == tokCompare:
		return Block{}, l.errAt(t, "operator '"+t.text+"' is not supported; use =, ==, !=, in, notin, k or !k")
	}
	return Block{}, l.errAt(t, "expected =, ==, !=, in, notin, ',' or the end after key "+strconv.Quote(k)+", got "+t.describe())
}

func (l *lexer) valueSet() ([]string, error) {
	if t := l.next(); t.kind != tokOpen {
		return nil, l.errAt(t, "expected '(', got "+t.describe())
	}
	var vals []string
	for {
		t := l.next()
		if t.kind == tokClose && len(vals) == 0 {
			return nil, l.errAt(t, "a set needs at least one value")
		}
		if t.kind != tokIdent {
			return nil, l.errAt(t, "expected a label value, got "+t.describe())
		}
		if msg := checkLabelValue(t.text); msg != "" {
			return nil, l.errAt(t, msg)
		}
		vals = append(vals, t.text)
		if len(vals) > MaxListItems {
			return nil, l.errAt(t, "at most "+strconv.Itoa(MaxListItems)+" values")
		}
		switch sep := l.next(); sep.kind {
		case tokComma:
		case tokClose:
			return vals, nil
		default:
			return nil, l.errAt(sep, "expected ',' or ')', got "+sep.describe())
		}
	}
}
