// Command match is the match function's container: the CloudEvent handler
// at "/" (pool.threshold.breached) and /healthz, /readyz, served by
// functions-framework-go through shared/serve. FUNCTION_TARGET must be unset.
package main

import (
	"context"

	"github.com/elasticpool/elasticpool/functions/match"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/serve"
)

func main() { serve.Run(realMain) }

func realMain(ctx context.Context) error {
	var cfg serve.Config
	if err := config.Load(ctx, &cfg); err != nil {
		return err
	}
	deps, err := serve.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer deps.Close()
	emitter, err := deps.RequireEmitter()
	if err != nil {
		return err
	}
	f := match.New(match.Deps{DB: deps.DB, Emitter: emitter, Location: deps.Location})
	// Match takes no Redis lock (the idempotency key and the one-open-order
	// index guard it), so readiness is Postgres alone.
	return serve.Main(ctx, serve.Options{Name: "match", Port: cfg.Port, Event: f.Handle, Ready: deps.Ready()})
}
