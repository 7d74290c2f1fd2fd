package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/lock"
)

// Config is what every event function reads from the environment; a
// function with more settings embeds it.
type Config struct {
	config.Base
	DB     config.Database
	Redis  config.Redis
	Events config.Events
}

// Deps are the connections of an event function.
type Deps struct {
	DB    *pgxpool.Pool
	Redis *redis.Client
	// Locks take Redis locks under REDIS_PREFIX.
	Locks *lock.Client
	// Emitter sends to K_SINK; nil when K_SINK is unset (see RequireEmitter).
	Emitter  events.Emitter
	Location *time.Location

	pg *Postgres
}

// Open builds a function's clients without a single network round trip, so
// the process serves /healthz a few milliseconds after exec (DESIGN §10,
// scale from zero): the Postgres pool is created undialed and connects in the
// background (OpenDB), the Redis client dials on first use (its locks are
// advisory; /readyz reports it as degraded), the emitter on first send.
// Only a malformed setting fails here; an unreachable server is /readyz's
// business.
func Open(ctx context.Context, cfg Config) (*Deps, error) {
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	var em events.Emitter
	if cfg.Events.Sink != "" {
		if em, err = events.NewHTTPEmitter(cfg.Events.Sink, cfg.Events.CEOverrides, events.EmitterOptions{}); err != nil {
			return nil, err
		}
	}
	pg, err := OpenDB(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	// Short timeouts: a Redis outage must cost seconds, not minutes, per event.
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
	opt.MaxRetries = 1
	rdb := redis.NewClient(opt)
	return &Deps{DB: pg.Pool, Redis: rdb, Locks: lock.New(rdb, cfg.Redis.Prefix), Emitter: em, Location: loc, pg: pg}, nil
}

// Postgres is a function's pool and the background connect OpenDB started.
type Postgres struct {
	Pool   *pgxpool.Pool
	cancel context.CancelFunc
	warmed chan struct{}
}

// OpenDB creates a function's Postgres pool without waiting for Postgres:
// pgxpool.NewWithConfig dials nothing itself, and every Acquire (a request,
// the /readyz ping) dials when the pool has no idle connection, so a request
// that comes first simply waits for its connection. One connection is
// started in the background right away, overlapping the rest of start-up,
// so the first request usually finds it ready. Only a malformed URL fails.
// Migrations are not run here: in Knative the migrate Job applies them before
// a rollout (infra/base/migrate-job.yaml); the local runner migrates itself.
func OpenDB(ctx context.Context, cfg config.Database) (*Postgres, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DATABASE_URL: %w", err)
	}
	if cfg.MaxConns > 0 {
		pcfg.MaxConns = cfg.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	// Detached from ctx's cancellation (Close ends it) and bounded: a
	// Postgres that is down is retried by the probes and requests, not here.
	warmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), warmTimeout)
	pg := &Postgres{Pool: pool, cancel: cancel, warmed: make(chan struct{})}
	go func() {
		defer close(pg.warmed)
		if err := pool.Ping(warmCtx); err != nil && !errors.Is(warmCtx.Err(), context.Canceled) {
			slog.Warn("postgres not reachable yet; /readyz answers 503 until it is", "err", err)
		}
	}()
	return pg, nil
}

// warmTimeout bounds the background connect.
const warmTimeout = 10 * time.Second

// Ready is the /readyz check: Postgres answers. It first waits for the
// background connect, so the probes Knative sends from the first
// millisecond do not each dial a connection of their own meanwhile.
func (pg *Postgres) Ready(ctx context.Context) error {
	select {
	case <-pg.warmed:
	case <-ctx.Done():
		return ctx.Err()
	}
	return pg.Pool.Ping(ctx)
}

// Close stops the background connect and closes the pool.
func (pg *Postgres) Close() {
	pg.cancel()
	<-pg.warmed
	pg.Pool.Close()
}

// RequireEmitter fails when K_SINK is unset, for functions that emit.
func (d *Deps) RequireEmitter() (events.Emitter, error) {
	if d.Emitter == nil {
		return nil, ErrNoSink
	}
	return d.Emitter, nil
}

// Ready is the /readyz requirement: Postgres answers.
func (d *Deps) Ready() map[string]Check {
	return map[string]Check{"postgres": d.pg.Ready}
}

// Degraded is what /readyz reports without requiring: Redis.
func (d *Deps) Degraded() map[string]Check {
	return map[string]Check{"redis": func(ctx context.Context) error { return d.Redis.Ping(ctx).Err() }}
}

// Close releases the connections.
func (d *Deps) Close() {
	if d.Redis != nil {
		_ = d.Redis.Close()
	}
	if d.pg != nil {
		d.pg.Close()
	}
}
