// Command maintenance is the maintenance function's container: the HTTP API
// at /api/v1/maintenance/, the CloudEvents ingress for external systems at
// /events/maintenance (and /events), and /healthz, /readyz, served by
// functions-framework-go through shared/serve. FUNCTION_TARGET must be unset.
package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/elasticpool/elasticpool/functions/maintenance"
	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/serve"
)

// Config is what the maintenance container reads.
type Config struct {
	serve.Config
	Auth        config.Auth
	Maintenance maintenance.Config
}

func main() { serve.Run(realMain) }

func realMain(ctx context.Context) error {
	var cfg Config
	if err := config.Load(ctx, &cfg); err != nil {
		return err
	}
	if err := config.CheckProduction(cfg.Base, &cfg.Auth, nil); err != nil {
		return err
	}
	if err := cfg.Maintenance.CheckProduction(cfg.Base); err != nil {
		return err
	}
	creds, err := cfg.Maintenance.Credentials()
	if err != nil {
		return err
	}
	authn, err := auth.New(cfg.Auth.Tokens, cfg.Auth.ProxyHeader, cfg.Auth.ProxyRoleHeader, auth.ProxySecret(cfg.Auth.ProxySecret))
	if err != nil {
		return err
	}
	deps, err := serve.Open(ctx, cfg.Config)
	if err != nil {
		return err
	}
	defer deps.Close()
	emitter, err := deps.RequireEmitter()
	if err != nil {
		return err
	}
	f := maintenance.New(maintenance.Deps{DB: deps.DB, Auth: authn, Systems: creds, Emitter: emitter, Location: deps.Location})
	slog.Info("maintenance: external systems", "systems", creds.Systems(), "replay_window", cfg.Maintenance.ReplayWindow)
	return serve.Main(ctx, serve.Options{
		Name: "maintenance",
		Port: cfg.Port,
		HTTP: map[string]http.Handler{
			maintenance.APIPrefix + "/": f.Routes(),
			maintenance.EventsPath:      f.Events(),
			"/events":                   f.Events(), // the function's CloudEvents path by convention
		},
		// Only Postgres: the function uses no Redis.
		Ready: deps.Ready(),
	})
}
