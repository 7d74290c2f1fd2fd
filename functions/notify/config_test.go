package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/sethvargo/go-envconfig"

	"github.com/elasticpool/elasticpool/functions/notify"
	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/events"
	sharednotify "github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/email"
	"github.com/elasticpool/elasticpool/shared/notify/notifytest"
	"github.com/elasticpool/elasticpool/shared/notify/roster"
	"github.com/elasticpool/elasticpool/shared/pgtest"
)

func loadConfig(t *testing.T, env map[string]string) notify.Config {
	t.Helper()
	var cfg notify.Config
	if err := config.LoadFrom(context.Background(), &cfg, envconfig.MapLookuper(env)); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t, nil)
	if cfg.SMTP.Port != 587 || cfg.SMTP.TLS != "starttls" || cfg.SMTP.Auth != "auto" || cfg.SMTP.Timeout.String() != "10s" ||
		cfg.SMTP.From != "elasticpool@localhost" || cfg.Notify.RetryAttempts != 3 || cfg.Notify.RetryBackoff.String() != "1s" ||
		cfg.Notify.ClaimTTL.String() != "2m0s" || cfg.Roster.Timeout.String() != "3s" || cfg.Webhooks.Timeout.String() != "10s" ||
		cfg.UI.BaseURL != "http://localhost:8080" || cfg.Notify.Language != "zh-CN" {
		t.Fatalf("got %+v", cfg)
	}
	// Secrets never travel in the config's JSON (e.g. a debug dump).
	b, _ := json.Marshal(loadConfig(t, map[string]string{"SMTP_PASSWORD": smtpPassword, "ROSTER_TOKEN": hookToken,
		"WEBHOOK_URLS": "a=https://x.example/h?k=" + hookToken, "WEBHOOK_SECRETS": "a=" + hookSecret}))
	notifytest.NoSecretIn(t, "config JSON", string(b), smtpPassword, hookToken, hookSecret)
}

// Routing from configuration: a routes file with webhooks whose URL and
// secret come from the environment, env-defined webhooks, and routes per
// action, cluster and pool type.
func TestRoutesFromConfiguration(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ding := newHook(t, `{"errcode":0,"errmsg":"ok"}`)
	generic := newHook(t, `ok`)
	routes := `
webhooks:
  - name: gpu-ding
    format: dingtalk
    url: ${GPU_DING_URL}
    secret: ${GPU_DING_SECRET}
default: [onduty:email, onduty:inapp]
routes:
  - name: gpu pools go to the GPU team's DingTalk group too
    match: {poolTypes: [gpu]}
    to: [webhook:gpu-ding]
    continue: true
  - name: exits in production are in-app only
    match: {actions: [pool_exit], clusters: ["*-prod-*"]}
    to: [onduty:inapp]
  - name: everything else also reaches the ops webhook
    match: {events: ["*"]}
    to: [onduty:email, onduty:inapp, webhook:ops]
`
	path := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(path, []byte(routes), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TIMEZONE": "Asia/Shanghai", "UI_BASE_URL": uiBase,
		"SMTP_HOST": fx.smtp.Host, "SMTP_PORT": fmt.Sprint(fx.smtp.Port), "SMTP_USERNAME": "ep-bot", "SMTP_PASSWORD": smtpPassword,
		"SMTP_TLS": "starttls", "SMTP_FROM": "elasticpool <ep@example.com>",
		"WEBHOOK_URLS":         "ops=" + generic.URL + "/hook?token=" + hookToken,
		"WEBHOOK_SECRETS":      "ops=" + hookSecret,
		"NOTIFY_ROUTES":        path,
		"NOTIFY_RETRY_BACKOFF": "5ms",
		"GPU_DING_URL":         ding.URL + "/robot/send?access_token=" + hookToken,
		"GPU_DING_SECRET":      hookSecret,
	}
	cfg := loadConfig(t, env)
	d, err := notify.Build(context.Background(), cfg, fx.db, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The test SMTP server's certificate is self-signed: trust it explicitly.
	cfg.SMTP.Timeout = 3 * time.Second
	m, err := email.New(cfg.SMTP, email.WithTLSConfig(fx.smtp.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	d.Email = m
	d.Log = slog.New(slog.NewTextHandler(fx.logs, nil))
	f := notify.New(d)

	ctx := context.Background()
	var exitOrder int64
	if err := fx.db.QueryRow(ctx, `INSERT INTO elastic_scaling_orders (order_number, cluster_id, pool_id, action_type, device_count)
		VALUES ('EP-20261129-000002', $1, $2, 'pool_exit', 1) RETURNING id`, fx.cluster, fx.pool).Scan(&exitOrder); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		e    cloudevents.Event
		want []string // notification_log channel:recipient
	}{
		{"general pool entry: default-ish route with the ops webhook", fx.orderCreated(t, "r1"),
			[]string{"email:alice@example.com", "inapp:alice", "webhook:ops"}},
		{"gpu shortage: GPU DingTalk group, then the catch-all", event(t, "r2", events.TypeInventoryShortage, events.InventoryShortage{
			ClusterID: fx.cluster, PoolID: fx.gpuPool, Action: "pool_entry", Needed: 2}),
			[]string{"email:alice@example.com", "inapp:alice", "webhook:gpu-ding", "webhook:ops"}},
		{"production exit: in-app only", event(t, "r3", events.TypeOrderCreated, events.OrderCreated{OrderID: exitOrder, Action: "pool_exit", DeviceCount: 1}),
			[]string{"inapp:alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.Handle(ctx, tt.e); err != nil {
				t.Fatal(err)
			}
			var got []string
			for k, r := range fx.logRows(t, tt.e.ID()) {
				if r.Status != "sent" {
					t.Errorf("%s: %+v", k, r)
				}
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got deliveries %v, want %v", got, tt.want)
			}
		})
	}
	if ding.count() != 1 || generic.count() != 2 {
		t.Fatalf("got %d DingTalk and %d generic calls, want 1 and 2", ding.count(), generic.count())
	}
	if !strings.Contains(ding.bodies[0], "sign=") || !strings.Contains(ding.bodies[0], "access_token="+hookToken) {
		t.Fatalf("DingTalk call not signed: %s", ding.bodies[0])
	}
	notifytest.NoSecretIn(t, "log", fx.logs.String(), smtpPassword, hookToken, hookSecret)
}

func TestBuildRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	db := pgtest.NewPool(t)
	writeRoutes := func(doc string) string {
		p := filepath.Join(t.TempDir(), "routes.yaml")
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"bad SMTP_TLS", map[string]string{"SMTP_HOST": "smtp.example.com", "SMTP_TLS": "ssl", "SMTP_PASSWORD": smtpPassword}, "SMTP_TLS"},
		{"unknown webhook in a route", map[string]string{"NOTIFY_ROUTES": writeRoutes("default: [webhook:nope]")}, `no webhook named "nope"`},
		{"unset variable in the routes file", map[string]string{"NOTIFY_ROUTES": writeRoutes("webhooks: [{name: a, url: '${NOT_SET}'}]")}, "NOT_SET"},
		{"missing routes file", map[string]string{"NOTIFY_ROUTES": "/nonexistent/routes.yaml"}, "NOTIFY_ROUTES"},
		{"secret for an undefined webhook", map[string]string{"WEBHOOK_SECRETS": "ghost=" + hookSecret}, `"ghost"`},
		{"bad webhook URL", map[string]string{"WEBHOOK_URLS": "a=ftp://x.example/" + hookToken}, "absolute http(s) URL"},
		{"duplicate webhook", map[string]string{"WEBHOOK_URLS": "a=https://x.example/" + hookToken,
			"NOTIFY_ROUTES": writeRoutes("webhooks: [{name: a, url: 'https://y.example/h'}]")}, "defined twice"},
		{"bad ROSTER_URL", map[string]string{"ROSTER_URL": "oncall", "ROSTER_TOKEN": hookToken}, "ROSTER_URL"},
		{"bad UI_BASE_URL", map[string]string{"UI_BASE_URL": "/ui"}, "UI_BASE_URL"},
		{"unknown NOTIFY_LANGUAGE", map[string]string{"NOTIFY_LANGUAGE": "fr-FR"}, "NOTIFY_LANGUAGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadConfig(t, tt.env)
			_, err := notify.Build(context.Background(), cfg, db, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok },
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error naming %s", err, tt.wantErr)
			}
			notifytest.NoSecret(t, err, smtpPassword, hookToken, hookSecret)
		})
	}
	for env, want := range map[string]notify.Language{"": notify.LanguageZhCN, "en-US": notify.LanguageEnUS, "zh-CN": notify.LanguageZhCN} {
		m := map[string]string{}
		if env != "" {
			m["NOTIFY_LANGUAGE"] = env
		}
		d, err := notify.Build(context.Background(), loadConfig(t, m), db, func(string) (string, bool) { return "", false },
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil || d.Language != want {
			t.Errorf("NOTIFY_LANGUAGE=%q: got %q, %v; want %q", env, d.Language, err, want)
		}
	}
}

// With ROSTER_URL set, the provider decides who is on duty; when it fails the
// local roster does.
func TestRosterProviderThroughBuild(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	var fail atomic.Bool
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() || r.Header.Get("Authorization") != "Bearer "+hookToken {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(roster.ProviderResponse{OnDuty: []sharednotify.Person{{Person: "remote-rae"}}})
	}))
	defer provider.Close()
	env := map[string]string{"TIMEZONE": "Asia/Shanghai", "UI_BASE_URL": uiBase, "ROSTER_URL": provider.URL + "/oncall", "ROSTER_TOKEN": hookToken}
	d, err := notify.Build(context.Background(), loadConfig(t, env), fx.db, func(string) (string, bool) { return "", false }, slog.New(slog.NewTextHandler(fx.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f := notify.New(d)
	if err := f.Handle(context.Background(), fx.orderCreated(t, "p1")); err != nil {
		t.Fatal(err)
	}
	fail.Store(true)
	if err := f.Handle(context.Background(), fx.orderCreated(t, "p2")); err != nil {
		t.Fatal(err)
	}
	if _, ok := fx.logRows(t, "p1")["inapp:remote-rae"]; !ok {
		t.Fatalf("p1: got %v, want the provider's person", fx.logRows(t, "p1"))
	}
	if _, ok := fx.logRows(t, "p2")["inapp:alice"]; !ok {
		t.Fatalf("p2: got %v, want the local roster's person", fx.logRows(t, "p2"))
	}
	if !strings.Contains(fx.logs.String(), "using the local roster") {
		t.Fatal("the fallback is not logged")
	}
	notifytest.NoSecretIn(t, "log", fx.logs.String(), hookToken)
}
