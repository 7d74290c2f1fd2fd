// Command nodeops is the container of the function that executes orders'
// node operations: the CloudEvent handler at "/" (Triggers on
// order.execute and maintenance.confirmed), the API's dry-run preview at
// nodeplan.PreviewPath, and /healthz, /readyz.
// FUNCTION_TARGET must be unset.
package main

import (
	"context"
	"net/http"

	_ "github.com/elasticpool/elasticpool/shared/clustercred/keepers" // SECRETS_KEEPER_URL drivers (build tags choose the KMS)

	"github.com/elasticpool/elasticpool/functions/nodeops"
	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/nodeexec"
	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
	"github.com/elasticpool/elasticpool/shared/serve"
)

func main() { serve.Run(realMain) }

func realMain(ctx context.Context) error {
	var cfg nodeops.Config
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
	x := nodeexec.New(nodeexec.Deps{DB: deps.DB, Keeper: keeper, Locks: deps.Locks, Emitter: deps.Emitter,
		Options: cfg.NodeOps.Options(), Parallel: cfg.NodeOps.Parallel})
	return serve.Main(ctx, serve.Options{Name: "nodeops", Port: cfg.Port, Event: nodeops.New(x).Handle,
		HTTP:  map[string]http.Handler{nodeplan.PreviewPath: nodeops.PreviewHandler(x)},
		Ready: deps.Ready(), Degraded: deps.Degraded()})
}
