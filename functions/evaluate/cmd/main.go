// Command evaluate is the evaluate function's container: the CloudEvent
// handler at "/" (daily ping and strategy.evaluate) and /healthz, /readyz,
// served by functions-framework-go through shared/serve. FUNCTION_TARGET
// must be unset.
package main

import (
	"context"

	"github.com/elasticpool/elasticpool/functions/evaluate"
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
	f := evaluate.New(evaluate.Deps{DB: deps.DB, Locks: deps.Locks, Emitter: emitter, Location: deps.Location})
	return serve.Main(ctx, serve.Options{Name: "evaluate", Port: cfg.Port, Event: f.Handle,
		Ready: deps.Ready(), Degraded: deps.Degraded()})
}
