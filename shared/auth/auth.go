// Package auth maps requests to a user and a role: bearer tokens from
// configuration, or a trusted proxy header when that mode is enabled.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// HeaderProxySecret carries the shared secret (AUTH_PROXY_SECRET) with which
// the authentication proxy proves that it, not the client, set the identity headers.
const HeaderProxySecret = "X-Auth-Proxy-Secret"

// Role orders what a user may do.
type Role int

// Roles, least to most privileged.
const (
	RoleNone Role = iota
	RoleViewer
	RoleOperator
	RoleAdmin
)

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleOperator:
		return "operator"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// ParseRole reads "viewer", "operator" or "admin".
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "viewer":
		return RoleViewer, nil
	case "operator":
		return RoleOperator, nil
	case "admin":
		return RoleAdmin, nil
	}
	return RoleNone, fmt.Errorf("unknown role %q (want viewer, operator or admin)", s)
}

// User is who made a request.
type User struct {
	Name string `json:"name"`
	Role Role   `json:"-"`
	// Method is how the user was authenticated: MethodToken or MethodProxy.
	Method string `json:"-"`
}

// Authentication methods (User.Method).
const (
	MethodToken = "token"
	MethodProxy = "proxy"
)

// Can reports whether the user holds at least role r.
func (u User) Can(r Role) bool { return u.Role >= r }

// ErrUnauthenticated means no valid credentials were presented.
var ErrUnauthenticated = errors.New("auth: missing or invalid credentials")

// Authenticator resolves requests to users.
type Authenticator struct {
	tokens          map[[32]byte]User // keyed by sha256 so lookups do not leak timing of the token
	proxyHeader     string
	proxyRoleHeader string
	// proxySecret is the sha256 of AUTH_PROXY_SECRET; nil trusts the proxy
	// headers from any client (local only: production refuses it).
	proxySecret []byte
}

// Option configures New.
type Option func(*Authenticator)

// ProxySecret makes proxy mode honour the identity headers only on requests
// that carry secret in HeaderProxySecret. Empty leaves them trusted from any client.
func ProxySecret(secret string) Option {
	return func(a *Authenticator) {
		if secret != "" {
			sum := sha256.Sum256([]byte(secret))
			a.proxySecret = sum[:]
		}
	}
}

// New parses tokens ("token=user:role,…"). proxyHeader enables proxy mode.
func New(tokens, proxyHeader, proxyRoleHeader string, opts ...Option) (*Authenticator, error) {
	a := &Authenticator{tokens: map[[32]byte]User{}, proxyHeader: proxyHeader, proxyRoleHeader: proxyRoleHeader}
	for _, o := range opts {
		o(a)
	}
	for i, entry := range strings.Split(tokens, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		tok, rest, ok := strings.Cut(entry, "=")
		name, roleS, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 || tok == "" || name == "" {
			return nil, fmt.Errorf("AUTH_TOKENS entry %d: want token=user:role", i+1)
		}
		role, err := ParseRole(roleS)
		if err != nil {
			return nil, fmt.Errorf("AUTH_TOKENS entry %d: %w", i+1, err)
		}
		a.tokens[sha256.Sum256([]byte(tok))] = User{Name: name, Role: role, Method: MethodToken}
	}
	return a, nil
}

// Authenticate returns the request's user.
func (a *Authenticator) Authenticate(r *http.Request) (User, error) {
	if a.proxyHeader != "" {
		if name := strings.TrimSpace(r.Header.Get(a.proxyHeader)); name != "" {
			if !a.fromProxy(r) {
				// A forged identity is refused outright rather than falling back to
				// a bearer token: whoever sent it is not the proxy. No header values
				// are logged: neither the secret nor the claimed name.
				slog.Warn("auth: identity header without a valid proxy secret; request refused",
					"header", a.proxyHeader, "secret_header", HeaderProxySecret,
					"secret_present", r.Header.Get(HeaderProxySecret) != "",
					"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
				return User{}, ErrUnauthenticated
			}
			role := RoleViewer
			if rs := r.Header.Get(a.proxyRoleHeader); rs != "" {
				var err error
				if role, err = ParseRole(rs); err != nil {
					return User{}, ErrUnauthenticated
				}
			}
			return User{Name: name, Role: role, Method: MethodProxy}, nil
		}
	}
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return User{}, ErrUnauthenticated
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	for k, u := range a.tokens {
		if subtle.ConstantTimeCompare(k[:], sum[:]) == 1 {
			return u, nil
		}
	}
	return User{}, ErrUnauthenticated
}

// fromProxy reports whether r carries the proxy secret (always true when none is configured).
// Both sides are hashed so the comparison takes the same time whatever the length.
func (a *Authenticator) fromProxy(r *http.Request) bool {
	if a.proxySecret == nil {
		return true
	}
	got := r.Header.Get(HeaderProxySecret)
	if got == "" {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], a.proxySecret) == 1
}

type ctxKey struct{}

// WithUser stores the user in ctx.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// FromContext returns the request's user.
func FromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

// Actor names who acts: the user's name, or "system" for internal work.
func Actor(ctx context.Context) string {
	if u, ok := FromContext(ctx); ok && u.Name != "" {
		return u.Name
	}
	return "system"
}
