// Package redistest connects tests to the real Redis server with a key prefix
// unique to the test, so parallel tests and packages never see each other's keys.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const defaultURL = "redis://127.0.0.1:6379/0"

// Redis is a client plus the prefix every key of this test must start with.
type Redis struct {
	Client *redis.Client
	Prefix string
	URL    string
}

// New connects to REDISTEST_URL (default the local server) and removes the
// test's keys at cleanup. A missing server fails the test.
func New(t testing.TB) *Redis {
	t.Helper()
	raw := os.Getenv("REDISTEST_URL")
	if raw == "" {
		raw = defaultURL
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redistest: ping %s (is Redis running? try scripts/services.sh): %v", opt.Addr, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		_ = c.Close()
	})
	return &Redis{Client: c, Prefix: prefix, URL: raw}
}
