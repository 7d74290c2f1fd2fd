// Command notify is the notification sink's container: the CloudEvent handler
// at "/" (the Knative Trigger's subscriber) and /healthz, /readyz, served by
// functions-framework-go through shared/serve. FUNCTION_TARGET must be unset.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/elasticpool/elasticpool/functions/notify"
	"github.com/elasticpool/elasticpool/shared/serve"
)

func main() { serve.Run(realMain) }

func realMain(ctx context.Context) error {
	cfg, err := notify.Load(ctx)
	if err != nil {
		return err
	}
	// Only Postgres: notify uses no Redis and emits nothing, so it opens no
	// more than it needs (serve.Open would add both). The pool connects in
	// the background: the process serves /healthz before Postgres answers.
	pg, err := serve.OpenDB(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer pg.Close()
	deps, err := notify.Build(ctx, cfg, pg.Pool, os.LookupEnv, slog.Default())
	if err != nil {
		return err
	}
	f := notify.New(deps)
	return serve.Main(ctx, serve.Options{
		Name:  "notify",
		Port:  cfg.Port,
		Event: f.Handle,
		Ready: map[string]serve.Check{"postgres": pg.Ready},
	})
}
