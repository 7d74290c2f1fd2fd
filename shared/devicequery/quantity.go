package devicequery

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// parseInt parses a decimal integer (optional sign, surrounding spaces ignored).
func parseInt(s string) (int64, string) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, "integer out of range: " + strconv.Quote(s)
		}
		return 0, "must be an integer, got " + strconv.Quote(s)
	}
	return n, ""
}

// quantitySuffixes are the Kubernetes binary and decimal SI suffixes that make
// sense for bytes (no milli, no exponent forms).
var quantitySuffixes = []struct {
	suffix string
	factor int64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50}, {"Ei", 1 << 60},
	{"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
}

const quantityHelp = "must be an integer number of bytes or a quantity such as 512Gi, 2Ti, 64G, 1.5Gi (suffixes Ki Mi Gi Ti Pi Ei k M G T P E)"

// parseBytes parses an integer, or a Kubernetes-style quantity
// digits[.digits]suffix whose value is a whole number of bytes that fits int64.
func parseBytes(s string) (int64, string) {
	s = strings.TrimSpace(s)
	num, factor := s, int64(0)
	for _, q := range quantitySuffixes {
		if strings.HasSuffix(s, q.suffix) {
			num, factor = s[:len(s)-len(q.suffix)], q.factor
			break
		}
	}
	if factor == 0 {
		if n, msg := parseInt(s); msg == "" {
			return n, ""
		} else if strings.HasPrefix(msg, "integer out of range") {
			return 0, msg
		}
		return 0, quantityHelp + ", got " + strconv.Quote(s)
	}
	intPart, frac, hasDot := strings.Cut(num, ".")
	if intPart == "" || !allDigits(intPart) || hasDot && (frac == "" || !allDigits(frac)) {
		return 0, quantityHelp + ", got " + strconv.Quote(s)
	}
	if len(intPart) > 20 || len(frac) > 20 {
		return 0, "quantity has too many digits: " + strconv.Quote(s)
	}
	if !hasDot {
		// The common case (512Gi) without big arithmetic.
		n, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil || n > math.MaxInt64/factor {
			return 0, "quantity out of range: " + strconv.Quote(s)
		}
		return n * factor, ""
	}
	// Exact rational arithmetic for fractions (1.5Gi): validation only, never per row.
	v, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return 0, quantityHelp + ", got " + strconv.Quote(s)
	}
	v.Mul(v, big.NewInt(factor))
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	q, r := new(big.Int).QuoRem(v, den, new(big.Int))
	if r.Sign() != 0 {
		return 0, "quantity " + strconv.Quote(s) + " is not a whole number of bytes"
	}
	if !q.IsInt64() {
		return 0, "quantity out of range: " + strconv.Quote(s)
	}
	return q.Int64(), ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
