package devicequery

import (
	"strconv"
	"strings"
)

// Kubernetes naming rules (k8s.io/apimachinery/pkg/util/validation), written
// out by hand so this package stays free of apimachinery and regexps.

const (
	labelNameMax  = 63
	labelValueMax = 63
	dnsPrefixMax  = 253
)

// Taint effects accepted in taint values.
const (
	EffectNoSchedule       = "NoSchedule"
	EffectPreferNoSchedule = "PreferNoSchedule"
	EffectNoExecute        = "NoExecute"
)

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isLabelChar reports the characters allowed inside label names and values.
func isLabelChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.'
}

// checkLabelKey returns "" for a valid label (or taint) key: a qualified name,
// [prefix/]name, with a name of 1-63 characters [A-Za-z0-9][-A-Za-z0-9_.]*
// ending alphanumeric, and an optional DNS-1123 subdomain prefix.
func checkLabelKey(k string) string {
	if k == "" {
		return "required"
	}
	name := k
	if i := strings.IndexByte(k, '/'); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if prefix == "" {
			return "invalid label key " + strconv.Quote(k) + ": the prefix before '/' must not be empty"
		}
		if msg := checkDNSSubdomain(prefix); msg != "" {
			return "invalid label key " + strconv.Quote(k) + ": prefix " + msg
		}
	}
	if name == "" {
		return "invalid label key " + strconv.Quote(k) + ": the name part must not be empty"
	}
	if len(name) > labelNameMax {
		return "invalid label key " + strconv.Quote(k) + ": the name part must be at most 63 characters"
	}
	if !isLabelName(name) {
		return "invalid label key " + strconv.Quote(k) + ": the name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric"
	}
	return ""
}

func isLabelName(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLabelChar(s[i]) {
			return false
		}
	}
	return true
}

func checkDNSSubdomain(s string) string {
	if len(s) > dnsPrefixMax {
		return "must be at most 253 characters"
	}
	for _, part := range strings.Split(s, ".") {
		ok := part != "" && isLowerAlnum(part[0]) && isLowerAlnum(part[len(part)-1])
		for i := 0; ok && i < len(part); i++ {
			ok = isLowerAlnum(part[i]) || part[i] == '-'
		}
		if !ok {
			return "must be a DNS subdomain (lowercase alphanumerics, '-' and '.')"
		}
	}
	return ""
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// checkLabelValue returns "" for a valid label value: empty, or at most 63
// characters [A-Za-z0-9][-A-Za-z0-9_.]* ending alphanumeric.
func checkLabelValue(v string) string {
	if v == "" {
		return ""
	}
	if len(v) > labelValueMax {
		return "invalid label value " + strconv.Quote(v) + ": must be at most 63 characters"
	}
	if !isLabelName(v) {
		return "invalid label value " + strconv.Quote(v) + ": must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric"
	}
	return ""
}

// checkLabelFragment returns "" for a non-empty piece of a label value, the
// operand of contains/prefix.
func checkLabelFragment(v string) string {
	if v == "" {
		return "must not be empty"
	}
	if len(v) > labelValueMax {
		return "must be at most 63 characters (a label value is never longer)"
	}
	for i := 0; i < len(v); i++ {
		if !isLabelChar(v[i]) {
			return "label values only contain alphanumerics, '-', '_' and '.'; " + strconv.Quote(v) + " can never match"
		}
	}
	return ""
}

type taintSpec struct {
	value, effect       string
	hasValue, hasEffect bool
}

// parseTaintValue parses "value:effect" where either part may be omitted:
// "ai", ":NoSchedule", "ai:NoSchedule". An empty string, ":" and "ai:" are errors.
func parseTaintValue(s string) (taintSpec, string) {
	var ts taintSpec
	if s == "" {
		return ts, "required: value:effect with either part optional (e.g. ai, :NoSchedule, ai:NoSchedule); use exists for any taint with the key"
	}
	val, eff, hasColon := strings.Cut(s, ":")
	if val != "" {
		if msg := checkLabelValue(val); msg != "" {
			return ts, "invalid taint value " + strconv.Quote(val) + ": must consist of at most 63 alphanumerics, '-', '_' or '.', and start and end with an alphanumeric"
		}
		ts.value, ts.hasValue = val, true
	}
	if hasColon {
		switch eff {
		case EffectNoSchedule, EffectPreferNoSchedule, EffectNoExecute:
			ts.effect, ts.hasEffect = eff, true
		default:
			return taintSpec{}, "invalid taint effect " + strconv.Quote(eff) + ": want NoSchedule, PreferNoSchedule or NoExecute"
		}
	}
	if !ts.hasValue && !ts.hasEffect {
		return taintSpec{}, "must give a value, an effect or both (value:effect)"
	}
	return ts, ""
}
