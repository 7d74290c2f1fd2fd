// Package lock holds short-lived Redis locks. They are advisory: they save work
// and narrow races, while database constraints make wrong outcomes impossible.
package lock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotObtained means another holder has the lock.
var ErrNotObtained = errors.New("lock: not obtained")

// ErrNotHeld means the lock expired or was taken over before Release.
var ErrNotHeld = errors.New("lock: not held")

// Client takes locks under a key prefix.
type Client struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Client; every key is prefixed with prefix.
func New(rdb redis.UniversalClient, prefix string) *Client {
	return &Client{rdb: rdb, prefix: prefix}
}

// Lock is one obtained lock.
type Lock struct {
	c     *Client
	key   string
	token string
}

// Key returns the full Redis key.
func (l *Lock) Key() string { return l.key }

// Obtain sets key if absent with a TTL. A TTL ≤ 0 is refused: SET NX without
// expiry would never be released if the holder died.
func (c *Client) Obtain(ctx context.Context, key string, ttl time.Duration) (*Lock, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("lock: ttl must be > 0, got %v", ttl)
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	token := hex.EncodeToString(b)
	full := c.prefix + key
	ok, err := c.rdb.SetNX(ctx, full, token, ttl).Result()
	if err != nil {
		return nil, fmt.Errorf("lock: obtain %s: %w", full, err)
	}
	if !ok {
		return nil, ErrNotObtained
	}
	return &Lock{c: c, key: full, token: token}, nil
}

var release = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`)

// Release deletes the lock only if this holder still owns it.
func (l *Lock) Release(ctx context.Context) error {
	n, err := release.Run(ctx, l.c.rdb, []string{l.key}, l.token).Int()
	if err != nil {
		return fmt.Errorf("lock: release %s: %w", l.key, err)
	}
	if n == 0 {
		return ErrNotHeld
	}
	return nil
}

// Held reports whether someone holds key now, without taking it (a look
// for another component: a holder may release it right after).
func (c *Client) Held(ctx context.Context, key string) (bool, error) {
	n, err := c.rdb.Exists(ctx, c.prefix+key).Result()
	if err != nil {
		return false, fmt.Errorf("lock: check %s: %w", c.prefix+key, err)
	}
	return n > 0, nil
}

// Ping checks the server (for readiness).
func (c *Client) Ping(ctx context.Context) error { return c.rdb.Ping(ctx).Err() }
