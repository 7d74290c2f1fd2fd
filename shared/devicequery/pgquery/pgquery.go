// Package pgquery runs compiled device queries (package devicequery) on
// Postgres. The REST API (preview and list) and the matching pipeline both
// go through it, so they run the same SQL in the same way:
//
//	p, err := pgquery.Compile(stored, devicequery.AllOf(idle, sameIDC))
//	cs, err := pgquery.Candidates(ctx, db, p.And(pgquery.NotHeld), "", 1000)
//	n, err := pgquery.CountMatches(ctx, db, p, pgquery.CountOptions{})
//
// Queries are sent with pgx's QueryExecModeExec: an unnamed statement,
// planned with the actual parameter values every time. A cached prepared
// statement switches to a generic plan after five executions, and a generic
// plan can neither see how selective a label value is nor use the partial
// index devices_idle_match, which needs the literal 'idle' (measured 10× slower
// on the 10-condition template; docs/benchmarks.md). Callers that build
// their own statement around a predicate run it with Query for the same reason.
//
// CountMatches is the count a live preview can afford: the planner's
// estimate for broad conditions, otherwise a count that stops at a cap,
// within a time budget; the result says which (exact, capped, estimated).
package pgquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// Predicate is a compiled device query: SQL over devices d (alias
// devicequery.Alias) with placeholders $1…$len(Args).
type Predicate struct {
	SQL  string
	Args []any
}

// Compile ANDs templates (e.g. a stored template and the extra conditions of
// devicequery.AllOf) into one predicate. Each must be valid; the error is
// devicequery.FieldErrors with paths prefixed templates[i].
func Compile(templates ...devicequery.Template) (Predicate, error) {
	sql, args, err := devicequery.CompileAll(1, templates...)
	if err != nil {
		return Predicate{}, err
	}
	return Predicate{SQL: sql, Args: args}, nil
}

// Next is the number of the next free placeholder, for a condition passed to And.
func (p Predicate) Next() int { return len(p.Args) + 1 }

// And returns p AND cond. cond is SQL written by the caller (never user
// text) over devices d, numbering its placeholders from p.Next().
func (p Predicate) And(cond string, args ...any) Predicate {
	all := make([]any, 0, len(p.Args)+len(args))
	all = append(append(all, p.Args...), args...)
	return Predicate{SQL: p.SQL + " AND (" + cond + ")", Args: all}
}

// NotHeld keeps devices that no open order holds (order_devices.active, the
// rule behind order_devices_one_open_order): the pipeline must not offer
// them to a second order. Use it with And.
const NotHeld = "NOT EXISTS (SELECT 1 FROM order_devices od WHERE od.device_id = d.id AND od.active)"

// execMode is how every query of this package is sent (see the package doc).
var execMode any = pgx.QueryExecModeExec

func withMode(args []any) []any {
	out := make([]any, 0, len(args)+1)
	return append(append(out, execMode), args...)
}

// SelectSQL is "SELECT columns FROM devices d WHERE p.SQL orderBy LIMIT limit";
// limit ≤ 0 means no LIMIT. The limit is written as a literal: a LIMIT
// parameter hides the row goal from the planner.
func SelectSQL(columns string, p Predicate, orderBy string, limit int) string {
	var b strings.Builder
	b.Grow(len(columns) + len(p.SQL) + len(orderBy) + 48)
	b.WriteString("SELECT ")
	b.WriteString(columns)
	b.WriteString(" FROM devices ")
	b.WriteString(devicequery.Alias)
	b.WriteString(" WHERE ")
	b.WriteString(p.SQL)
	if orderBy != "" {
		b.WriteByte(' ')
		b.WriteString(orderBy)
	}
	if limit > 0 {
		b.WriteString(" LIMIT ")
		b.WriteString(strconv.Itoa(limit))
	}
	return b.String()
}

// Select runs SelectSQL. columns and orderBy are SQL written by the caller.
func Select(ctx context.Context, db postgres.Querier, columns string, p Predicate, orderBy string, limit int) (pgx.Rows, error) {
	return Query(ctx, db, SelectSQL(columns, p, orderBy, limit), p.Args...)
}

// Query runs sql, a statement built around a predicate (e.g. SelectSQL in a
// subquery), with args the way this package runs its own statements.
func Query(ctx context.Context, db postgres.Querier, sql string, args ...any) (pgx.Rows, error) {
	rows, err := db.Query(ctx, sql, withMode(args)...)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	return rows, nil
}

// IDs returns the ids of matching devices.
func IDs(ctx context.Context, db postgres.Querier, p Predicate, orderBy string, limit int) ([]int64, error) {
	rows, err := Select(ctx, db, "d.id", p, orderBy, limit)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, postgres.Translate(err)
}

// CandidateColumns are the columns Candidates scans, in scaling.Candidate order.
const CandidateColumns = "d.id, d.hostname, d.cpu_cores, d.memory_bytes, d.node_cpu_allocated, d.node_mem_allocated"

// Candidates returns matching devices as the pipeline's selection wants them.
func Candidates(ctx context.Context, db postgres.Querier, p Predicate, orderBy string, limit int) ([]scaling.Candidate, error) {
	rows, err := Select(ctx, db, CandidateColumns, p, orderBy, limit)
	if err != nil {
		return nil, err
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (scaling.Candidate, error) {
		var c scaling.Candidate
		err := r.Scan(&c.ID, &c.Hostname, &c.CPUCores, &c.MemoryBytes, &c.NodeCPUAllocated, &c.NodeMemAllocated)
		return c, err
	})
	return cs, postgres.Translate(err)
}

// CountKind says how a Count was obtained.
type CountKind string

// Count kinds.
const (
	// Exact: N is the number of matching devices.
	Exact CountKind = "exact"
	// Capped: at least N (= the cap) devices match; the count stopped there ("10,000+").
	Capped CountKind = "capped"
	// Estimated: the capped count did not finish within its budget; N is the
	// planner's estimate of the matching rows.
	Estimated CountKind = "estimated"
)

// Count is how many devices match.
type Count struct {
	N    int64
	Kind CountKind
	// SampleIDs are up to CountOptions.Sample matching device ids, in no
	// particular order (the first rows the scan found).
	SampleIDs []int64
}

// Defaults of CountOptions, measured in docs/benchmarks.md. Counting to
// 10,001 through a broad condition takes 30-50 ms of CPU on 1M devices even
// on an idle server (a frequent GIN key, or a scan that must pass 100k rows),
// so a broad condition is answered from the planner's estimate at once; the
// count runs for the others, and the budget stops the rare slow one (a
// selective condition that no index serves).
const (
	DefaultCap    = 10000
	DefaultBudget = 30 * time.Millisecond
	// MaxSample bounds CountOptions.Sample.
	MaxSample = 1000
)

// CountOptions bound the cost of CountMatches.
type CountOptions struct {
	// Cap: the count stops after Cap matches (≤ 0: DefaultCap).
	Cap int64
	// EstimateAbove: when the planner expects more matches than this, the
	// estimate is the answer and nothing is counted (0: 2 × Cap; a negative
	// value always counts).
	EstimateAbove int64
	// Budget: how long the capped count may run before the planner's
	// estimate is used instead (≤ 0: DefaultBudget).
	Budget time.Duration
	// Sample: also return this many matching ids (0: none; at most MaxSample).
	Sample int
}

// Conn is what CountMatches needs: a pool, a connection or a transaction
// (whose Begin makes a savepoint).
type Conn interface {
	postgres.Querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

// CountMatches says how many devices match p, cheaply enough for a live
// preview, and how it knows: the planner's estimate when that is well above
// the cap; otherwise a count that stops at the cap (exact or capped), run
// within a time budget after which the estimate answers after all. The
// sample comes from the counting scan, or from a LIMIT query (itself
// budgeted) when nothing was counted. Budgeted statements run in their own
// (sub)transaction, so the statement_timeout never outlives them.
func CountMatches(ctx context.Context, db Conn, p Predicate, opt CountOptions) (Count, error) {
	if opt.Cap <= 0 {
		opt.Cap = DefaultCap
	}
	if opt.EstimateAbove == 0 {
		opt.EstimateAbove = 2 * opt.Cap
	}
	if opt.Budget <= 0 {
		opt.Budget = DefaultBudget
	}
	opt.Sample = min(max(opt.Sample, 0), MaxSample)
	est, err := Estimate(ctx, db, p)
	if err != nil {
		return Count{}, err
	}
	if opt.EstimateAbove < 0 || est <= opt.EstimateAbove {
		sql := "SELECT count(*), (array_agg(id))[1:" + strconv.Itoa(opt.Sample) + "] FROM (" +
			SelectSQL("d.id", p, "", int(opt.Cap)+1) + ") s"
		var c Count
		err := budgeted(ctx, db, opt.Budget, sql, p.Args, func(scan func(...any) error) error {
			return scan(&c.N, &c.SampleIDs)
		})
		switch {
		case err == nil:
			c.Kind = Exact
			if c.N > opt.Cap {
				c.N, c.Kind = opt.Cap, Capped
			}
			if c.SampleIDs == nil {
				c.SampleIDs = []int64{}
			}
			return c, nil
		case !isTimeout(ctx, err):
			return Count{}, err
		}
	}
	c := Count{N: est, Kind: Estimated, SampleIDs: []int64{}}
	if opt.Sample > 0 {
		// A plain LIMIT stops at the first matches: cheap for a broad
		// condition. A quarter of the budget; no sample if it runs out.
		var ids []int64
		err := budgeted(ctx, db, opt.Budget/4, SelectSQL("d.id", p, "", opt.Sample), p.Args, func(scan func(...any) error) error {
			var id int64
			err := scan(&id)
			ids = append(ids, id)
			return err
		})
		switch {
		case err == nil:
			c.SampleIDs = ids
		case !isTimeout(ctx, err):
			return Count{}, err
		}
	}
	return c, nil
}

// budgetSettings are local to the transaction that runs a budgeted query.
// No JIT and no parallel workers: compiling a plan whose cost crosses
// jit_above_cost, or starting workers and then waiting for them to notice
// the cancel (measured: 70-130 ms for a 30 ms timeout), takes longer than
// the budget. ms is an integer formatted here, never user text.
func budgetSettings(budget time.Duration) string {
	ms := strconv.FormatInt(max(budget.Milliseconds(), 1), 10)
	return "SELECT set_config('statement_timeout', '" + ms + "', true), set_config('jit', 'off', true), " +
		"set_config('max_parallel_workers_per_gather', '0', true)"
}

// budgeted runs sql, which may run for budget, and hands each row to row.
//
// On a pool or a connection it is one round trip: the settings and the
// query are pipelined before a single Sync, so both run in one implicit
// transaction that ends at the Sync and takes the settings with it. Inside
// a caller's transaction it uses a savepoint instead (three more round
// trips), rolled back at the end, which ends the settings too.
func budgeted(ctx context.Context, db Conn, budget time.Duration, sql string, args []any, row func(scan func(...any) error) error) error {
	switch c := db.(type) {
	case *pgxpool.Pool:
		conn, err := c.Acquire(ctx)
		if err != nil {
			return postgres.Translate(err)
		}
		defer conn.Release()
		return pipelined(ctx, conn.Conn(), budget, sql, args, row)
	case *pgxpool.Conn:
		return pipelined(ctx, c.Conn(), budget, sql, args, row)
	case *pgx.Conn:
		return pipelined(ctx, c, budget, sql, args, row)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return postgres.Translate(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only; rollback is the way out
	if _, err := tx.Exec(ctx, budgetSettings(budget)); err != nil {
		return postgres.Translate(err)
	}
	rows, err := tx.Query(ctx, sql, withMode(args)...)
	if err != nil {
		return postgres.Translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return postgres.Translate(rows.Err())
}

// pipelined is budgeted on an idle connection outside a transaction.
// Parameters are encoded as pgx's QueryExecModeExec does (text, types
// from the $n::type casts), so the statement is planned with its values.
func pipelined(ctx context.Context, c *pgx.Conn, budget time.Duration, sql string, args []any, row func(scan func(...any) error) error) error {
	var eqb pgx.ExtendedQueryBuilder
	if err := eqb.Build(c.TypeMap(), nil, args); err != nil {
		return err
	}
	pl := c.PgConn().StartPipeline(ctx)
	pl.SendQueryParams(budgetSettings(budget), nil, nil, nil, nil)
	pl.SendQueryParams(sql, eqb.ParamValues, nil, eqb.ParamFormats, eqb.ResultFormats)
	if err := pl.Sync(); err != nil {
		pl.Close()
		return err
	}
	var results []*pgconn.Result
	for {
		r, err := pl.GetResults()
		if err != nil {
			pl.Close()
			return err
		}
		if rr, ok := r.(*pgconn.ResultReader); ok {
			results = append(results, rr.Read())
			continue
		}
		if _, ok := r.(*pgconn.PipelineSync); ok {
			break
		}
	}
	if err := pl.Close(); err != nil {
		return err
	}
	if len(results) != 2 {
		return fmt.Errorf("pgquery: pipeline returned %d results, want 2", len(results))
	}
	for _, r := range results {
		if r.Err != nil {
			return postgres.Translate(r.Err)
		}
	}
	res, m := results[1], c.TypeMap()
	for _, values := range res.Rows {
		scan := func(dest ...any) error {
			if len(dest) != len(values) {
				return fmt.Errorf("pgquery: %d columns, %d destinations", len(values), len(dest))
			}
			for i, d := range dest {
				fd := res.FieldDescriptions[i]
				if err := m.Scan(fd.DataTypeOID, fd.Format, values[i], d); err != nil {
					return fmt.Errorf("pgquery: column %s: %w", fd.Name, err)
				}
			}
			return nil
		}
		if err := row(scan); err != nil {
			return err
		}
	}
	return nil
}

// isTimeout reports a statement cancelled by statement_timeout, as opposed
// to the caller's context ending.
func isTimeout(ctx context.Context, err error) bool {
	var pg *pgconn.PgError
	return ctx.Err() == nil && errors.As(err, &pg) && pg.Code == "57014"
}

// Estimate is the planner's estimate of the devices matching p (EXPLAIN,
// nothing is executed; a millisecond or two of planning).
func Estimate(ctx context.Context, db postgres.Querier, p Predicate) (int64, error) {
	var plan []byte
	err := db.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+SelectSQL("1", p, "", 0), withMode(p.Args)...).Scan(&plan)
	if err != nil {
		return 0, postgres.Translate(err)
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &out); err != nil || len(out) == 0 {
		return 0, fmt.Errorf("pgquery: unreadable EXPLAIN output: %s", plan)
	}
	return int64(out[0].Plan.Rows), nil
}

// LoadTemplate reads a stored query template and parses it strictly. A
// template that is missing is postgres.ErrNotFound; one that no longer
// parses is devicequery.FieldErrors.
func LoadTemplate(ctx context.Context, db postgres.Querier, id int64) (devicequery.Template, error) {
	var raw []byte
	if err := db.QueryRow(ctx, "SELECT groups FROM query_templates WHERE id = $1", id).Scan(&raw); err != nil {
		return devicequery.Template{}, postgres.Translate(err)
	}
	return devicequery.Parse(raw)
}
