package auth

import (
	"net/http/httptest"
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
