// Command collect is the snapshot collector's container: the CloudEvent
// handler at "/" (its own hourly PingSource) and /healthz, /readyz.
// FUNCTION_TARGET must be unset.
package main

import (
	"context"

	_ "github.com/elasticpool/elasticpool/shared/clustercred/keepers" // SECRETS_KEEPER_URL drivers (build tags choose the KMS)

	"github.com/elasticpool/elasticpool/functions/collect"
	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/serve"
)

func main() { serve.Run(realMain) }

func realMain(ctx context.Context) error {
	var cfg collect.Config
	if err := config.Load(ctx, &cfg); err != nil {
		return err
	}
	if err := config.CheckProduction(cfg.Base, nil, &cfg.Secrets); err != nil {
		return err
	}
	if err := cfg.NodeOps.Validate(); err != nil {
		return err
	}
	keeper, err := clustercred.OpenKeeper(ctx, cfg.Secrets.KeeperURL)
	if err != nil {
		return err
	}
	defer keeper.Close()
	deps, err := serve.Open(ctx, cfg.Config)
	if err != nil {
		return err
	}
	defer deps.Close()
	f := collect.New(collect.Deps{DB: deps.DB, Keeper: keeper, Location: deps.Location,
		ClusterTimeout: cfg.ClusterTimeout, Parallel: cfg.Parallel, Emitter: deps.Emitter,
		NodeOps: cfg.NodeOps, Locks: deps.Locks})
	return serve.Main(ctx, serve.Options{Name: "collect", Port: cfg.Port, Event: f.Handle,
		Ready: deps.Ready(), Degraded: deps.Degraded()})
}
