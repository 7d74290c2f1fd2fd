package pgtest_test

import (
	"context"
	"testing"

	"github.com/elasticpool/elasticpool/shared/pgtest"
)

func TestFreshDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := pgtest.New(t), pgtest.New(t)
	if a.Name == b.Name {
		t.Fatalf("got the same database %q twice", a.Name)
	}
	ctx := context.Background()
	if _, err := a.Pool.Exec(ctx, "INSERT INTO clusters (name) VALUES ('only-in-a')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.Pool.QueryRow(ctx, "SELECT count(*) FROM clusters").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database b sees %d clusters, want 0", n)
	}
	if err := a.Pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("template was not migrated")
	}
}
