package devicequery

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseCompile checks, for any input: no panic; Parse, Validate and Compile
// agree; the SQL text is made of the fixed vocabulary only and does not change
// when every key and value is replaced (so no user text is spliced into it);
// placeholders are exactly $argStart…$argStart+len(args)-1 with args of the
// type their cast says. The seed corpus is in testdata/fuzz/FuzzParseCompile.
func FuzzParseCompile(f *testing.F) {
	f.Add([]byte(designExample))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmpl, err := Parse(data)
		if err != nil {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("Parse error %v is not a non-empty FieldErrors", err)
			}
			return
		}
		errs := Validate(tmpl)
		argStart := 1 + len(data)%7
		sql, args, err := Compile(tmpl, argStart)
		matched := Match(tmpl, fuzzDevice) // must not panic
		if len(errs) > 0 {
			if err == nil {
				t.Fatalf("Validate reported %v but Compile succeeded: %s", errs, sql)
			}
			if matched {
				t.Fatalf("an invalid template matched")
			}
			for _, e := range errs {
				if e.Path == "" || e.Message == "" {
					t.Fatalf("error without path or message: %+v", e)
				}
			}
			return
		}
		if err != nil {
			t.Fatalf("Validate passed but Compile failed: %v", err)
		}
		if err := checkVocabulary(sql); err != nil {
			t.Fatalf("%v in %s", err, sql)
		}
		checkPlaceholders(t, sql, args, argStart)
		skeleton, skArgs, err := Compile(replaceUserText(tmpl), argStart)
		if err != nil {
			t.Fatalf("skeleton of a valid template does not compile: %v", err)
		}
		if skeleton != sql || len(skArgs) != len(args) {
			t.Fatalf("SQL depends on keys or values:\n%s\n%s", sql, skeleton)
		}
	})
}

// FuzzSelectorBlocks checks that any selector either fails with a
// *SelectorError or yields blocks that validate and compile.
func FuzzSelectorBlocks(f *testing.F) {
	for _, s := range []string{"", "a=b", "a==b,c!=d", "x in (a,b), y notin (c)", "gpu,!maint", "a>1", "a in ()", "k=", "example.com/k = v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		blocks, err := SelectorBlocks(s)
		if err != nil {
			var se *SelectorError
			if !errors.As(err, &se) || se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("error %v is not a *SelectorError inside the input", err)
			}
			return
		}
		if len(blocks) == 0 {
			return
		}
		if errs := Validate(AllOf(blocks...)); len(errs) > 0 {
			t.Fatalf("SelectorBlocks(%q) = %+v which does not validate: %v", s, blocks, errs)
		}
	})
}

var fuzzDevice = func() Device {
	c, p := int64(1), int64(2)
	return Device{Hostname: "h1", Status: "in_pool", CPUCores: 64, MemoryBytes: 512 << 30, ClusterID: &c, PoolID: &p,
		Labels: map[string]string{"gpu": "a100", "pool": "general"},
		Taints: []Taint{{Key: "dedicated", Value: "ai", Effect: "NoSchedule"}}}
}()

// replaceUserText returns t with every key and value replaced by a fixed valid
// one (device field names stay: they select the column), so its SQL must be
// the same as t's.
func replaceUserText(t Template) Template {
	out := Template{Logic: t.Logic, Groups: make([]Group, len(t.Groups))}
	for gi, g := range t.Groups {
		out.Groups[gi] = Group{Logic: g.Logic, Blocks: make([]Block, len(g.Blocks))}
		for bi, b := range g.Blocks {
			nb := b
			if b.Type != TypeDevice {
				nb.Key = "k" + strconv.Itoa(bi)
			}
			if b.Value != "" {
				switch {
				case b.Type == TypeTaint:
					nb.Value = "v:NoExecute"
				case b.Type == TypeDevice && lookupField(b.Key).kind != kindText:
					nb.Value = "1"
				case b.Type == TypeDevice && b.Key == "status":
					nb.Value = "retired"
				default:
					nb.Value = "v"
				}
			}
			out.Groups[gi].Blocks[bi] = nb
		}
	}
	return out
}

var (
	sqlKeywords = map[string]bool{"AND": true, "OR": true, "NOT": true, "ANY": true, "ALL": true, "LIKE": true, "IS": true, "NULL": true, "COALESCE": true}
	sqlCasts    = map[string]bool{"text": true, "bigint": true, "jsonb": true, "text[]": true, "bigint[]": true, "jsonb[]": true}
	sqlOps      = []string{"->>", "<>", ">=", "<=", "@>", "=", ">", "<", "?"}
)

// checkVocabulary tokenizes sql and fails on anything that is not a fixed
// keyword, operator, whitelisted column, placeholder with cast, parenthesis,
// comma or the empty string literal.
func checkVocabulary(sql string) error {
	columns := map[string]bool{"labels": true, "taints": true}
	for i := range fields {
		columns[fields[i].column] = true
	}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '(' || c == ')' || c == ',':
			i++
		case strings.HasPrefix(sql[i:], "''"):
			i += 2
		case c == '$':
			j := i + 1
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if j == i+1 || !strings.HasPrefix(sql[j:], "::") {
				return fmt.Errorf("placeholder without a cast at %d", i)
			}
			k := j + 2
			for k < len(sql) && (sql[k] >= 'a' && sql[k] <= 'z' || sql[k] == '[' || sql[k] == ']') {
				k++
			}
			if !sqlCasts[sql[j+2:k]] {
				return fmt.Errorf("unexpected cast %q", sql[j+2:k])
			}
			i = k
		case strings.HasPrefix(sql[i:], "d."):
			j := i + 2
			for j < len(sql) && (sql[j] >= 'a' && sql[j] <= 'z' || sql[j] == '_') {
				j++
			}
			if !columns[sql[i+2:j]] {
				return fmt.Errorf("unexpected column %q", sql[i:j])
			}
			i = j
		case c >= 'A' && c <= 'Z':
			j := i
			for j < len(sql) && sql[j] >= 'A' && sql[j] <= 'Z' {
				j++
			}
			if !sqlKeywords[sql[i:j]] {
				return fmt.Errorf("unexpected word %q", sql[i:j])
			}
			i = j
		default:
			found := false
			for _, op := range sqlOps {
				if strings.HasPrefix(sql[i:], op) {
					i += len(op)
					found = true
					break
				}
			}
			if !found {
				return fmt.Errorf("unexpected text at %d: %q", i, sql[i:])
			}
		}
	}
	return nil
}

// checkPlaceholders checks that the placeholders used are exactly
// $start…$start+len(args)-1 and that each argument has its cast's Go type.
func checkPlaceholders(t *testing.T, sql string, args []any, start int) {
	t.Helper()
	casts := map[int]string{}
	for i := 0; i < len(sql); i++ {
		if sql[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(sql[i+1 : j])
		if err != nil {
			t.Fatalf("bad placeholder at %d in %s", i, sql)
		}
		k := j + 2
		for k < len(sql) && (sql[k] >= 'a' && sql[k] <= 'z' || sql[k] == '[' || sql[k] == ']') {
			k++
		}
		cast := sql[j+2 : k]
		if prev, ok := casts[n]; ok && prev != cast {
			t.Fatalf("$%d cast both %s and %s", n, prev, cast)
		}
		casts[n] = cast
	}
	if len(casts) != len(args) {
		t.Fatalf("%d distinct placeholders, %d args: %s %v", len(casts), len(args), sql, args)
	}
	for i, a := range args {
		n := start + i
		cast, ok := casts[n]
		if !ok {
			t.Fatalf("arg %d ($%d) unused in %s", i, n, sql)
		}
		var typeOK bool
		switch cast {
		case "text":
			_, typeOK = a.(string)
		case "bigint":
			_, typeOK = a.(int64)
		case "jsonb":
			s, isString := a.(string)
			typeOK = isString && json.Valid([]byte(s))
		case "text[]":
			s, isSlice := a.([]string)
			typeOK = isSlice && len(s) > 0
		case "jsonb[]":
			s, isSlice := a.([]string)
			typeOK = isSlice && len(s) > 0
			for _, x := range s {
				typeOK = typeOK && json.Valid([]byte(x))
			}
		case "bigint[]":
			s, isSlice := a.([]int64)
			typeOK = isSlice && len(s) > 0
		}
		if !typeOK {
			t.Fatalf("$%d::%s bound to %T %v", n, cast, a, a)
		}
	}
}

// assertNoUserText checks that sql is fixed vocabulary and equal to the SQL of
// skeleton (the same template with a harmless value), so nothing of the user's
// value s is in it (s may still coincide with vocabulary, like "$1").
func assertNoUserText(t *testing.T, sql, s string, skeleton Template) {
	t.Helper()
	if err := checkVocabulary(sql); err != nil {
		t.Fatalf("%v in %s", err, sql)
	}
	want, _, err := Compile(skeleton, 1)
	if err != nil {
		t.Fatal(err)
	}
	if sql != want {
		t.Fatalf("SQL depends on the value:\n%s\n%s", sql, want)
	}
	if strings.ContainsAny(s, `'";`) && strings.Contains(sql, s) {
		t.Fatalf("user text %q appears in SQL %s", s, sql)
	}
}
