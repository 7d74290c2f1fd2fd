package serve

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/postgres"
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
}

// Open connects Postgres (failing fast: nothing works without it), creates
// the Redis client without requiring Redis to answer (its locks are
// advisory; /readyz reports it as degraded) and the K_SINK emitter.
func Open(ctx context.Context, cfg Config) (*Deps, error) {
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	db, err := postgres.Open(ctx, cfg.DB.URL, cfg.DB.MaxConns)
	if err != nil {
		return nil, err
	}
	opt, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// Short timeouts: a Redis outage must cost seconds, not minutes, per event.
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
	opt.MaxRetries = 1
	rdb := redis.NewClient(opt)
	d := &Deps{DB: db, Redis: rdb, Locks: lock.New(rdb, cfg.Redis.Prefix), Location: loc}
	if cfg.Events.Sink != "" {
		em, err := events.NewHTTPEmitter(cfg.Events.Sink, cfg.Events.CEOverrides, events.EmitterOptions{})
		if err != nil {
			d.Close()
			return nil, err
		}
		d.Emitter = em
	}
	return d, nil
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
	return map[string]Check{"postgres": d.DB.Ping}
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
	if d.DB != nil {
		d.DB.Close()
	}
}
