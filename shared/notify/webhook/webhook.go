// Package webhook posts notifications to HTTP endpoints in one of five
// formats: generic JSON (optionally HMAC-signed), Slack-compatible incoming
// webhooks, and the DingTalk, Feishu/Lark and WeCom group robots (with the
// DingTalk and Feishu signing schemes).
//
// The formats share one package because they share everything but the body
// and the signature: the HTTP call, the retry verdict (notify.RetryableStatus),
// and the care that a URL carrying a token never reaches an error message.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/elasticpool/elasticpool/shared/notify"
)

// Formats.
const (
	Generic  = "generic"
	Slack    = "slack"
	DingTalk = "dingtalk"
	Feishu   = "feishu"
	WeCom    = "wecom"
)

// Formats lists every supported format.
var Formats = []string{Generic, Slack, DingTalk, Feishu, WeCom}

// Config is one webhook. URL, Secret and Header values are secrets: robot
// URLs carry their access token.
type Config struct {
	// Name identifies the webhook in routes and in notification_log.recipient.
	Name   string `json:"name"`
	Format string `json:"format,omitempty"` // empty: inferred from the URL's host
	URL    string `json:"url"`
	// Secret signs requests: DingTalk and Feishu "sign" security settings, or
	// the generic format's X-Elasticpool-Signature HMAC.
	Secret string `json:"secret,omitempty"`
	// Headers are extra request headers (e.g. Authorization for a generic receiver).
	Headers map[string]string `json:"headers,omitempty"`
}

// InferFormat guesses the format from a robot URL's host; anything else is generic.
func InferFormat(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Generic
	}
	h := strings.ToLower(u.Hostname())
	switch {
	case h == "hooks.slack.com":
		return Slack
	case h == "oapi.dingtalk.com":
		return DingTalk
	case h == "open.feishu.cn" || h == "open.larksuite.com":
		return Feishu
	case h == "qyapi.weixin.qq.com":
		return WeCom
	}
	return Generic
}

// Validate checks a webhook's settings without printing its URL.
func (c *Config) Validate() error {
	if c.Format == "" {
		c.Format = InferFormat(c.URL)
	}
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("webhook: name is empty"))
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("webhook %s: url must be an absolute http(s) URL", c.Name))
	}
	ok := false
	for _, f := range Formats {
		ok = ok || f == c.Format
	}
	if !ok {
		errs = append(errs, fmt.Errorf("webhook %s: format %q: want one of %s", c.Name, c.Format, strings.Join(Formats, ", ")))
	}
	return errors.Join(errs...)
}

// Webhook is one configured endpoint.
type Webhook struct {
	cfg     Config
	client  *http.Client
	now     func() time.Time
	secrets []string
	where   string // scheme://host, safe to print
}

var _ notify.Notifier = (*Webhook)(nil)

// Option adjusts a Webhook.
type Option func(*Webhook)

// WithHTTPClient replaces the default client (10 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(w *Webhook) { w.client = c } }

// WithClock sets the clock used for signature timestamps.
func WithClock(now func() time.Time) Option { return func(w *Webhook) { w.now = now } }

// New validates cfg and returns the webhook.
func New(cfg Config, opts ...Option) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Webhook{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
	for _, o := range opts {
		o(w)
	}
	u, _ := url.Parse(cfg.URL)
	w.where = u.Scheme + "://" + u.Host
	// Every piece of the URL that may be a token, longest first so a whole
	// URL is redacted before its parts are.
	w.secrets = []string{cfg.URL, u.RawQuery, u.EscapedPath(), u.Path, cfg.Secret}
	for _, vs := range u.Query() {
		w.secrets = append(w.secrets, vs...)
	}
	for _, v := range cfg.Headers {
		w.secrets = append(w.secrets, v)
	}
	return w, nil
}

// Name is the webhook's name.
func (w *Webhook) Name() string { return w.cfg.Name }

// Format is the webhook's format.
func (w *Webhook) Format() string { return w.cfg.Format }

// request is what a format produces: where to post, what, with which headers.
type request struct {
	url     string
	body    []byte
	headers map[string]string
}

// Notify posts m; to is ignored (the webhook is its own recipient).
func (w *Webhook) Notify(ctx context.Context, _ string, m notify.Message) (bool, error) {
	var (
		req request
		err error
	)
	now := w.now()
	switch w.cfg.Format {
	case Slack:
		req, err = slackRequest(w.cfg, m)
	case DingTalk:
		req, err = dingTalkRequest(w.cfg, m, now)
	case Feishu:
		req, err = feishuRequest(w.cfg, m, now)
	case WeCom:
		req, err = weComRequest(w.cfg, m)
	default:
		req, err = genericRequest(w.cfg, m, now)
	}
	if err != nil {
		return false, w.errorf(err, "build request: %v", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.url, bytes.NewReader(req.body))
	if err != nil {
		return false, w.errorf(err, "build request: %v", err)
	}
	hr.Header.Set("Content-Type", "application/json; charset=utf-8")
	hr.Header.Set("User-Agent", "elasticpool-notify/1")
	for k, v := range req.headers {
		hr.Header.Set(k, v)
	}
	for k, v := range w.cfg.Headers {
		hr.Header.Set(k, v)
	}
	resp, err := w.client.Do(hr)
	if err != nil {
		// *url.Error prints the full URL; keep only its cause.
		cause := err
		var ue *url.Error
		if errors.As(err, &ue) {
			cause = ue.Err
		}
		return true, w.errorf(err, "POST: %v", cause)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return notify.RetryableStatus(resp.StatusCode), w.errorf(nil, "HTTP %d: %s", resp.StatusCode, snippet(body))
	}
	switch w.cfg.Format {
	case DingTalk:
		return dingTalkResult(body, w)
	case Feishu:
		return feishuResult(body, w)
	case WeCom:
		return weComResult(body, w)
	}
	return false, nil
}

func (w *Webhook) errorf(cause error, format string, args ...any) error {
	prefix := fmt.Sprintf("webhook %s (%s, %s): ", w.cfg.Name, w.cfg.Format, w.where)
	return notify.Errorf(cause, w.secrets, prefix+format, args...)
}

// snippet is the start of a response body, on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
