// Package pgtest gives each test its own freshly migrated database on the real
// Postgres server, cloned from a template database that is migrated once per
// migration set. Packages therefore run in parallel without sharing rows.
//
// The server is PGTEST_ADMIN_URL (default: the local trust-auth server). A missing
// server fails the test: it is never skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/postgres"
)

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// DB is one test's database.
type DB struct {
	Pool *pgxpool.Pool
	URL  string
	Name string
}

// NewPool returns a pool on a fresh, migrated database dropped when the test ends.
func NewPool(t testing.TB) *pgxpool.Pool { return New(t).Pool }

// New is NewPool that also returns the database's URL and name.
func New(t testing.TB) *DB {
	t.Helper()
	ctx := context.Background()
	tmpl, err := template(ctx)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := "ept_" + randomHex(6)
	if err := withAdmin(ctx, func(c *pgx.Conn) error {
		return retryInUse(ctx, func() error {
			_, err := c.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl))
			return err
		})
	}); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	dbURL := withDatabase(adminURL(), name)
	pool, err := postgres.Open(ctx, dbURL, 8)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		_ = withAdmin(context.Background(), func(c *pgx.Conn) error {
			_, err := c.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
			return err
		})
	})
	return &DB{Pool: pool, URL: dbURL, Name: name}
}

var (
	tmplOnce sync.Mutex
	tmplName string
)

// template creates (once per server and migration set) and returns the template database name.
func template(ctx context.Context) (string, error) {
	tmplOnce.Lock()
	defer tmplOnce.Unlock()
	if tmplName != "" {
		return tmplName, nil
	}
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "ept_tmpl_" + sum[:16]
	err = withAdmin(ctx, func(c *pgx.Conn) error {
		// Serialize template creation across test processes running in parallel.
		if _, err := c.Exec(ctx, "SELECT pg_advisory_lock(7355608)"); err != nil {
			return err
		}
		defer c.Exec(context.Background(), "SELECT pg_advisory_unlock(7355608)") //nolint:errcheck
		var exists bool
		if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		building := name + "_build"
		if _, err := c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "CREATE DATABASE "+building); err != nil {
			return err
		}
		if err := postgres.MigrateURL(ctx, withDatabase(adminURL(), building)); err != nil {
			return err
		}
		_, err := c.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("template database: %w", err)
	}
	tmplName = name
	return name, nil
}

func migrationsHash() (string, error) {
	h := sha256.New()
	var names []string
	err := fs.WalkDir(postgres.Migrations(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(postgres.Migrations(), n)
		if err != nil {
			return "", err
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func adminURL() string {
	if u := os.Getenv("PGTEST_ADMIN_URL"); u != "" {
		return u
	}
	return defaultAdminURL
}

func withDatabase(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + db
	return u.String()
}

func withAdmin(ctx context.Context, fn func(*pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, adminURL())
	if err != nil {
		return fmt.Errorf("connect %s (is Postgres running? try scripts/services.sh): %w", redact(adminURL()), err)
	}
	defer c.Close(context.Background())
	return fn(c)
}

// retryInUse retries CREATE DATABASE while another session briefly holds the template.
func retryInUse(ctx context.Context, fn func() error) error {
	var err error
	for i := 0; i < 50; i++ {
		err = fn()
		var pg *pgconn.PgError
		if err == nil || !errors.As(err, &pg) || pg.Code != "55006" {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return err
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
