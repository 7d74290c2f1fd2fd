// Package config loads settings from the environment with go-envconfig.
// Each function embeds the parts it needs; every variable is listed in the README.
package config

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// DevToken is the local-only bearer token of the default AUTH_TOKENS. Production refuses it.
const DevToken = "dev-admin-token-local-only"

// Base fields every process needs.
type Base struct {
	// Env is "local" or "production". Production refuses the local-only defaults.
	Env      string `env:"ELASTICPOOL_ENV, default=local"`
	Timezone string `env:"TIMEZONE, default=Asia/Shanghai"`
	LogLevel string `env:"LOG_LEVEL, default=info"`
	Port     string `env:"PORT, default=8080"`
}

// Database is the Postgres connection.
type Database struct {
	URL string `env:"DATABASE_URL, default=postgres://postgres@127.0.0.1:5432/elasticpool?sslmode=disable" json:"-"`
	// MaxConns stays small: every Knative replica opens its own pool.
	MaxConns int32 `env:"DATABASE_MAX_CONNS, default=8"`
}

// Redis is the lock and cache server.
type Redis struct {
	URL string `env:"REDIS_URL, default=redis://127.0.0.1:6379/0" json:"-"`
	// Prefix namespaces every key, so several installations (or tests) share one server.
	Prefix string `env:"REDIS_PREFIX, default=elasticpool:"`
}

// Events is where functions emit CloudEvents.
type Events struct {
	// Sink is K_SINK, injected by a SinkBinding in Knative; locally the in-process broker.
	Sink string `env:"K_SINK"`
	// CEOverrides is K_CE_OVERRIDES (JSON of extensions to add to every event).
	CEOverrides string `env:"K_CE_OVERRIDES"`
	// BusURL is the local broker's queue (gocloud.dev pubsub URL).
	BusURL string `env:"EVENTS_URL, default=mem://elasticpool"`
}

// Auth maps bearer tokens to users and roles.
type Auth struct {
	// Tokens is "token=user:role,token2=user2:role2"; role is viewer, operator or admin.
	Tokens string `env:"AUTH_TOKENS, default=dev-admin-token-local-only=dev-admin:admin" json:"-"`
	// ProxyHeader, when set, takes the user name from that header (behind an auth proxy).
	ProxyHeader string `env:"AUTH_PROXY_HEADER"`
	// ProxyRoleHeader carries the role in proxy mode (default role viewer when absent).
	ProxyRoleHeader string `env:"AUTH_PROXY_ROLE_HEADER, default=X-Auth-Role"`
	// ProxySecret, when set, is what the proxy sends in X-Auth-Proxy-Secret; the
	// identity headers of requests without it are refused. Production requires it in proxy mode.
	ProxySecret string `env:"AUTH_PROXY_SECRET" json:"-"`
}

// Secrets is the keeper that encrypts cluster credentials.
type Secrets struct {
	// KeeperURL is a gocloud.dev/secrets URL. The default is a local-only key; production refuses it.
	KeeperURL string `env:"SECRETS_KEEPER_URL, default=base64key://bG9jYWwtb25seS1kZXYta2V5LWVsYXN0aWNwb29sLTA=" json:"-"`
}

// UI settings shared by notifications (links) and the API (static files).
type UI struct {
	// BaseURL is the workbench address used in links sent to people.
	BaseURL string `env:"UI_BASE_URL, default=http://localhost:8080"`
	// StaticDir holds the built UI (web/dist); empty disables static serving.
	StaticDir string `env:"UI_STATIC_DIR, default=web/dist"`
}

// localKeeper is the default keeper key; production must bring its own.
const localKeeper = "base64key://bG9jYWwtb25seS1kZXYta2V5LWVsYXN0aWNwb29sLTA="

// Load fills cfg (a pointer to a struct embedding the parts above) from the environment.
func Load(ctx context.Context, cfg any) error {
	return LoadFrom(ctx, cfg, envconfig.OsLookuper())
}

// LoadFrom is Load with an explicit lookuper, for tests.
func LoadFrom(ctx context.Context, cfg any, l envconfig.Lookuper) error {
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: cfg, Lookuper: l}); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// Location resolves TIMEZONE.
func (b Base) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return nil, fmt.Errorf("config: TIMEZONE %q: %w", b.Timezone, err)
	}
	return loc, nil
}

// Production reports whether local-only defaults must be refused.
func (b Base) Production() bool { return b.Env == "production" }

// minProxySecret is the shortest AUTH_PROXY_SECRET production accepts: 32
// characters, as for the maintenance systems' secrets (e.g. openssl rand -hex 16).
const minProxySecret = 32

// CheckProduction refuses, when ELASTICPOOL_ENV=production, the local-only defaults
// and proxy mode without its secret.
func CheckProduction(b Base, a *Auth, s *Secrets) error {
	if !b.Production() {
		return nil
	}
	var errs []error
	if a != nil && strings.Contains(a.Tokens, DevToken) {
		errs = append(errs, errors.New("AUTH_TOKENS contains the local dev token"))
	}
	switch {
	case a == nil || a.ProxyHeader == "":
	case a.ProxySecret == "":
		// Without the secret any client that reaches the API could name itself admin.
		errs = append(errs, errors.New("AUTH_PROXY_HEADER is set without AUTH_PROXY_SECRET (the identity headers would be trusted from any client)"))
	case len(a.ProxySecret) < minProxySecret:
		errs = append(errs, fmt.Errorf("AUTH_PROXY_SECRET is shorter than %d characters", minProxySecret))
	}
	if s != nil && s.KeeperURL == localKeeper {
		errs = append(errs, errors.New("SECRETS_KEEPER_URL is the local-only key"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: production refuses local-only settings: %w", errors.Join(errs...))
	}
	return nil
}
