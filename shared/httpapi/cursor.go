package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// Cursor is a keyset position: the sort key's value and the id of the last row
// of a page, plus the sort it belongs to so a cursor is never reused across sorts.
type Cursor struct {
	Sort  string `json:"s"`
	Value any    `json:"v"`
	ID    int64  `json:"i"`
}

// Encode makes an opaque cursor.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made for sort; empty means the first page.
func DecodeCursor(s, sort string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, Invalid("bad cursor", &FieldError{Location: "query.cursor", Message: "not a cursor returned by this API", Value: s})
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort {
		return nil, Invalid("bad cursor", &FieldError{Location: "query.cursor", Message: "cursor does not belong to this sort order", Value: s})
	}
	return &c, nil
}

// Sort is a parsed ?sort= value: a whitelisted field, optionally prefixed by "-" for descending.
type Sort struct {
	Key    string // the API name, e.g. createdAt
	Column string // the SQL column
	Desc   bool
}

// ParseSort resolves raw against the whitelist (API name → column). Empty → def.
func ParseSort(raw, def string, allowed map[string]string) (Sort, error) {
	if raw == "" {
		raw = def
	}
	desc := strings.HasPrefix(raw, "-")
	key := strings.TrimPrefix(raw, "-")
	col, ok := allowed[key]
	if !ok {
		names := make([]string, 0, len(allowed))
		for k := range allowed {
			names = append(names, k)
		}
		return Sort{}, huma.Error422UnprocessableEntity("bad sort", &FieldError{
			Location: "query.sort", Value: raw,
			Message: fmt.Sprintf("sort by one of %s, prefixed with - for descending", strings.Join(sortStrings(names), ", ")),
		})
	}
	return Sort{Key: key, Column: col, Desc: desc}, nil
}

// String is the sort as written in the query.
func (s Sort) String() string {
	if s.Desc {
		return "-" + s.Key
	}
	return s.Key
}

// Keyset returns the SQL condition that continues after cursor c and the
// ORDER BY clause, numbering parameters from next. Column names come only
// from the whitelist; values are parameters.
func (s Sort) Keyset(c *Cursor, next int) (cond string, args []any, orderBy string) {
	dir, cmp := "ASC", ">"
	if s.Desc {
		dir, cmp = "DESC", "<"
	}
	orderBy = fmt.Sprintf("ORDER BY %s %s, id %s", s.Column, dir, dir)
	if c == nil {
		return "TRUE", nil, orderBy
	}
	if s.Column == "id" {
		return fmt.Sprintf("id %s $%d", cmp, next), []any{c.ID}, orderBy
	}
	return fmt.Sprintf("(%s, id) %s ($%d, $%d)", s.Column, cmp, next, next+1), []any{c.Value, c.ID}, orderBy
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
