// Command deadletter is the container of the dead-letter sink.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/elasticpool/elasticpool/functions/deadletter"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/serve"
)

func main() { serve.Run(realMain) }

func realMain(ctx context.Context) error {
	var cfg config.Base
	if err := config.Load(ctx, &cfg); err != nil {
		return err
	}
	f := deadletter.New(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	return serve.Main(ctx, serve.Options{Name: "deadletter", Port: cfg.Port, Event: f.Handle})
}
