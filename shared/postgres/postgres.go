// Package postgres opens the database, runs the embedded migrations and
// translates Postgres errors into the sentinels the rest of the code checks.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations is the embedded, ordered migration set.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Sentinel errors; HTTP status is chosen only at the edge.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")      // unique violation
	ErrReference = errors.New("bad reference") // foreign key violation
	ErrCheck     = errors.New("constraint violated")
	ErrStale     = errors.New("version mismatch") // optimistic concurrency lost
)

// Open connects a pool. maxConns ≤ 0 keeps pgx's default.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: ping: %w", err)
	}
	return pool, nil
}

// Migrate applies every pending migration. Concurrent callers are serialized by
// goose's session locker (a Postgres advisory lock), so replicas may all call it.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	return migrateDB(ctx, db)
}

// MigrateURL is Migrate for a connection string.
func MigrateURL(ctx context.Context, url string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("postgres: open: %w", err)
	}
	defer db.Close()
	return migrateDB(ctx, db)
}

func migrateDB(ctx context.Context, db *sql.DB) error {
	locker, err := newLocker()
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Querier is what both a pool and a transaction offer.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error)
}

var (
	_ Querier = (*pgxpool.Pool)(nil)
	_ Querier = (pgx.Tx)(nil)
)

// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, fn)
}

// Translate maps Postgres errors to the package sentinels, keeping the original
// (constraint name and detail) in the chain for messages and logs.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w", ErrNotFound)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return &ConstraintError{Kind: ErrConflict, Constraint: pg.ConstraintName, Detail: pg.Detail, err: err}
		case "23503":
			return &ConstraintError{Kind: ErrReference, Constraint: pg.ConstraintName, Detail: pg.Detail, err: err}
		case "23514", "23502", "22P02", "22003":
			return &ConstraintError{Kind: ErrCheck, Constraint: pg.ConstraintName, Detail: pg.Message, err: err}
		}
	}
	return err
}

// ConstraintError names the constraint that refused a write.
type ConstraintError struct {
	Kind       error
	Constraint string
	Detail     string
	err        error
}

func (e *ConstraintError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%v: %s (%s)", e.Kind, e.Detail, e.Constraint)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Constraint)
}

func (e *ConstraintError) Unwrap() []error { return []error{e.Kind, e.err} }
