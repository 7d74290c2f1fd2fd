package auth

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAuthenticate(t *testing.T) {
	a, err := New("t1=alice:admin, t2=bob:viewer", "X-Forwarded-User", "X-Auth-Role")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		headers  map[string]string
		wantUser string
		wantRole Role
		wantErr  bool
	}{
		{"bearer admin", map[string]string{"Authorization": "Bearer t1"}, "alice", RoleAdmin, false},
		{"bearer lowercase scheme", map[string]string{"Authorization": "bearer t2"}, "bob", RoleViewer, false},
		{"unknown token", map[string]string{"Authorization": "Bearer nope"}, "", RoleNone, true},
		{"no header", nil, "", RoleNone, true},
		{"basic scheme", map[string]string{"Authorization": "Basic t1"}, "", RoleNone, true},
		{"proxy default viewer", map[string]string{"X-Forwarded-User": "carol"}, "carol", RoleViewer, false},
		{"proxy with role", map[string]string{"X-Forwarded-User": "dan", "X-Auth-Role": "operator"}, "dan", RoleOperator, false},
		{"proxy bad role", map[string]string{"X-Forwarded-User": "eve", "X-Auth-Role": "root"}, "", RoleNone, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			u, err := a.Authenticate(r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got err %v, want err %v", err, tt.wantErr)
			}
			if u.Name != tt.wantUser || u.Role != tt.wantRole {
				t.Fatalf("got %s/%v, want %s/%v", u.Name, u.Role, tt.wantUser, tt.wantRole)
			}
		})
	}
}

func TestNewRejectsMalformedTokens(t *testing.T) {
	for _, in := range []string{"tok", "tok=user", "=u:admin", "t=u:root"} {
		if _, err := New(in, "", ""); err == nil {
			t.Errorf("New(%q): got nil error", in)
		}
	}
}

func TestAuthenticateProxySecret(t *testing.T) {
	const secret = "s3cret-of-the-proxy-0123456789abcdef"
	a, err := New("t1=alice:admin", "X-Forwarded-User", "X-Auth-Role", ProxySecret(secret))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		headers    map[string]string
		wantUser   string
		wantRole   Role
		wantMethod string
		wantErr    bool
	}{
		{"right secret: proxy user and role", map[string]string{"X-Forwarded-User": "carol", "X-Auth-Role": "admin", HeaderProxySecret: secret},
			"carol", RoleAdmin, MethodProxy, false},
		{"right secret, no role: viewer", map[string]string{"X-Forwarded-User": "carol", HeaderProxySecret: secret},
			"carol", RoleViewer, MethodProxy, false},
		{"missing secret", map[string]string{"X-Forwarded-User": "mallory", "X-Auth-Role": "admin"}, "", RoleNone, "", true},
		{"wrong secret", map[string]string{"X-Forwarded-User": "mallory", "X-Auth-Role": "admin", HeaderProxySecret: "guess"}, "", RoleNone, "", true},
		{"secret as a prefix", map[string]string{"X-Forwarded-User": "mallory", HeaderProxySecret: secret[:10]}, "", RoleNone, "", true},
		{"secret with extra", map[string]string{"X-Forwarded-User": "mallory", HeaderProxySecret: secret + "x"}, "", RoleNone, "", true},
		// A forged identity is refused even next to a valid token: the sender is not the proxy.
		{"forged identity with a bearer token", map[string]string{"X-Forwarded-User": "mallory", "Authorization": "Bearer t1"}, "", RoleNone, "", true},
		{"bearer token unaffected", map[string]string{"Authorization": "Bearer t1"}, "alice", RoleAdmin, MethodToken, false},
		{"bearer token with the secret", map[string]string{"Authorization": "Bearer t1", HeaderProxySecret: secret}, "alice", RoleAdmin, MethodToken, false},
		{"unknown bearer token", map[string]string{"Authorization": "Bearer nope"}, "", RoleNone, "", true},
		{"secret alone names no one", map[string]string{HeaderProxySecret: secret}, "", RoleNone, "", true},
		{"right secret, bad role", map[string]string{"X-Forwarded-User": "eve", "X-Auth-Role": "root", HeaderProxySecret: secret}, "", RoleNone, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			u, err := a.Authenticate(r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got err %v, want err %v", err, tt.wantErr)
			}
			if u.Name != tt.wantUser || u.Role != tt.wantRole || u.Method != tt.wantMethod {
				t.Fatalf("got %s/%v/%q, want %s/%v/%q", u.Name, u.Role, u.Method, tt.wantUser, tt.wantRole, tt.wantMethod)
			}
		})
	}
}

// A refused forged identity is logged as a warning that carries neither the
// secret the client sent nor the name it claimed.
func TestProxySecretRefusalLog(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	a, err := New("", "X-Forwarded-User", "X-Auth-Role", ProxySecret("the-real-secret"))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api/v1/me", nil)
	r.Header.Set("X-Forwarded-User", "claimed-admin-name")
	r.Header.Set("X-Auth-Role", "admin")
	r.Header.Set(HeaderProxySecret, "a-guessed-secret")
	if _, err := a.Authenticate(r); err == nil {
		t.Fatal("got a user, want ErrUnauthenticated")
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "X-Forwarded-User") {
		t.Errorf("got log %q, want a warning naming the header", out)
	}
	for _, leak := range []string{"a-guessed-secret", "the-real-secret", "claimed-admin-name"} {
		if strings.Contains(out, leak) {
			t.Errorf("log %q contains %q", out, leak)
		}
	}
}
