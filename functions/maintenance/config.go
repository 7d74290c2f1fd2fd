package maintenance

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/elasticpool/elasticpool/shared/config"
)

// Local-only defaults, so `make run` accepts a demo system out of the box.
// Production refuses them (CheckProduction).
const (
	DevSystem = "demo"
	DevSecret = "dev-maintenance-secret-local-only"
	DevToken  = "dev-maintenance-token-local-only"
)

// WorkbenchSystem is the external_system of requests made by people from
// the workbench; no external system may take the name.
const WorkbenchSystem = "workbench"

// Config is the maintenance function's own settings (docs/maintenance.md).
type Config struct {
	// Systems is "system=secret,…": each external system's HMAC-SHA256
	// secret. List a system twice to accept two secrets while rotating.
	Systems string `env:"MAINTENANCE_SYSTEMS, default=demo=dev-maintenance-secret-local-only" json:"-"`
	// Tokens is "token=system,…": bearer tokens for systems that cannot sign.
	Tokens string `env:"MAINTENANCE_TOKENS, default=dev-maintenance-token-local-only=demo" json:"-"`
	// ReplayWindow is how far a signed request's timestamp may be from now,
	// either way; a signature is accepted once within it.
	ReplayWindow time.Duration `env:"MAINTENANCE_REPLAY_WINDOW, default=5m"`
}

// minProductionSecret is the shortest secret or token production accepts:
// 32 characters, the size of the HMAC-SHA256 key itself.
const minProductionSecret = 32

var systemName = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,62})$`)

// Credentials are the external systems' secrets and tokens.
type Credentials struct {
	secrets map[string][][]byte // system → HMAC secrets
	tokens  map[[32]byte]string // sha256(token) → system
	window  time.Duration
}

// Credentials parses MAINTENANCE_SYSTEMS and MAINTENANCE_TOKENS. Errors name
// the entry, never its secret.
func (c Config) Credentials() (*Credentials, error) {
	if c.ReplayWindow <= 0 || c.ReplayWindow > time.Hour {
		return nil, fmt.Errorf("MAINTENANCE_REPLAY_WINDOW %s: want more than 0 and at most 1h", c.ReplayWindow)
	}
	cr := &Credentials{secrets: map[string][][]byte{}, tokens: map[[32]byte]string{}, window: c.ReplayWindow}
	for i, entry := range splitList(c.Systems) {
		name, secret, ok := strings.Cut(entry, "=")
		name, secret = strings.TrimSpace(name), strings.TrimSpace(secret)
		if !ok || secret == "" {
			return nil, fmt.Errorf("MAINTENANCE_SYSTEMS entry %d: want system=secret", i+1)
		}
		if err := checkSystemName(name); err != nil {
			return nil, fmt.Errorf("MAINTENANCE_SYSTEMS entry %d: %w", i+1, err)
		}
		cr.secrets[name] = append(cr.secrets[name], []byte(secret))
	}
	for i, entry := range splitList(c.Tokens) {
		token, name, ok := strings.Cut(entry, "=")
		token, name = strings.TrimSpace(token), strings.TrimSpace(name)
		if !ok || token == "" {
			return nil, fmt.Errorf("MAINTENANCE_TOKENS entry %d: want token=system", i+1)
		}
		if err := checkSystemName(name); err != nil {
			return nil, fmt.Errorf("MAINTENANCE_TOKENS entry %d: %w", i+1, err)
		}
		sum := sha256.Sum256([]byte(token))
		if other, dup := cr.tokens[sum]; dup && other != name {
			return nil, fmt.Errorf("MAINTENANCE_TOKENS entry %d: the same token is given to %s and %s", i+1, other, name)
		}
		cr.tokens[sum] = name
	}
	return cr, nil
}

func checkSystemName(name string) error {
	if !systemName.MatchString(name) {
		return fmt.Errorf("system name %q: want lowercase letters, digits, '.', '_' or '-' (at most 63)", name)
	}
	if name == WorkbenchSystem {
		return fmt.Errorf("system name %q is reserved for requests made in the workbench", name)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// Systems lists the configured systems (for the startup log; no secrets).
func (cr *Credentials) Systems() []string {
	seen := map[string]bool{}
	for s := range cr.secrets {
		seen[s] = true
	}
	for _, s := range cr.tokens {
		seen[s] = true
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// CheckProduction refuses, when ELASTICPOOL_ENV=production, the local-only
// defaults and any secret or token short enough to be a placeholder.
func (c Config) CheckProduction(b config.Base) error {
	if !b.Production() {
		return nil
	}
	var errs []error
	for i, entry := range splitList(c.Systems) {
		name, secret, _ := strings.Cut(entry, "=")
		if weak(strings.TrimSpace(secret)) {
			errs = append(errs, fmt.Errorf("MAINTENANCE_SYSTEMS entry %d (%s): the secret is a local-only value or shorter than %d characters",
				i+1, strings.TrimSpace(name), minProductionSecret))
		}
	}
	for i, entry := range splitList(c.Tokens) {
		token, name, _ := strings.Cut(entry, "=")
		if weak(strings.TrimSpace(token)) {
			errs = append(errs, fmt.Errorf("MAINTENANCE_TOKENS entry %d (%s): the token is a local-only value or shorter than %d characters",
				i+1, strings.TrimSpace(name), minProductionSecret))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: production refuses local maintenance credentials: %w", errors.Join(errs...))
	}
	return nil
}

func weak(secret string) bool {
	return len(secret) < minProductionSecret || strings.Contains(secret, "local-only") ||
		secret == DevSecret || secret == DevToken
}
