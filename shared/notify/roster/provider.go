package roster

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/elasticpool/elasticpool/shared/notify"
)

// ProviderConfig is the external roster provider (optional).
type ProviderConfig struct {
	// URL is called as GET <URL>?at=<RFC3339>; empty disables the provider.
	URL string `env:"ROSTER_URL"`
	// Token, when set, is sent as "Authorization: Bearer <token>".
	Token   string        `env:"ROSTER_TOKEN" json:"-"`
	Timeout time.Duration `env:"ROSTER_TIMEOUT, default=3s"`
}

// ProviderResponse is the JSON a provider answers (200, application/json):
//
//	{"onDuty": [{"person": "alice", "email": "alice@example.com", "phone": "+8613800000000", "chatId": "U123"}]}
//
// person is the app user name (for in-app notifications); email is needed for
// mail, phone and chatId for chat mentions.
type ProviderResponse struct {
	OnDuty []notify.Person `json:"onDuty"`
}

// Provider is the HTTP roster.
type Provider struct {
	cfg    ProviderConfig
	client *http.Client
	loc    *time.Location
}

var _ Source = (*Provider)(nil)

// NewProvider returns the HTTP roster; loc is only used to report the week.
func NewProvider(cfg ProviderConfig, client *http.Client, loc *time.Location) (*Provider, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("ROSTER_URL must be an absolute http(s) URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if client == nil {
		client = &http.Client{}
	}
	return &Provider{cfg: cfg, client: client, loc: loc}, nil
}

// OnDuty asks the provider. An error, a non-200 answer, a malformed body or an
// empty list is a failure (Fallback then asks the local roster).
func (p *Provider) OnDuty(ctx context.Context, at time.Time) (Duty, error) {
	d := Duty{At: at, Week: WeekStart(at, p.loc), Source: "provider"}
	d.WeekStart = d.Week
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	u, _ := url.Parse(p.cfg.URL)
	q := u.Query()
	q.Set("at", at.Format(time.RFC3339))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return d, p.errorf("build request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if p.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+p.cfg.Token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text holds the full URL
		}
		return d, p.errorf("%v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return d, p.errorf("HTTP %d", resp.StatusCode)
	}
	var r ProviderResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return d, p.errorf("bad JSON: %v", err)
	}
	for i, person := range r.OnDuty {
		if person.Person == "" {
			return d, p.errorf("onDuty[%d].person is empty", i)
		}
	}
	if len(r.OnDuty) == 0 {
		return d, p.errorf("nobody on duty")
	}
	d.People = r.OnDuty
	return d, nil
}

func (p *Provider) errorf(format string, args ...any) error {
	u, _ := url.Parse(p.cfg.URL)
	where := u.Scheme + "://" + u.Host
	return notify.Errorf(nil, []string{p.cfg.Token, p.cfg.URL, u.RawQuery}, "roster provider %s: "+format, append([]any{where}, args...)...)
}
