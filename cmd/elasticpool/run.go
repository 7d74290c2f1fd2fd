package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/elasticpool/elasticpool/functions/collect"
	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/robfig/cron/v3"
	_ "gocloud.dev/secrets/localsecrets" // base64key:// keeper for local mode
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/elasticpool/elasticpool/functions/evaluate"
	"github.com/elasticpool/elasticpool/functions/maintenance"
	"github.com/elasticpool/elasticpool/functions/match"
	"github.com/elasticpool/elasticpool/functions/nodeops"
	"github.com/elasticpool/elasticpool/functions/notify"
	"github.com/elasticpool/elasticpool/functions/orders"
	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/lock"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Config is everything the all-in-one process reads.
type Config struct {
	config.Base
	DB     config.Database
	Redis  config.Redis
	Events config.Events
	Auth   config.Auth
	Secret config.Secrets
	UI     config.UI
	// Maintenance: external systems' secrets and tokens (docs/maintenance.md).
	Maintenance maintenance.Config
	// Pipeline: the local cron standing in for the PingSource (docs/pipeline.md).
	Pipeline PipelineConfig
	// Collect: the snapshot collector's settings and its local hourly schedule.
	Collect         collect.Config
	CollectSchedule string `env:"COLLECT_SCHEDULE, default=0 * * * *"`
	// NodeOps: how orders' node operations run (docs/clusters.md, "Executing orders").
	NodeOps nodeops.Settings
}

func loadConfig(ctx context.Context) (*Config, error) {
	var cfg Config
	if err := config.Load(ctx, &cfg); err != nil {
		return nil, err
	}
	if err := config.CheckProduction(cfg.Base, &cfg.Auth, &cfg.Secret); err != nil {
		return nil, err
	}
	if err := cfg.Maintenance.CheckProduction(cfg.Base); err != nil {
		return nil, err
	}
	if err := cfg.NodeOps.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func migrate(ctx context.Context) error {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	if err := postgres.MigrateURL(ctx, cfg.DB.URL); err != nil {
		return err
	}
	slog.Info("migrations applied")
	return nil
}

func run(ctx context.Context) error {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	loc, err := cfg.Location()
	if err != nil {
		return err
	}
	if err := postgres.MigrateURL(ctx, cfg.DB.URL); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DB.URL, cfg.DB.MaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	ropt, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	authn, err := auth.New(cfg.Auth.Tokens, cfg.Auth.ProxyHeader, cfg.Auth.ProxyRoleHeader, auth.ProxySecret(cfg.Auth.ProxySecret))
	if err != nil {
		return err
	}

	// Functions emit to K_SINK; locally it is the in-process broker's ingress.
	sink := cfg.Events.Sink
	if sink == "" {
		sink = localSink(cfg.Port)
	}
	emitter, err := events.NewHTTPEmitter(sink, cfg.Events.CEOverrides, events.EmitterOptions{})
	if err != nil {
		return err
	}

	// The collector: cluster credentials sealed by the keeper, "test connection"
	// and "collect now" from the API, and an hourly cron standing in for its PingSource.
	keeper, err := clustercred.OpenKeeper(ctx, cfg.Secret.KeeperURL)
	if err != nil {
		return err
	}
	defer keeper.Close()
	collector := collect.New(collect.Deps{DB: db, Keeper: keeper, Location: loc,
		ClusterTimeout: cfg.Collect.ClusterTimeout, Parallel: cfg.Collect.Parallel, Emitter: emitter,
		NodeOps: cfg.Collect.NodeOps, Locks: lock.New(rdb, cfg.Redis.Prefix)})
	collectCron := cron.New(cron.WithLocation(loc))
	if _, err := collectCron.AddFunc(cfg.CollectSchedule, func() {
		if _, err := collector.CollectAll(ctx, time.Now()); err != nil {
			slog.Error("local cron: collection failed", "err", err)
		}
	}); err != nil {
		return fmt.Errorf("COLLECT_SCHEDULE %q: %w", cfg.CollectSchedule, err)
	}
	collectCron.Start()
	defer collectCron.Stop()

	locks := lock.New(rdb, cfg.Redis.Prefix)
	// Orders' node operations: the nodeops function behind the broker, and the API's dry-run preview.
	nodeExec := nodeexec.New(nodeexec.Deps{DB: db, Keeper: keeper, Locks: locks, Emitter: emitter,
		Options: cfg.NodeOps.Options(), Parallel: cfg.NodeOps.Parallel})
	api := orders.New(orders.Deps{DB: db, Redis: rdb, Auth: authn, Location: loc, StaticDir: cfg.UI.StaticDir,
		Emitter: emitter, RedisPrefix: cfg.Redis.Prefix, Keeper: keeper, Clusters: collector, NodeOps: nodeExec})
	mux := http.NewServeMux()
	mux.Handle("/", api.Routes())

	// Maintenance: its API and the CloudEvents ingress for external systems
	// (never a Broker subscriber: docs/maintenance.md).
	maintCreds, err := cfg.Maintenance.Credentials()
	if err != nil {
		return err
	}
	maint := maintenance.New(maintenance.Deps{DB: db, Auth: authn, Systems: maintCreds, Emitter: emitter, Location: loc})
	mux.Handle(maintenance.APIPrefix+"/", maint.Routes())
	mux.Handle(maintenance.EventsPath, maint.Events())

	// The CloudEvent functions behind the local broker, and the daily cron.
	notifyCfg, err := notify.Load(ctx)
	if err != nil {
		return err
	}
	notifyDeps, err := notify.Build(ctx, notifyCfg, db, os.LookupEnv, slog.Default())
	if err != nil {
		return err
	}
	side, err := startEvents(ctx, mux, cfg.Port, cfg.Events.BusURL, cfg.Pipeline.Schedule, loc, emitter, map[string]events.HandlerFunc{
		events.FunctionEvaluate: evaluate.New(evaluate.Deps{DB: db, Locks: locks, Emitter: emitter, Location: loc}).Handle,
		events.FunctionMatch:    match.New(match.Deps{DB: db, Emitter: emitter, Location: loc}).Handle,
		events.FunctionNotify:   notify.New(notifyDeps).Handle,
		events.FunctionNodeOps:  nodeops.New(nodeExec).Handle,
	})
	if err != nil {
		return err
	}

	srv := &http.Server{Addr: ":" + cfg.Port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("elasticpool is serving", "addr", "http://localhost:"+cfg.Port, "ui", cfg.UI.StaticDir)
	if !cfg.Production() && cfg.Auth.Tokens == "dev-admin-token-local-only=dev-admin:admin" {
		slog.Info("local sign-in token (local only)", "token", config.DevToken)
	}
	select {
	case err := <-errc:
		side.stop(context.Background())
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	side.stop(shutCtx) // before the server: the broker's deliveries go through it
	return srv.Shutdown(shutCtx)
}
