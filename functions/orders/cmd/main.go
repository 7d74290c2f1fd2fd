// Command orders is the API function's container: the REST API and the
// workbench's static files, plus /healthz and /readyz, served by
// functions-framework-go through shared/serve. FUNCTION_TARGET must be unset.
package main

import (
	"context"
	"net/http"

	_ "github.com/elasticpool/elasticpool/shared/clustercred/keepers" // SECRETS_KEEPER_URL drivers (build tags choose the KMS)

	"github.com/elasticpool/elasticpool/functions/orders"
	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/serve"
)

// Config is what the API function reads.
type Config struct {
	serve.Config
	Auth   config.Auth
	Secret config.Secrets
	UI     config.UI
	// NodeOpsURL is the nodeops Service the dry-run preview of orders' node
	// operations goes to (docs/clusters.md); empty answers previews 503.
	NodeOpsURL string `env:"NODEOPS_URL"`
}

func main() { serve.Run(realMain) }

func realMain(ctx context.Context) error {
	var cfg Config
	if err := config.Load(ctx, &cfg); err != nil {
		return err
	}
	if err := config.CheckProduction(cfg.Base, &cfg.Auth, &cfg.Secret); err != nil {
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
	keeper, err := clustercred.OpenKeeper(ctx, cfg.Secret.KeeperURL)
	if err != nil {
		return err
	}
	defer keeper.Close()
	// Clusters stays nil here: the collector runs in its own service (client-go
	// stays out of this binary), so "test connection"/"collect now" answer 503
	// in Knative mode; the all-in-one runner wires them.
	var nodeOps orders.NodeOps
	if cfg.NodeOpsURL != "" {
		nodeOps = orders.RemoteNodeOps{URL: cfg.NodeOpsURL}
	}
	f := orders.New(orders.Deps{
		DB: deps.DB, Redis: deps.Redis, Auth: authn, Location: deps.Location, StaticDir: cfg.UI.StaticDir,
		Emitter: deps.Emitter, RedisPrefix: cfg.Redis.Prefix, Keeper: keeper, NodeOps: nodeOps,
	})
	return serve.Main(ctx, serve.Options{Name: "orders", Port: cfg.Port, HTTP: map[string]http.Handler{"/": f.Routes()},
		Ready: deps.Ready(), Degraded: deps.Degraded()})
}
