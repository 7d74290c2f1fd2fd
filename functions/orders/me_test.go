package orders

import (
	"net/http"
	"strings"
	"testing"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/httpapi/apitest"
)

// /me touches neither Postgres nor Redis, so the function is built without them.
func TestMe(t *testing.T) {
	f := New(Deps{Auth: mustAuth()})
	c := apitest.New(t, f.Routes(), f.API(), "", coverage)
	tests := []struct {
		name  string
		token string
		want  Me
	}{
		{"viewer", viewerToken, Me{Subject: "victor", Role: "viewer", AuthMethod: "token"}},
		{"operator", operatorToken, Me{Subject: "oscar", Role: "operator", AuthMethod: "token"}},
		{"admin", adminToken, Me{Subject: "alice", Role: "admin", AuthMethod: "token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.As(tt.token).Must(http.StatusOK, "GET", "/api/v1/me", nil)
			var got Me
			r.JSON(t, &got)
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if strings.Contains(string(r.Body), tt.token) {
				t.Fatalf("body %s carries the token", r.Body)
			}
		})
	}
}

func TestMeUnauthenticated(t *testing.T) {
	f := New(Deps{Auth: mustAuth()})
	c := apitest.New(t, f.Routes(), f.API(), "", coverage)
	for _, tt := range []struct{ name, token string }{{"no token", ""}, {"unknown token", "expired-or-wrong"}} {
		t.Run(tt.name, func(t *testing.T) {
			r := c.As(tt.token).Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil)
			if p := r.Problem(t); p.Status != http.StatusUnauthorized {
				t.Fatalf("got problem %+v", p)
			}
			if got := r.Header.Get("WWW-Authenticate"); got == "" {
				t.Fatal("got no WWW-Authenticate header")
			}
		})
	}
}

func TestMeProxy(t *testing.T) {
	a, err := auth.New(adminToken+"=alice:admin", "X-Forwarded-User", "X-Auth-Role")
	if err != nil {
		t.Fatal(err)
	}
	f := New(Deps{Auth: a})
	c := apitest.New(t, f.Routes(), f.API(), "", coverage)
	tests := []struct {
		name    string
		headers []string
		want    Me
	}{
		{"default viewer", []string{"X-Forwarded-User", "carol"}, Me{Subject: "carol", Role: "viewer", AuthMethod: "proxy"}},
		{"operator", []string{"X-Forwarded-User", "dan", "X-Auth-Role", "operator"}, Me{Subject: "dan", Role: "operator", AuthMethod: "proxy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Me
			c.Must(http.StatusOK, "GET", "/api/v1/me", nil, tt.headers...).JSON(t, &got)
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	// a token still works beside the proxy
	var got Me
	c.As(adminToken).Must(http.StatusOK, "GET", "/api/v1/me", nil).JSON(t, &got)
	if want := (Me{Subject: "alice", Role: "admin", AuthMethod: "token"}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	c.Must(http.StatusUnauthorized, "GET", "/api/v1/me", nil, "X-Forwarded-User", "eve", "X-Auth-Role", "root")
}
