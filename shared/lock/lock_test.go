package lock_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

func TestObtainIsExclusiveUntilReleased(t *testing.T) {
	r := redistest.New(t)
	c := lock.New(r.Client, r.Prefix)
	ctx := context.Background()

	var won atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Obtain(ctx, "cooldown:1:2", time.Minute)
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, lock.ErrNotObtained):
				t.Errorf("obtain: %v", err)
			}
		}()
	}
	wg.Wait()
	if got := won.Load(); got != 1 {
		t.Fatalf("got %d holders, want 1", got)
	}
}

func TestReleaseRefusesALockItNoLongerOwns(t *testing.T) {
	r := redistest.New(t)
	c := lock.New(r.Client, r.Prefix)
	ctx := context.Background()

	l, err := c.Obtain(ctx, "k", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(120 * time.Millisecond) // expired
	l2, err := c.Obtain(ctx, "k", time.Minute)
	if err != nil {
		t.Fatalf("obtain after expiry: %v", err)
	}
	if err := l.Release(ctx); !errors.Is(err, lock.ErrNotHeld) {
		t.Fatalf("stale release: got %v, want ErrNotHeld", err)
	}
	if err := l2.Release(ctx); err != nil {
		t.Fatalf("owner release: %v", err)
	}
	if _, err := c.Obtain(ctx, "k", time.Minute); err != nil {
		t.Fatalf("obtain after release: %v", err)
	}
}

func TestZeroTTLRefused(t *testing.T) {
	r := redistest.New(t)
	c := lock.New(r.Client, r.Prefix)
	if _, err := c.Obtain(context.Background(), "k", 0); err == nil {
		t.Fatal("got nil error for ttl 0")
	}
}

func TestHeldLooksWithoutTaking(t *testing.T) {
	r := redistest.New(t)
	c := lock.New(r.Client, r.Prefix)
	ctx := context.Background()

	if held, err := c.Held(ctx, "k"); err != nil || held {
		t.Fatalf("before: got %v, %v; want false", held, err)
	}
	l, err := c.Obtain(ctx, "k", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if held, err := c.Held(ctx, "k"); err != nil || !held {
		t.Fatalf("while held: got %v, %v; want true", held, err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("release after Held: %v", err) // Held did not take it
	}
	if held, err := c.Held(ctx, "k"); err != nil || held {
		t.Fatalf("after release: got %v, %v; want false", held, err)
	}
}
