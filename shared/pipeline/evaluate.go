package pipeline

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/postgres"
	"github.com/elasticpool/elasticpool/shared/scaling"
)

// History results beyond scaling's four.
const ResultError = "error"

// Evaluator evaluates strategies (DESIGN §5) and writes their history.
type Evaluator struct {
	DB *pgxpool.Pool
	// Locks takes the cooldown locks; nil runs without them (the database
	// keys still prevent duplicates).
	Locks *lock.Client
	// Location is TIMEZONE: it decides T's calendar day and the window.
	Location *time.Location
	// Now is the clock (lock TTLs); nil means time.Now.
	Now func() time.Time
	// LockTimeout bounds one Redis call (default 2s), so an outage costs
	// seconds per evaluation, not per pool.
	LockTimeout time.Duration
}

// EvalOptions change how Evaluate runs.
type EvalOptions struct {
	// DryRun computes every decision and writes nothing, takes no lock.
	DryRun bool
	// IncludeDisabled evaluates a disabled strategy (allowed for dry runs only).
	IncludeDisabled bool
}

// Run is one strategy evaluated at T.
type Run struct {
	StrategyID   int64          `json:"strategyId"`
	StrategyName string         `json:"strategyName"`
	Action       scaling.Action `json:"action"`
	At           time.Time      `json:"evaluationTime"`
	DryRun       bool           `json:"dryRun"`
	// Reused: the history rows of (strategy, T) already existed — a
	// redelivery — so nothing was decided again.
	Reused    bool       `json:"reused"`
	Decisions []Decision `json:"decisions"`
}

// Decision is one cluster+pool's history row.
type Decision struct {
	HistoryID    int64      `json:"historyId,omitempty"`
	ClusterID    int64      `json:"clusterId"`
	ClusterName  string     `json:"clusterName"`
	PoolID       int64      `json:"poolId"`
	PoolName     string     `json:"poolName"`
	PoolType     string     `json:"poolType"`
	Result       string     `json:"result"`
	StreakDays   int        `json:"streakDays"`
	RequiredDays int        `json:"requiredDays"`
	Reason       string     `json:"reason"`
	Error        string     `json:"error,omitempty"`
	OrderID      *int64     `json:"orderId,omitempty"`
	Observed     Observed   `json:"observed"`
	Thresholds   Thresholds `json:"thresholds"`
}

// Triggered lists the decisions that met the strategy.
func (r *Run) Triggered() []Decision {
	var out []Decision
	for _, d := range r.Decisions {
		if d.Result == string(scaling.ResultTriggered) {
			out = append(out, d)
		}
	}
	return out
}

// Breach is the threshold.breached data of a triggered decision.
func (r *Run) Breach(d Decision) events.PoolThresholdBreached {
	return events.PoolThresholdBreached{
		StrategyID: r.StrategyID, ClusterID: d.ClusterID, PoolID: d.PoolID, Action: string(r.Action),
		EvaluationTime: r.At, HistoryID: d.HistoryID, Resources: d.Observed.Resources, StreakDays: d.StreakDays,
	}
}

// BreachEvents are the events to emit after Evaluate returned (none for a
// dry run). Ids are deterministic, so a redelivered evaluation re-emits the
// same events and consumers can dedupe.
func (r *Run) BreachEvents() []events.Outgoing {
	if r.DryRun {
		return nil
	}
	var out []events.Outgoing
	for _, d := range r.Triggered() {
		out = append(out, events.Outgoing{
			ID:      fmt.Sprintf("pool.threshold.breached:%d", d.HistoryID),
			Type:    events.TypePoolThresholdBreached,
			Source:  events.SourceEvaluate,
			Subject: fmt.Sprintf("pool/%d", d.PoolID),
			Data:    r.Breach(d),
		})
	}
	return out
}

func (e *Evaluator) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Evaluator) loc() *time.Location {
	if e.Location != nil {
		return e.Location
	}
	return time.UTC
}

// evaluationLockSpace is the first key of the advisory lock that serializes
// evaluations of one strategy, so that for one (strategy, T) exactly one
// evaluator decides and takes cooldown locks; a concurrent duplicate waits
// and then reuses its rows.
const evaluationLockSpace = 20

// Evaluate applies DESIGN §5 to every cluster+pool of the strategy at T and,
// unless DryRun, writes one history row each (or reuses the rows an earlier
// delivery wrote for the same T). T is truncated to microseconds, the
// database's precision, so the history key matches on redelivery.
func (e *Evaluator) Evaluate(ctx context.Context, strategyID int64, at time.Time, opt EvalOptions) (*Run, error) {
	at = at.Truncate(time.Microsecond)
	if opt.DryRun {
		return e.decide(ctx, e.DB, strategyID, at, opt, nil)
	}
	var run *Run
	var taken []*lock.Lock
	err := postgres.InTx(ctx, e.DB, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashint8($2))", evaluationLockSpace, strategyID); err != nil {
			return postgres.Translate(err)
		}
		existing, err := readHistory(ctx, tx, strategyID, at)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			s, err := LoadStrategy(ctx, tx, strategyID)
			if err != nil {
				return err
			}
			run = &Run{StrategyID: s.ID, StrategyName: s.Name, Action: s.ThresholdTriggerAction, At: at, Reused: true, Decisions: existing}
			return nil
		}
		run, err = e.decide(ctx, tx, strategyID, at, opt, &taken)
		if err != nil {
			return err
		}
		inserted, err := insertHistory(ctx, tx, run)
		if err != nil {
			return err
		}
		if inserted == len(run.Decisions) {
			return nil
		}
		// Some rows existed (written outside this lock): report what is stored.
		run.Decisions, err = readHistory(ctx, tx, strategyID, at)
		return err
	})
	if err != nil {
		// The rows were not written: free the cooldown locks this attempt took,
		// or its own redelivery would find them held and record cooldown.
		e.release(taken)
		return nil, err
	}
	return run, nil
}

func (e *Evaluator) release(taken []*lock.Lock) {
	for _, l := range taken {
		ctx, cancel := context.WithTimeout(context.Background(), e.lockTimeout())
		if err := l.Release(ctx); err != nil && !errors.Is(err, lock.ErrNotHeld) {
			slog.Warn("evaluate: could not release a cooldown lock; it expires with its TTL", "key", l.Key(), "err", err)
		}
		cancel()
	}
}

func (e *Evaluator) lockTimeout() time.Duration {
	if e.LockTimeout > 0 {
		return e.LockTimeout
	}
	return 2 * time.Second
}

// decide reads everything set-based (scope, newest orders, the window's
// snapshots: one query each) and evaluates every pool. taken is nil for a
// dry run: no lock is attempted.
func (e *Evaluator) decide(ctx context.Context, q postgres.Querier, strategyID int64, at time.Time, opt EvalOptions, taken *[]*lock.Lock) (*Run, error) {
	s, err := LoadStrategy(ctx, q, strategyID)
	if err != nil {
		return nil, err
	}
	if !s.Enabled && !(opt.IncludeDisabled && opt.DryRun) {
		return nil, fmt.Errorf("%w: %d %s", ErrStrategyDisabled, s.ID, s.Name)
	}
	run := &Run{StrategyID: s.ID, StrategyName: s.Name, Action: s.ThresholdTriggerAction, At: at, DryRun: opt.DryRun}
	scope, err := loadScope(ctx, q, s)
	if err != nil || len(scope) == 0 {
		return run, err
	}
	in, err := ReadInputs(ctx, q, s.Strategy, scope, at, e.loc())
	if err != nil {
		return nil, err
	}
	run.Decisions = Decide(s.Strategy, scope, in, at, e.loc())
	if taken != nil {
		redisDown := false
		for i := range run.Decisions {
			if d := &run.Decisions[i]; d.Result == string(scaling.ResultTriggered) {
				e.cooldownLock(ctx, d, s, at, &redisDown, taken)
			}
		}
	}
	return run, nil
}

// Decide applies shared/scaling to every target (in[i] is scope[i]'s input,
// as ReadInputs returns them) and builds its history row, without I/O and
// before any cooldown lock: the CPU half of an evaluation, spread over the
// cores.
func Decide(s scaling.Strategy, scope []Target, in []scaling.EvalInput, at time.Time, loc *time.Location) []Decision {
	th := thresholdsOf(s)
	decisions := make([]Decision, len(scope))
	parallel(len(scope), func(lo, hi int) {
		// Per worker: the evaluation's window buffers, reused pool after
		// pool, and the arena the kept Observed parts come from.
		var buf scaling.Buffers
		var a arena
		for i := lo; i < hi; i++ {
			t := scope[i]
			d := &decisions[i]
			*d = Decision{ClusterID: t.ClusterID, ClusterName: t.ClusterName, PoolID: t.PoolID, PoolName: t.PoolName,
				PoolType: t.PoolType, Thresholds: th, RequiredDays: s.RequiredDays()}
			ev, err := buf.Evaluate(in[i])
			if err != nil {
				d.Result = ResultError
				d.Error = err.Error()
				d.Reason = "evaluation failed: " + err.Error()
				d.Observed.IdempotencyKey = scaling.IdempotencyKey(s.ID, t.ClusterID, t.PoolID, at, loc)
			} else {
				d.Result, d.StreakDays, d.RequiredDays, d.Reason = string(ev.Result), ev.StreakDays, ev.RequiredDays, ev.Reason
				d.Observed = observedOf(ev, in[i].LastOrder, &a)
			}
		}
	})
	return decisions
}

// parallel splits 0..n-1 into one range [lo, hi) per core and runs fn on
// each: deciding 10,000 pools is pure CPU (shared/scaling), and a range per
// worker lets each keep its own buffers.
func parallel(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/256+1)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// cooldownLock is DESIGN §5.6: before a triggered pool is emitted, SET NX
// cooldown:{cluster}:{pool}, expiring when T's cooldown ends (T + cooldown,
// so the next tick after exactly cooldownMinutes is free again, as the
// database rule says). No cooldown, or one already over relative to T, needs
// no lock. Held by someone else: this pool is recorded as cooldown. Redis
// failing: the pool stays triggered — the order's idempotency key still
// makes a duplicate impossible — and the row's error says so.
func (e *Evaluator) cooldownLock(ctx context.Context, d *Decision, s Strategy, at time.Time, redisDown *bool, taken *[]*lock.Lock) {
	key := fmt.Sprintf("cooldown:%d:%d", d.ClusterID, d.PoolID)
	if e.Locks == nil {
		return
	}
	ttl := at.Add(time.Duration(s.CooldownMinutes) * time.Minute).Sub(e.now())
	if s.CooldownMinutes == 0 || ttl <= 0 {
		d.Observed.Redis = "not_needed"
		return
	}
	if *redisDown {
		d.Observed.Redis = "unavailable"
		d.Error = redisDownNote(key, nil)
		return
	}
	lctx, cancel := context.WithTimeout(ctx, e.lockTimeout())
	defer cancel()
	l, err := e.Locks.Obtain(lctx, key, ttl)
	switch {
	case err == nil:
		d.Observed.Redis = "locked"
		*taken = append(*taken, l)
	case errors.Is(err, lock.ErrNotObtained):
		d.Observed.Redis = "held"
		d.Result = string(scaling.ResultCooldown)
		d.Reason = fmt.Sprintf("another evaluation of this pool holds the cooldown lock %s (it just triggered); skipped — %s", key, d.Reason)
	default:
		*redisDown = true
		d.Observed.Redis = "unavailable"
		d.Error = redisDownNote(key, err)
		slog.WarnContext(ctx, "evaluate: Redis unavailable, cooldown locks skipped", "strategy", s.ID, "err", err)
	}
}

func redisDownNote(key string, err error) string {
	msg := "Redis unavailable: cooldown lock " + key + " not taken"
	if err != nil {
		msg += " (" + err.Error() + ")"
	}
	return msg + "; evaluated anyway — the order's idempotency key still prevents a duplicate order"
}

// ReadInputs builds scaling's input for every target, reading the newest
// pool_entry/pool_exit order and the window's daily snapshots of all targets
// in one query each (DESIGN §10: set-based, no query per pool).
func ReadInputs(ctx context.Context, q postgres.Querier, s scaling.Strategy, scope []Target, at time.Time, loc *time.Location) ([]scaling.EvalInput, error) {
	clusters := make([]int64, len(scope))
	pools := make([]int64, len(scope))
	for i, t := range scope {
		clusters[i], pools[i] = t.ClusterID, t.PoolID
	}
	index := newPoolIndex(pools)
	in := make([]scaling.EvalInput, len(scope))
	for i, t := range scope {
		in[i] = scaling.EvalInput{Strategy: s, ClusterID: t.ClusterID, PoolID: t.PoolID, At: at, Location: loc}
	}

	// Cooldown counts every pool_entry/pool_exit order, any status (ignored
	// and manual included): one index probe per pool through a lateral join.
	rows, err := q.Query(ctx, `SELECT s.pool_id, o.id, o.order_number, o.status, o.created_at
		FROM unnest($1::bigint[], $2::bigint[]) AS s(cluster_id, pool_id)
		CROSS JOIN LATERAL (
			SELECT id, order_number, status, created_at FROM elastic_scaling_orders o
			WHERE o.cluster_id = s.cluster_id AND o.pool_id = s.pool_id AND o.action_type IN ('pool_entry', 'pool_exit')
			ORDER BY o.created_at DESC, o.id DESC LIMIT 1) o`, clusters, pools)
	if err != nil {
		return nil, fmt.Errorf("read last orders: %w", postgres.Translate(err))
	}
	for rows.Next() {
		var pool int64
		var lo scaling.LastOrder
		if err := rows.Scan(&pool, &lo.ID, &lo.OrderNumber, &lo.Status, &lo.CreatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read last orders: %w", err)
		}
		if i, ok := index.get(pool); ok {
			in[i].LastOrder = &lo
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read last orders: %w", postgres.Translate(err))
	}

	today := scaling.DateOf(at.In(loc))
	d := s.RequiredDays()
	from, to := today.AddDays(-d), today.AddDays(-1)
	// One backing array for every pool's days and one for the usage values
	// the snapshots point to: at 10,000 pools × 30 days, per-row allocations
	// cost more than the scan itself.
	days := make([]scaling.DailySnapshot, len(scope)*d)
	for i := range in {
		in[i].Days = days[i*d : i*d : (i+1)*d]
	}
	var usage []int64
	slot := func(pool int64) *scaling.DailySnapshot {
		i, ok := index.get(pool)
		if !ok {
			return nil
		}
		in[i].Days = append(in[i].Days, scaling.DailySnapshot{})
		return &in[i].Days[len(in[i].Days)-1]
	}
	keep := func(v int64) *int64 {
		if len(usage) == cap(usage) {
			usage = make([]int64, 0, max(1024, len(scope)*d/2))
		}
		usage = append(usage, v)
		return &usage[len(usage)-1]
	}
	if err := readDays(ctx, q, pools, from, to, slot, keep); err != nil {
		return nil, err
	}
	return in, nil
}

// poolIndex maps a pool id to its position in a strategy's scope, once per
// row read (300,000 for 10,000 pools × 30 days). Pool ids are an identity
// column, so a scope's ids usually span a range not much wider than the
// scope: then a slice indexed by id − lo answers, else a map.
type poolIndex struct {
	lo     int64
	dense  []int32 // position + 1; 0: not in scope
	sparse map[int64]int
}

func newPoolIndex(pools []int64) poolIndex {
	if len(pools) == 0 {
		return poolIndex{}
	}
	lo, hi := slices.Min(pools), slices.Max(pools)
	if span := uint64(hi - lo); span < uint64(4*len(pools)+1024) && len(pools) < math.MaxInt32 {
		x := poolIndex{lo: lo, dense: make([]int32, span+1)}
		for i, p := range pools {
			x.dense[p-lo] = int32(i + 1)
		}
		return x
	}
	x := poolIndex{sparse: make(map[int64]int, len(pools))}
	for i, p := range pools {
		x.sparse[p] = i
	}
	return x
}

func (x poolIndex) get(pool int64) (int, bool) {
	if x.dense != nil {
		off := uint64(pool - x.lo)
		if off >= uint64(len(x.dense)) || x.dense[off] == 0 {
			return 0, false
		}
		return int(x.dense[off]) - 1, true
	}
	i, ok := x.sparse[pool]
	return i, ok
}

// readDays streams the pool_daily_snapshots rows of pools between two days
// (inclusive), one row per pool-day (the rollup the ingest upserts), into
// the snapshot slot(pool) returns (nil: skip the row); keep stores a usage
// value and returns where it lives. Rows in pgx's binary format are decoded
// straight into the slot (see decodeDay); in any other case (text results,
// a custom timestamptz codec) through rows.Scan.
func readDays(ctx context.Context, q postgres.Querier, pools []int64, from, to scaling.Date,
	slot func(pool int64) *scaling.DailySnapshot, keep func(int64) *int64) error {
	rows, err := q.Query(ctx, `SELECT pool_id, day, captured_at, cpu_capacity, cpu_allocated, cpu_usage,
			mem_capacity, mem_allocated, mem_usage, node_count
		FROM pool_daily_snapshots
		WHERE pool_id = ANY($1::bigint[]) AND day BETWEEN $2::date AND $3::date`, pools, from.String(), to.String())
	if err != nil {
		return fmt.Errorf("read snapshots: %w", postgres.Translate(err))
	}
	defer rows.Close()
	var (
		dec      *dayDecoder
		checked  bool
		pool     int64
		day      time.Time
		ds       scaling.DailySnapshot
		cpu, mem pgtype.Int8
	)
	dest := []any{&pool, &day, &ds.CapturedAt, &ds.CPUCapacity, &ds.CPUAllocated, &cpu,
		&ds.MemCapacity, &ds.MemAllocated, &mem, &ds.NodeCount}
	for rows.Next() {
		if !checked {
			dec, checked = newDayDecoder(rows, from, to), true
		}
		if dec != nil {
			if err := dec.decode(rows.RawValues(), slot, keep); err != nil {
				return fmt.Errorf("read snapshots: %w", err)
			}
			continue
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read snapshots: %w", err)
		}
		dst := slot(pool)
		if dst == nil {
			continue
		}
		ds.Day = scaling.DateOf(day)
		ds.CPUUsage, ds.MemUsage = nil, nil
		if cpu.Valid {
			ds.CPUUsage = keep(cpu.Int64)
		}
		if mem.Valid {
			ds.MemUsage = keep(mem.Int64)
		}
		*dst = ds
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read snapshots: %w", postgres.Translate(err))
	}
	return nil
}

// dayDecoder decodes readDays' columns from pgx's binary format, what
// rows.Scan would do without its per-column dispatch: 300,000 rows × 10
// columns for a 10,000-pool strategy, where Scan cost a third of the read.
type dayDecoder struct {
	// y2k is `from` in days since 2000-01-01 (a binary date's unit); window
	// holds from, from+1, … to, so a day needs no calendar arithmetic.
	y2k    int32
	window []scaling.Date
	loc    *time.Location // the timestamptz codec's ScanLocation (nil: Local, as pgx)
}

// readDaysOIDs are the columns' types, in order: int8, date, timestamptz,
// int8 × 6, int4.
var readDaysOIDs = [...]uint32{pgtype.Int8OID, pgtype.DateOID, pgtype.TimestamptzOID, pgtype.Int8OID, pgtype.Int8OID,
	pgtype.Int8OID, pgtype.Int8OID, pgtype.Int8OID, pgtype.Int8OID, pgtype.Int4OID}

// newDayDecoder returns nil unless every column arrives in binary with the
// expected type and timestamptz uses pgx's own codec.
func newDayDecoder(rows pgx.Rows, from, to scaling.Date) *dayDecoder {
	fds := rows.FieldDescriptions()
	if len(fds) != len(readDaysOIDs) {
		return nil
	}
	for i, fd := range fds {
		if fd.Format != pgx.BinaryFormatCode || fd.DataTypeOID != readDaysOIDs[i] {
			return nil
		}
	}
	conn := rows.Conn()
	if conn == nil {
		return nil
	}
	t, ok := conn.TypeMap().TypeForOID(pgtype.TimestamptzOID)
	if !ok {
		return nil
	}
	tc, ok := t.Codec.(*pgtype.TimestamptzCodec)
	if !ok {
		return nil
	}
	start := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, time.UTC)
	dec := &dayDecoder{y2k: int32((start.Unix() - y2k.Unix()) / 86400), loc: tc.ScanLocation}
	for d := from; !to.Before(d) && len(dec.window) <= scaling.MaxWindowMinutes/1440; d = d.AddDays(1) {
		dec.window = append(dec.window, d)
	}
	return dec
}

var y2k = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Postgres' binary timestamptz: microseconds since 2000-01-01 UTC, with
// these two values for ±infinity.
const (
	y2kUnixMicros     = 946_684_800 * 1_000_000
	infinityMicros    = math.MaxInt64
	negInfinityMicros = math.MinInt64
	infinityDays      = math.MaxInt32
	negInfinityDays   = math.MinInt32
)

func (dec *dayDecoder) decode(vals [][]byte, slot func(int64) *scaling.DailySnapshot, keep func(int64) *int64) error {
	if len(vals) != len(readDaysOIDs) {
		return fmt.Errorf("got %d columns, want %d", len(vals), len(readDaysOIDs))
	}
	for i, v := range vals {
		want := 8
		switch {
		case i == 1 || i == 9:
			want = 4
		case v == nil && (i == 5 || i == 8):
			continue // cpu_usage, mem_usage: not reported
		case v == nil:
			return fmt.Errorf("column %d: unexpected NULL", i)
		}
		if len(v) != want {
			return fmt.Errorf("column %d: %d bytes, want %d", i, len(v), want)
		}
	}
	dst := slot(int64(binary.BigEndian.Uint64(vals[0])))
	if dst == nil {
		return nil
	}
	days := int32(binary.BigEndian.Uint32(vals[1]))
	if days == infinityDays || days == negInfinityDays {
		return errors.New("day is infinite")
	}
	if off := int64(days) - int64(dec.y2k); off >= 0 && off < int64(len(dec.window)) {
		dst.Day = dec.window[off]
	} else {
		dst.Day = scaling.DateOf(time.Date(2000, 1, int(1+days), 0, 0, 0, 0, time.UTC))
	}
	us := int64(binary.BigEndian.Uint64(vals[2]))
	if us == infinityMicros || us == negInfinityMicros {
		return errors.New("captured_at is infinite")
	}
	// As pgx: time.Unix (Local), then the codec's ScanLocation if set.
	dst.CapturedAt = time.Unix(y2kUnixMicros/1_000_000+us/1_000_000, y2kUnixMicros%1_000_000*1_000+us%1_000_000*1_000)
	if dec.loc != nil {
		dst.CapturedAt = dst.CapturedAt.In(dec.loc)
	}
	dst.CPUCapacity = int64(binary.BigEndian.Uint64(vals[3]))
	dst.CPUAllocated = int64(binary.BigEndian.Uint64(vals[4]))
	if vals[5] != nil {
		dst.CPUUsage = keep(int64(binary.BigEndian.Uint64(vals[5])))
	}
	dst.MemCapacity = int64(binary.BigEndian.Uint64(vals[6]))
	dst.MemAllocated = int64(binary.BigEndian.Uint64(vals[7]))
	if vals[8] != nil {
		dst.MemUsage = keep(int64(binary.BigEndian.Uint64(vals[8])))
	}
	dst.NodeCount = int(int32(binary.BigEndian.Uint32(vals[9])))
	return nil
}

// insertHistory writes every decision in one statement and sets the
// HistoryID of those it inserted; it returns how many. A row that exists is
// kept (ON CONFLICT DO NOTHING) and the caller reads the rows back.
func insertHistory(ctx context.Context, tx pgx.Tx, run *Run) (int, error) {
	if len(run.Decisions) == 0 {
		return 0, nil
	}
	n := len(run.Decisions)
	var (
		clusters, pools        = make([]int64, n), make([]int64, n)
		results, reasons, errs = make([]string, n), make([]string, n), make([]string, n)
		streaks, required      = make([]int32, n), make([]int32, n)
		observed               = make([]string, n)
		thresholds             []byte
		err                    error
	)
	for i, d := range run.Decisions {
		clusters[i], pools[i] = d.ClusterID, d.PoolID
		results[i], reasons[i], errs[i] = d.Result, d.Reason, d.Error
		streaks[i], required[i] = int32(d.StreakDays), int32(d.RequiredDays)
		b, err := json.Marshal(d.Observed)
		if err != nil {
			return 0, fmt.Errorf("encode observed: %w", err)
		}
		observed[i] = string(b)
	}
	if thresholds, err = json.Marshal(run.Decisions[0].Thresholds); err != nil {
		return 0, fmt.Errorf("encode thresholds: %w", err)
	}
	rows, err := tx.Query(ctx, `INSERT INTO strategy_execution_history (strategy_id, cluster_id, pool_id, evaluated_at, result, action,
			streak_days, required_days, observed, thresholds, reason, error)
		SELECT $1, u.cluster_id, u.pool_id, $2, u.result, $3, u.streak, u.required, u.observed::jsonb, $4::jsonb, u.reason, u.error
		FROM unnest($5::bigint[], $6::bigint[], $7::text[], $8::int[], $9::int[], $10::text[], $11::text[], $12::text[])
			AS u(cluster_id, pool_id, result, streak, required, observed, reason, error)
		ON CONFLICT (strategy_id, cluster_id, pool_id, evaluated_at) DO NOTHING
		RETURNING id, pool_id`,
		run.StrategyID, run.At, string(run.Action), string(thresholds),
		clusters, pools, results, streaks, required, observed, reasons, errs)
	if err != nil {
		return 0, fmt.Errorf("write history: %w", postgres.Translate(err))
	}
	index := make(map[int64]int, n)
	for i, d := range run.Decisions {
		index[d.PoolID] = i
	}
	inserted := 0
	var id, pool int64
	_, err = pgx.ForEachRow(rows, []any{&id, &pool}, func() error {
		run.Decisions[index[pool]].HistoryID = id
		inserted++
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("write history: %w", postgres.Translate(err))
	}
	return inserted, nil
}

// readHistory reads the rows of (strategy, T) with their cluster and pool names.
func readHistory(ctx context.Context, q postgres.Querier, strategyID int64, at time.Time) ([]Decision, error) {
	rows, err := q.Query(ctx, `SELECT h.id, h.cluster_id, c.name, h.pool_id, p.name, p.pool_type, h.result, h.streak_days,
			h.required_days, h.reason, h.error, h.order_id, h.observed, h.thresholds
		FROM strategy_execution_history h
		JOIN clusters c ON c.id = h.cluster_id
		JOIN resource_pools p ON p.id = h.pool_id
		WHERE h.strategy_id = $1 AND h.evaluated_at = $2
		ORDER BY h.cluster_id, h.pool_id`, strategyID, at)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", postgres.Translate(err))
	}
	ds, err := pgx.CollectRows(rows, scanDecision)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", postgres.Translate(err))
	}
	return ds, nil
}

func scanDecision(row pgx.CollectableRow) (Decision, error) {
	var d Decision
	var observed, thresholds []byte
	if err := row.Scan(&d.HistoryID, &d.ClusterID, &d.ClusterName, &d.PoolID, &d.PoolName, &d.PoolType, &d.Result,
		&d.StreakDays, &d.RequiredDays, &d.Reason, &d.Error, &d.OrderID, &observed, &thresholds); err != nil {
		return d, err
	}
	// Rows written by this package always decode; anything else keeps its zero value.
	_ = json.Unmarshal(observed, &d.Observed)
	_ = json.Unmarshal(thresholds, &d.Thresholds)
	return d, nil
}
