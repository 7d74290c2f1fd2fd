// Package orders is the HTTP function that serves the REST API of DESIGN.md §8
// (strategies, orders, query templates, matching policies, devices, clusters,
// pools, snapshots, history, notifications) and the workbench's static files.
package orders

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"gocloud.dev/secrets"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi"
)

// Version is reported in the OpenAPI document.
const Version = "1.0.0"

// Deps are what the function needs; main builds them from configuration.
type Deps struct {
	DB       *pgxpool.Pool
	Redis    redis.UniversalClient
	Auth     *auth.Authenticator
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StaticDir is the built UI (web/dist); empty serves no UI.
	StaticDir string
	// Emitter sends order events after commit; nil emits nothing.
	Emitter events.Emitter
	// RedisPrefix is REDIS_PREFIX: run-now takes the evaluate function's cooldown locks.
	RedisPrefix string
	// Keeper encrypts cluster credentials (SECRETS_KEEPER_URL); nil refuses to store them.
	Keeper *secrets.Keeper
	// Clusters tests connections and collects now (functions/collect); nil answers 503.
	Clusters ClusterOps
	// NodeOps previews orders' node operations (shared/nodeexec); nil answers 503 to a preview.
	NodeOps NodeOps
}

// Function is the API.
type Function struct {
	db        *pgxpool.Pool
	rdb       redis.UniversalClient
	auth      *auth.Authenticator
	loc       *time.Location
	now       func() time.Time
	staticDir string
	emitter   events.Emitter
	api       huma.API
	mux       *http.ServeMux
}

// New builds the API and registers every route.
func New(d Deps) *Function {
	f := &Function{db: d.DB, rdb: d.Redis, auth: d.Auth, loc: d.Location, now: d.Now, staticDir: d.StaticDir, emitter: d.Emitter}
	if f.now == nil {
		f.now = time.Now
	}
	if f.loc == nil {
		f.loc = time.UTC
	}
	f.mux = http.NewServeMux()
	f.api = httpapi.NewAPI(f.mux, "elasticpool API", Version, f.auth)
	// One register call per resource; each lives in its own file.
	f.registerHealth()
	f.registerMe()
	f.registerClusters()
	f.registerClusterCredentials(d.Keeper, d.Clusters)
	f.registerPools()
	f.registerStrategies()
	f.registerPolicies()
	f.registerTemplates()
	f.registerHistory()
	f.registerDevices()
	f.registerSnapshots()
	f.registerOrderAPI()
	f.registerOrderOperations(d.NodeOps)
	f.registerRoster()
	f.registerNotifications()
	f.registerEvaluations(d.RedisPrefix)
	f.registerStatic()
	f.includeMaintenanceAPI() // last: the whole API's document, after every orders type is registered
	return f
}

// Routes is the function's HTTP handler.
func (f *Function) Routes() http.Handler { return f.mux }

// API exposes the huma API (tests read its OpenAPI document).
func (f *Function) API() huma.API { return f.api }

// Health is the body of /healthz and /readyz.
type Health struct {
	Status   string            `json:"status" enum:"ok,ready,unavailable"`
	Checks   map[string]string `json:"checks,omitempty"`
	Function string            `json:"function"`
}

func (f *Function) registerHealth() {
	public := map[string]any{httpapi.MetaPublic: true}
	huma.Register(f.api, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Summary: "Liveness",
		Tags: []string{"health"}, Metadata: public, Security: []map[string][]string{},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body Health }, error) {
		return &struct{ Body Health }{Body: Health{Status: "ok", Function: "orders"}}, nil
	})
	huma.Register(f.api, huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz", Summary: "Readiness: Postgres and Redis answer",
		Tags: []string{"health"}, Metadata: public, Security: []map[string][]string{},
		Errors: []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*struct{ Body Health }, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		checks := map[string]string{"postgres": "ok", "redis": "ok"}
		ok := true
		if err := f.db.Ping(ctx); err != nil {
			checks["postgres"], ok = "unavailable", false
		}
		if f.rdb == nil {
			checks["redis"] = "not configured"
		} else if err := f.rdb.Ping(ctx).Err(); err != nil {
			checks["redis"], ok = "unavailable", false
		}
		if !ok {
			return nil, huma.Error503ServiceUnavailable(fmt.Sprintf("not ready: postgres %s, redis %s", checks["postgres"], checks["redis"]))
		}
		return &struct{ Body Health }{Body: Health{Status: "ready", Checks: checks, Function: "orders"}}, nil
	})
}
