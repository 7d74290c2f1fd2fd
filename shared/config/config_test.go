package config

import (
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

func TestCheckProduction(t *testing.T) {
	prod := Base{Env: "production"}
	good := Auth{Tokens: "real-token=alice:admin"}
	goodSecrets := &Secrets{KeeperURL: "base64key://c29tZS1vdGhlci1rZXktMDEyMzQ1Njc4OWFiY2RlZmdoaWo="}
	tests := []struct {
		name    string
		base    Base
		auth    *Auth
		secrets *Secrets
		wantErr []string // substrings of the error; nil wants no error
	}{
		{"production, tokens only", prod, &good, goodSecrets, nil},
		{"production, proxy with secret", prod,
			&Auth{Tokens: good.Tokens, ProxyHeader: "X-Forwarded-User", ProxySecret: "0123456789abcdef0123456789abcdef"}, goodSecrets, nil},
		{"production, proxy with a short secret", prod,
			&Auth{Tokens: good.Tokens, ProxyHeader: "X-Forwarded-User", ProxySecret: "proxy-secret"}, goodSecrets, []string{"AUTH_PROXY_SECRET", "32"}},
		{"production, proxy without secret", prod,
			&Auth{Tokens: good.Tokens, ProxyHeader: "X-Forwarded-User"}, goodSecrets, []string{"AUTH_PROXY_HEADER", "AUTH_PROXY_SECRET"}},
		{"production, every refusal at once", prod,
			&Auth{Tokens: DevToken + "=dev:admin", ProxyHeader: "X-Forwarded-User"}, &Secrets{KeeperURL: localKeeper},
			[]string{"AUTH_TOKENS", "AUTH_PROXY_SECRET", "SECRETS_KEEPER_URL"}},
		{"production, no auth part (no users served)", prod, nil, goodSecrets, nil},
		{"local, proxy without secret", Base{Env: "local"},
			&Auth{Tokens: DevToken + "=dev:admin", ProxyHeader: "X-Forwarded-User"}, &Secrets{KeeperURL: localKeeper}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckProduction(tt.base, tt.auth, tt.secrets)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got nil, want an error naming %v", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to name %s", err, w)
				}
			}
		})
	}
}

// AUTH_PROXY_SECRET is loaded and satisfies production in proxy mode.
func TestLoadProxySecret(t *testing.T) {
	var cfg struct {
		Base Base
		Auth Auth
	}
	err := LoadFrom(t.Context(), &cfg, envconfig.MapLookuper(map[string]string{
		"ELASTICPOOL_ENV": "production", "AUTH_TOKENS": "real-token=alice:admin",
		"AUTH_PROXY_HEADER": "X-Forwarded-User", "AUTH_PROXY_SECRET": "loaded-proxy-secret-0123456789abcdef",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Auth.ProxySecret, "loaded-proxy-secret-0123456789abcdef"; got != want {
		t.Fatalf("got ProxySecret %q, want %q", got, want)
	}
	if err := CheckProduction(cfg.Base, &cfg.Auth, nil); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}
