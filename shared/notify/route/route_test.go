package route_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/elasticpool/elasticpool/shared/notify/route"
)

const doc = `
webhooks:
  - name: ops-ding
    url: ${DING_URL}
    secret: ${DING_SECRET}
default: [onduty:email, onduty:inapp, webhook:ops-ding]
routes:
  - name: gpu pools also tell the GPU team
    match: {poolTypes: [gpu]}
    to: [email:gpu-team@example.com]
    continue: true
  - name: routine status changes stay in-app
    match:
      events: [order.status.changed]
      statuses: [processing, ignored, cancelled]
    to: [onduty:inapp]
  - name: production shortages page everyone
    match: {events: [inventory.shortage], clusters: ["*-prod-*"]}
    to: [onduty:email, onduty:inapp, webhook:ops-ding, inapp:capacity-owner]
  - name: maintenance goes to the hardware team
    match: {events: ["maintenance.*"]}
    to: [webhook:ops-ding, inapp:hw-team]
`

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func compile(t *testing.T) (*route.File, *route.Table) {
	t.Helper()
	f, err := route.ParseFile([]byte(doc), env(map[string]string{"DING_URL": "https://oapi.dingtalk.com/robot/send?access_token=t0k", "DING_SECRET": "SEC1"}))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := f.Compile(func(n string) bool { return n == "ops-ding" })
	if err != nil {
		t.Fatal(err)
	}
	return f, tbl
}

func TestParseExpandsEnv(t *testing.T) {
	f, _ := compile(t)
	if len(f.Webhooks) != 1 || f.Webhooks[0].URL != "https://oapi.dingtalk.com/robot/send?access_token=t0k" || f.Webhooks[0].Secret != "SEC1" {
		t.Fatalf("got webhooks %+v", f.Webhooks)
	}
}

func TestResolve(t *testing.T) {
	_, tbl := compile(t)
	tests := []struct {
		name  string
		facts route.Facts
		want  []string
	}{
		{"no route matches: default", route.Facts{Event: "order.created", Action: "pool_entry", Cluster: "bj-prod-1", Pool: "general", PoolType: "general"},
			[]string{"onduty:email", "onduty:inapp", "webhook:ops-ding"}},
		{"continue then the next match", route.Facts{Event: "inventory.shortage", Cluster: "bj-prod-1", PoolType: "gpu"},
			[]string{"email:gpu-team@example.com", "onduty:email", "onduty:inapp", "webhook:ops-ding", "inapp:capacity-owner"}},
		{"continue only: default is not added", route.Facts{Event: "order.created", PoolType: "gpu"},
			[]string{"email:gpu-team@example.com"}},
		{"status filter matches", route.Facts{Event: "order.status.changed", Status: "processing"}, []string{"onduty:inapp"}},
		{"status filter misses", route.Facts{Event: "order.status.changed", Status: "completed"},
			[]string{"onduty:email", "onduty:inapp", "webhook:ops-ding"}},
		{"cluster glob misses", route.Facts{Event: "inventory.shortage", Cluster: "bj-test-1"},
			[]string{"onduty:email", "onduty:inapp", "webhook:ops-ding"}},
		{"event glob", route.Facts{Event: "maintenance.completed", Action: "maintenance"}, []string{"webhook:ops-ding", "inapp:hw-team"}},
		{"an empty fact never matches a filter", route.Facts{Event: "inventory.shortage"},
			[]string{"onduty:email", "onduty:inapp", "webhook:ops-ding"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tg := range tbl.Resolve(tt.facts) {
				got = append(got, tg.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDefaultTable(t *testing.T) {
	var got []string
	for _, tg := range route.Default(route.Target{Channel: "webhook", To: "env-hook"}).Resolve(route.Facts{Event: "order.created"}) {
		got = append(got, tg.String())
	}
	if want := []string{"onduty:email", "onduty:inapp", "webhook:env-hook"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		env     map[string]string
		wantErr string
	}{
		{"unset variable", "webhooks: [{name: a, url: '${NOPE}'}]", nil, "unset environment variables: NOPE"},
		{"unknown field", "routs: []", nil, `unknown field "routs"`},
		{"not yaml", "routes: [", nil, "routes:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := route.ParseFile([]byte(tt.doc), env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"unknown webhook", "default: [webhook:nope]", `no webhook named "nope"`},
		{"bad target kind", "routes: [{to: [sms:123]}]", `unknown kind "sms"`},
		{"on-duty by webhook", "routes: [{to: [onduty:webhook]}]", "by email or inapp"},
		{"bad email", "routes: [{name: r, to: ['email:not an address']}]", "route r"},
		{"bad glob", "routes: [{match: {clusters: ['[']}, to: [onduty:email]}]", `bad pattern "["`},
		{"no colon", "default: [onduty]", "want onduty:email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := route.ParseFile([]byte(tt.doc), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Compile(func(string) bool { return false })
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestShortEvent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"io.elasticpool.order.created.v1", "order.created"},
		{"io.elasticpool.maintenance.requested.v12", "maintenance.requested"},
		{"io.elasticpool.order.v1x", "order.v1x"},
		{"dev.knative.sources.ping", "dev.knative.sources.ping"},
	}
	for _, tt := range tests {
		if got := route.ShortEvent(tt.in); got != tt.want {
			t.Errorf("ShortEvent(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
