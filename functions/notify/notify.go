// Package notify is the CloudEvent sink that tells people about orders,
// inventory shortages and maintenance (seed §5.4, the notification steps of
// §3.2–3.4): it looks up who is on duty, routes each event to channels and
// recipients (email, webhooks, in-app), and records every attempt in
// notification_log. Delivery is at least once upstream and exactly once per
// (event, channel, recipient) here, as far as the channel allows: a row is
// claimed before sending and a redelivered event only re-attempts rows that
// were not sent. See docs/notify.md.
package notify

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/inapp"
	"github.com/elasticpool/elasticpool/shared/notify/roster"
	"github.com/elasticpool/elasticpool/shared/notify/route"
)

// Deps are what the function needs; Build makes them from configuration.
type Deps struct {
	DB *pgxpool.Pool
	// Email is the email channel; nil means SMTP is not configured and email
	// deliveries are logged as failed with that reason.
	Email notify.Notifier
	// Webhooks by name.
	Webhooks map[string]notify.Notifier
	// InApp defaults to the notifications table of DB.
	InApp notify.Notifier
	// Roster defaults to the duty_roster table of DB.
	Roster roster.Source
	// Routes defaults to the on-duty people by email and in-app, plus every webhook.
	Routes *route.Table
	// UIBaseURL prefixes links to the workbench (UI_BASE_URL).
	UIBaseURL string
	// Location is TIMEZONE (duty weeks, times in messages).
	Location *time.Location
	// Language of every text (NOTIFY_LANGUAGE); empty means DefaultLanguage.
	// Build validates it; New falls back to the default on an unknown value.
	Language Language
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log defaults to slog.Default().
	Log   *slog.Logger
	Retry Retry
	// Secrets are scrubbed from every error and log line (defence in depth:
	// channels already keep them out).
	Secrets []string
}

// Retry bounds what one handling of an event does before it hands the rest
// to the broker's redelivery.
type Retry struct {
	// Attempts per delivery per handling (default 3).
	Attempts int
	// Backoff is the wait after the first failed attempt, doubled after each (default 1s).
	Backoff time.Duration
	// ClaimTTL: a 'pending' row older than this is an attempt that crashed
	// and may be claimed again (default 2m; keep it above Attempts × channel timeout).
	ClaimTTL time.Duration
	// Parallel deliveries per event (default 4).
	Parallel int
}

// Function is the notification sink.
type Function struct {
	db       *pgxpool.Pool
	email    notify.Notifier
	webhooks map[string]notify.Notifier
	inapp    notify.Notifier
	roster   roster.Source
	routes   *route.Table
	uiBase   string
	loc      *time.Location
	now      func() time.Time
	log      *slog.Logger
	retry    Retry
	secrets  []string
	cat      *catalog
	text     *texttemplate.Template
	html     *htmltemplate.Template
}

//go:embed templates/*.tmpl
var templates embed.FS

// funcs of the layouts; t renders a catalog text (an error for a missing
// one fails the render, and the tests render every event in every language).
func funcs(c *catalog) map[string]any {
	return map[string]any{"join": strings.Join, "t": func(key string) (string, error) { return c.text(key, nil) }}
}

// New builds the function.
func New(d Deps) *Function {
	f := &Function{db: d.DB, email: d.Email, webhooks: d.Webhooks, inapp: d.InApp, roster: d.Roster, routes: d.Routes,
		uiBase: strings.TrimRight(d.UIBaseURL, "/"), loc: d.Location, now: d.Now, log: d.Log, retry: d.Retry, secrets: d.Secrets}
	if f.loc == nil {
		f.loc = time.UTC
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	if f.inapp == nil {
		f.inapp = inapp.New(d.DB)
	}
	if f.roster == nil {
		f.roster = roster.NewLocal(d.DB, f.loc)
	}
	if f.routes == nil {
		var extra []route.Target
		for _, name := range sortedKeys(f.webhooks) {
			extra = append(extra, route.Target{Channel: notify.ChannelWebhook, To: name})
		}
		f.routes = route.Default(extra...)
	}
	if f.retry.Attempts <= 0 {
		f.retry.Attempts = 3
	}
	if f.retry.Backoff <= 0 {
		f.retry.Backoff = time.Second
	}
	if f.retry.ClaimTTL <= 0 {
		f.retry.ClaimTTL = 2 * time.Minute
	}
	if f.retry.Parallel <= 0 {
		f.retry.Parallel = 4
	}
	lang := d.Language
	if lang == "" {
		lang = DefaultLanguage
	}
	if _, err := ParseLanguage(string(lang)); err != nil {
		f.log.Error("notify: unknown language; writing in the default", "language", string(lang), "default", string(DefaultLanguage))
		lang = DefaultLanguage
	}
	// The templates are embedded and parsed in tests: a parse error is a build defect.
	cat, err := loadCatalog(lang)
	if err != nil {
		panic(err)
	}
	f.cat = cat
	f.text = texttemplate.Must(texttemplate.New("").Funcs(funcs(cat)).ParseFS(templates, "templates/message.txt.tmpl"))
	f.html = htmltemplate.Must(htmltemplate.New("").Funcs(funcs(cat)).ParseFS(templates, "templates/message.html.tmpl"))
	return f
}

// Handle is the CloudEvent handler. It answers nil when every delivery is
// sent or permanently failed (both logged), Malformed (400) for an event it
// cannot read, and Retryable (503) while a delivery can still succeed, so the
// broker redelivers and only the unsent deliveries are attempted again.
func (f *Function) Handle(ctx context.Context, e cloudevents.Event) error {
	s, err := f.describe(ctx, e)
	if err != nil {
		if events.IsPermanent(err) {
			return err
		}
		return events.Retryable(fmt.Errorf("notify %s: %v", e.ID(), f.scrub(err.Error())))
	}
	if s == nil {
		f.log.DebugContext(ctx, "notify: event type not handled", "id", e.ID(), "type", e.Type())
		return nil
	}
	targets := f.routes.Resolve(s.facts)
	if len(targets) == 0 {
		f.log.InfoContext(ctx, "notify: no route sends this event anywhere", "id", s.id, "type", s.ceType)
		return nil
	}
	var duty roster.Duty
	for _, t := range targets {
		if t.OnDuty {
			if duty, err = f.roster.OnDuty(ctx, s.at); err != nil {
				return events.Retryable(fmt.Errorf("notify %s: on-duty lookup: %v", s.id, f.scrub(err.Error())))
			}
			if duty.CarriedOver() {
				f.log.WarnContext(ctx, "notify: nobody is on the roster for this week; the last week's people carry over",
					"week", duty.Week.Format(time.DateOnly), "from", duty.WeekStart.Format(time.DateOnly))
			}
			break
		}
	}
	msg, err := f.render(s, duty.People)
	if err != nil {
		return events.Retryable(fmt.Errorf("notify %s: render: %v", s.id, err))
	}
	ds := f.deliveries(targets, duty, msg)
	outcomes := f.deliverAll(ctx, s, ds, msg)
	var pending []string
	for i, o := range outcomes {
		if o == failedRetry || o == busy {
			pending = append(pending, ds[i].channel+":"+ds[i].recipient+" ("+o.String()+")")
		}
	}
	if len(pending) > 0 {
		return events.Retryable(fmt.Errorf("notify %s: %d of %d deliveries not done yet: %s", s.id, len(pending), len(ds), strings.Join(pending, ", ")))
	}
	return nil
}

// view is what the templates see.
type view struct {
	Title, Summary, Link, Severity, Kind, EventID, Time, Lang string
	Facts                                                     []notify.Fact
	OnDuty                                                    []string
}

func (f *Function) render(s *subject, onDuty []notify.Person) (notify.Message, error) {
	v := view{Title: s.title, Summary: s.summary, Link: s.link, Severity: s.severity, Kind: s.facts.Event, EventID: s.id,
		Time: s.at.In(f.loc).Format("2006-01-02 15:04 MST"), Lang: string(f.cat.lang), Facts: s.details}
	for _, p := range onDuty {
		v.OnDuty = append(v.OnDuty, p.Person)
	}
	var labels notify.Labels
	var err error
	if labels.Open, err = f.cat.text("label.open", nil); err != nil {
		return notify.Message{}, err
	}
	if labels.OnDuty, err = f.cat.text("label.onDuty", nil); err != nil {
		return notify.Message{}, err
	}
	var text, html bytes.Buffer
	if err := f.text.ExecuteTemplate(&text, "message.txt.tmpl", v); err != nil {
		return notify.Message{}, err
	}
	if err := f.html.ExecuteTemplate(&html, "message.html.tmpl", v); err != nil {
		return notify.Message{}, err
	}
	return notify.Message{EventID: s.id, EventType: s.ceType, Kind: s.facts.Event, Severity: s.severity, Title: s.title,
		Text: strings.TrimSpace(text.String()) + "\n", HTML: html.String(), Link: s.link, Facts: s.details, OnDuty: onDuty,
		Data: s.data, Time: s.at, Labels: labels}, nil
}

// delivery is one (channel, recipient) of an event.
type delivery struct {
	channel, recipient string
	notifier           notify.Notifier
	// cannot, when set, is why this delivery cannot be attempted; it is
	// recorded as a permanent failure so the gap is visible in the log.
	cannot string
}

func (f *Function) deliveries(targets []route.Target, duty roster.Duty, msg notify.Message) []delivery {
	var out []delivery
	seen := map[[2]string]bool{}
	add := func(d delivery) {
		k := [2]string{d.channel, d.recipient}
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	channel := func(c string) (notify.Notifier, string) {
		if c == notify.ChannelEmail {
			if f.email == nil {
				return nil, "the email channel is not configured (SMTP_HOST is empty)"
			}
			return f.email, ""
		}
		return f.inapp, ""
	}
	for _, t := range targets {
		switch {
		case t.OnDuty:
			n, cannot := channel(t.Channel)
			if len(duty.People) == 0 {
				add(delivery{channel: t.Channel, recipient: "(nobody on duty)", cannot: fmt.Sprintf(
					"nobody is on duty for the week of %s: fill the duty roster", duty.Week.Format(time.DateOnly))})
				continue
			}
			for _, p := range duty.People {
				switch {
				case t.Channel == notify.ChannelEmail && p.Email == "":
					add(delivery{channel: t.Channel, recipient: "person:" + p.Person, cannot: p.Person + " has no email address in the duty roster"})
				case t.Channel == notify.ChannelEmail:
					add(delivery{channel: t.Channel, recipient: p.Email, notifier: n, cannot: cannot})
				default:
					add(delivery{channel: t.Channel, recipient: p.Person, notifier: n, cannot: cannot})
				}
			}
		case t.Channel == notify.ChannelWebhook:
			n, ok := f.webhooks[t.To]
			if !ok {
				add(delivery{channel: t.Channel, recipient: t.To, cannot: "no webhook named " + t.To})
				continue
			}
			add(delivery{channel: t.Channel, recipient: t.To, notifier: n})
		default:
			n, cannot := channel(t.Channel)
			add(delivery{channel: t.Channel, recipient: t.To, notifier: n, cannot: cannot})
		}
	}
	return out
}

func (f *Function) scrub(s string) string { return notify.Scrub(s, f.secrets...) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
