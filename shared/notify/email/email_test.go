package email_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/email"
	"github.com/elasticpool/elasticpool/shared/notify/email/smtptest"
	"github.com/elasticpool/elasticpool/shared/notify/notifytest"
)

const password = "pw-Zq8!hunter2-secret"

func mailer(t *testing.T, srv *smtptest.Server, mode string, mutate ...func(*email.Config)) *email.Mailer {
	t.Helper()
	cfg := email.Config{
		Host: srv.Host, Port: srv.Port, From: "elasticpool <ep@example.com>", TLS: mode,
		Auth: "auto", Timeout: 5 * time.Second,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	m, err := email.New(cfg, email.WithTLSConfig(srv.ClientTLS()))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func withAuth(user, pass string) func(*email.Config) {
	return func(c *email.Config) { c.Username, c.Password = user, pass }
}

func TestDeliveredAndParsed(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		auth     bool
		authType string
	}{
		{"plain, no auth", email.TLSNone, false, "auto"},
		// auto never sends a password in clear text; plain over none must be asked for
		{"plain with auth", email.TLSNone, true, "plain"},
		{"starttls with auth", email.TLSStartTLS, true, "auto"},
		{"implicit tls with auth", email.TLSImplicit, true, "auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := smtptest.Options{TLS: tt.mode}
			var mut []func(*email.Config)
			if tt.auth {
				opts.Username, opts.Password = "ep-bot", password
				mut = append(mut, withAuth("ep-bot", password), func(c *email.Config) { c.Auth = tt.authType })
			}
			srv := smtptest.Start(t, opts)
			m := mailer(t, srv, tt.mode, mut...)
			msg := notifytest.Message()
			msg.Title = "[elasticpool] Order EP-1 créé: 3 devices" // non-ASCII exercises RFC 2047
			retry, err := m.Notify(context.Background(), "alice@example.com", msg)
			if err != nil {
				t.Fatalf("got err %v (retry %v)", err, retry)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("got %d mails, want 1", len(got))
			}
			r := got[0]
			if r.Subject != msg.Title {
				t.Errorf("got subject %q, want %q", r.Subject, msg.Title)
			}
			if len(r.To) != 1 || r.To[0] != "alice@example.com" || r.Header.Get("To") != "<alice@example.com>" {
				t.Errorf("got recipients %v / To %q, want alice@example.com", r.To, r.Header.Get("To"))
			}
			if r.From != "ep@example.com" {
				t.Errorf("got envelope from %q", r.From)
			}
			if !strings.Contains(r.Text, msg.Link) || !strings.Contains(r.HTML, "<p>A pool_entry order was created.</p>") {
				t.Errorf("bodies: text %q html %q", r.Text, r.HTML)
			}
			if got := r.Header.Get("X-Elasticpool-Event-Id"); got != msg.EventID {
				t.Errorf("got event id header %q", got)
			}
			if tt.auth && r.AuthUser != "ep-bot" {
				t.Errorf("got auth user %q, want ep-bot", r.AuthUser)
			}
		})
	}
}

func TestStableMessageID(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := mailer(t, srv, email.TLSNone)
	for i := 0; i < 2; i++ {
		if _, err := m.Notify(context.Background(), "alice@example.com", notifytest.Message()); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.Messages()
	if a, b := got[0].Header.Get("Message-Id"), got[1].Header.Get("Message-Id"); a == "" || a != b {
		t.Fatalf("got Message-Ids %q and %q, want equal for the same event and recipient", a, b)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T) (*email.Mailer, string)
		wantRetry bool
	}{
		{"server down", func(t *testing.T) (*email.Mailer, string) {
			srv := smtptest.Start(t, smtptest.Options{})
			m := mailer(t, srv, email.TLSNone, withAuth("u", password))
			srv.Stop()
			return m, "alice@example.com"
		}, true},
		{"mailbox unavailable (550)", func(t *testing.T) (*email.Mailer, string) {
			srv := smtptest.Start(t, smtptest.Options{})
			srv.FailRcpt(func(string) error {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			})
			return mailer(t, srv, email.TLSNone), "nobody@example.com"
		}, false},
		{"greylisted (451)", func(t *testing.T) (*email.Mailer, string) {
			srv := smtptest.Start(t, smtptest.Options{})
			srv.FailRcpt(func(string) error {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "try again later"}
			})
			return mailer(t, srv, email.TLSNone), "alice@example.com"
		}, true},
		{"bad address", func(t *testing.T) (*email.Mailer, string) {
			srv := smtptest.Start(t, smtptest.Options{})
			return mailer(t, srv, email.TLSNone), "not an address"
		}, false},
		{"wrong password echoed by the server", func(t *testing.T) (*email.Mailer, string) {
			srv := smtptest.Start(t, smtptest.Options{Username: "u", Password: "other-password", EchoPasswordOnAuthFailure: true})
			return mailer(t, srv, email.TLSNone, withAuth("u", password), func(c *email.Config) { c.Auth = "plain" }), "alice@example.com"
		}, false},
		{"starttls required, server has none", func(t *testing.T) (*email.Mailer, string) {
			srv := smtptest.Start(t, smtptest.Options{})
			return mailer(t, srv, email.TLSStartTLS), "alice@example.com"
		}, false},
		{"untrusted certificate", func(t *testing.T) (*email.Mailer, string) {
			srv := smtptest.Start(t, smtptest.Options{TLS: email.TLSImplicit})
			m, err := email.New(email.Config{Host: srv.Host, Port: srv.Port, From: "ep@example.com", TLS: email.TLSImplicit, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			return m, "alice@example.com"
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, to := tt.setup(t)
			retry, err := m.Notify(context.Background(), to, notifytest.Message())
			if err == nil {
				t.Fatal("got no error")
			}
			if retry != tt.wantRetry {
				t.Fatalf("got retry %v, want %v (err %v)", retry, tt.wantRetry, err)
			}
			t.Logf("error: %v", err)
			notifytest.NoSecret(t, err, password)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := email.Config{Host: "smtp.example.com", Port: 587, From: "ep@example.com", TLS: "starttls", Auth: "auto", Timeout: time.Second}
	tests := []struct {
		name    string
		mutate  func(*email.Config)
		wantErr string
	}{
		{"valid", func(*email.Config) {}, ""},
		{"bad tls", func(c *email.Config) { c.TLS = "ssl" }, "SMTP_TLS"},
		{"bad port", func(c *email.Config) { c.Port = 0 }, "SMTP_PORT"},
		{"bad from", func(c *email.Config) { c.From = "nope" }, "SMTP_FROM"},
		{"bad auth", func(c *email.Config) { c.Auth = "kerberos" }, "SMTP_AUTH"},
		{"bad timeout", func(c *email.Config) { c.Timeout = 0 }, "SMTP_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.Password = password
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want valid", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error naming %s", err, tt.wantErr)
			}
			notifytest.NoSecret(t, err, password)
		})
	}
	if _, err := email.New(email.Config{}); err == nil {
		t.Fatal("New without SMTP_HOST: got nil error")
	}
}

var _ notify.Notifier = (*email.Mailer)(nil)
