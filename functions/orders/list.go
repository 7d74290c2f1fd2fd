package orders

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// where builds a parameterized WHERE clause: conditions are SQL written here,
// values only ever travel as parameters.
type where struct {
	conds []string
	args  []any
}

func newWhere() *where { return &where{} }

// arg adds a parameter and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return fmt.Sprintf("$%d", len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// listPage runs selectSQL (no WHERE/ORDER) with the filters, the keyset
// condition and limit+1 rows, and returns a page plus the next cursor.
func listPage[T any](ctx context.Context, q postgres.Querier, selectSQL string, w *where, s httpapi.Sort,
	cur *httpapi.Cursor, limit int, scan func(pgx.Row) (T, error), cursorOf func(T) httpapi.Cursor) ([]T, string, error) {
	if limit <= 0 {
		limit = 50
	}
	cond, kargs, orderBy := s.Keyset(cur, len(w.args)+1)
	if cond != "TRUE" {
		w.add(cond)
		w.args = append(w.args, kargs...)
	}
	sql := fmt.Sprintf("%s%s %s LIMIT %d", selectSQL, w.sql(), orderBy, limit+1)
	rows, err := q.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, "", postgres.Translate(err)
	}
	defer rows.Close()
	items := make([]T, 0, limit)
	for rows.Next() {
		it, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, "", postgres.Translate(err)
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = cursorOf(items[limit-1]).Encode()
	}
	return items, next, nil
}

// escapeLike escapes LIKE wildcards so user text matches literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
