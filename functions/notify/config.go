package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/email"
	"github.com/elasticpool/elasticpool/shared/notify/roster"
	"github.com/elasticpool/elasticpool/shared/notify/route"
	"github.com/elasticpool/elasticpool/shared/notify/webhook"
)

// Config is everything the notify function reads from the environment.
type Config struct {
	config.Base
	DB       config.Database
	UI       config.UI
	SMTP     email.Config
	Roster   roster.ProviderConfig
	Webhooks WebhookEnv
	Notify   Settings
}

// WebhookEnv defines webhooks without a routes file: WEBHOOK_URLS is
// "name=url,name2=url2"; the format is inferred from the host (Slack,
// DingTalk, Feishu/Lark, WeCom, else generic) unless WEBHOOK_FORMATS names
// it; WEBHOOK_SECRETS holds signing secrets. Every webhook defined here is
// added to the default route.
type WebhookEnv struct {
	URLs    map[string]string `env:"WEBHOOK_URLS, separator==" json:"-"`
	Formats map[string]string `env:"WEBHOOK_FORMATS, separator=="`
	Secrets map[string]string `env:"WEBHOOK_SECRETS, separator==" json:"-"`
	Timeout time.Duration     `env:"WEBHOOK_TIMEOUT, default=10s"`
}

// Settings of routing and retries.
type Settings struct {
	// Routes is the path of a YAML or JSON routes file (docs/notify.md);
	// empty: everything goes to the on-duty people by email and in-app, plus
	// the WEBHOOK_URLS webhooks.
	Routes        string        `env:"NOTIFY_ROUTES"`
	RetryAttempts int           `env:"NOTIFY_RETRY_ATTEMPTS, default=3"`
	RetryBackoff  time.Duration `env:"NOTIFY_RETRY_BACKOFF, default=1s"`
	ClaimTTL      time.Duration `env:"NOTIFY_CLAIM_TTL, default=2m"`
	// Language of every notification text: zh-CN (default, as the UI) or en-US.
	Language string `env:"NOTIFY_LANGUAGE, default=zh-CN"`
}

// Build turns configuration into Deps: it fails fast on anything that would
// make every delivery fail (bad SMTP settings, a routes file naming an
// unknown webhook, an unset ${VAR}). lookup resolves ${VAR} in the routes
// file (os.LookupEnv in production).
func Build(ctx context.Context, cfg Config, db *pgxpool.Pool, lookup func(string) (string, bool), log *slog.Logger) (Deps, error) {
	if log == nil {
		log = slog.Default()
	}
	loc, err := cfg.Location()
	if err != nil {
		return Deps{}, err
	}
	lang, err := ParseLanguage(cfg.Notify.Language)
	if err != nil {
		return Deps{}, err
	}
	d := Deps{DB: db, UIBaseURL: cfg.UI.BaseURL, Location: loc, Language: lang, Log: log, Webhooks: map[string]notify.Notifier{},
		Retry: Retry{Attempts: cfg.Notify.RetryAttempts, Backoff: cfg.Notify.RetryBackoff, ClaimTTL: cfg.Notify.ClaimTTL}}
	if u, err := url.Parse(cfg.UI.BaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		return Deps{}, fmt.Errorf("UI_BASE_URL %q: want an absolute URL (links in notifications point there)", cfg.UI.BaseURL)
	}

	if cfg.SMTP.Enabled() {
		m, err := email.New(cfg.SMTP)
		if err != nil {
			return Deps{}, err
		}
		d.Email = m
		d.Secrets = append(d.Secrets, cfg.SMTP.Password)
	} else {
		log.WarnContext(ctx, "notify: SMTP_HOST is empty; email deliveries will be logged as failed")
	}

	var whs []webhook.Config
	for _, name := range sortedKeys(cfg.Webhooks.URLs) {
		whs = append(whs, webhook.Config{Name: name, URL: cfg.Webhooks.URLs[name], Format: cfg.Webhooks.Formats[name], Secret: cfg.Webhooks.Secrets[name]})
	}
	for name := range cfg.Webhooks.Formats {
		if _, ok := cfg.Webhooks.URLs[name]; !ok {
			return Deps{}, fmt.Errorf("WEBHOOK_FORMATS names %q, which WEBHOOK_URLS does not define", name)
		}
	}
	for name := range cfg.Webhooks.Secrets {
		if _, ok := cfg.Webhooks.URLs[name]; !ok {
			return Deps{}, fmt.Errorf("WEBHOOK_SECRETS names %q, which WEBHOOK_URLS does not define", name)
		}
	}
	envHooks := len(whs)
	var file *route.File
	if cfg.Notify.Routes != "" {
		b, err := os.ReadFile(cfg.Notify.Routes)
		if err != nil {
			return Deps{}, fmt.Errorf("NOTIFY_ROUTES: %w", err)
		}
		if file, err = route.ParseFile(b, lookup); err != nil {
			return Deps{}, fmt.Errorf("NOTIFY_ROUTES %s: %w", cfg.Notify.Routes, err)
		}
		whs = append(whs, file.Webhooks...)
	}
	client := &http.Client{Timeout: cfg.Webhooks.Timeout}
	var errs []error
	for _, c := range whs {
		d.Secrets = append(d.Secrets, c.URL, c.Secret)
		for _, v := range c.Headers {
			d.Secrets = append(d.Secrets, v)
		}
		if _, dup := d.Webhooks[c.Name]; dup {
			errs = append(errs, fmt.Errorf("webhook %q is defined twice", c.Name))
			continue
		}
		w, err := webhook.New(c, webhook.WithHTTPClient(client))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.Webhooks[c.Name] = w
	}
	if len(errs) > 0 {
		return Deps{}, notify.Errorf(nil, d.Secrets, "%v", errors.Join(errs...))
	}

	if file != nil {
		if d.Routes, err = file.Compile(func(n string) bool { _, ok := d.Webhooks[n]; return ok }); err != nil {
			return Deps{}, fmt.Errorf("NOTIFY_ROUTES %s: %w", cfg.Notify.Routes, err)
		}
	} else {
		var extra []route.Target
		for _, c := range whs[:envHooks] {
			extra = append(extra, route.Target{Channel: notify.ChannelWebhook, To: c.Name})
		}
		d.Routes = route.Default(extra...)
	}

	local := roster.NewLocal(db, loc)
	d.Roster = local
	if cfg.Roster.URL != "" {
		p, err := roster.NewProvider(cfg.Roster, &http.Client{}, loc)
		if err != nil {
			return Deps{}, err
		}
		d.Roster = &roster.Fallback{Primary: p, Secondary: local, Log: log}
		d.Secrets = append(d.Secrets, cfg.Roster.Token, cfg.Roster.URL)
	}
	return d, nil
}

// Load reads Config from the environment.
func Load(ctx context.Context) (Config, error) {
	var cfg Config
	err := config.Load(ctx, &cfg)
	return cfg, err
}
