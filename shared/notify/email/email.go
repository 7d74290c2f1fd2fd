// Package email sends notifications over SMTP with github.com/wneessen/go-mail:
// STARTTLS (mandatory), implicit TLS or plain, with SMTP AUTH; each mail has a
// plain-text part and an HTML alternative.
package email

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/elasticpool/elasticpool/shared/notify"
)

// TLS modes of SMTP_TLS.
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS is required (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption (local relays, test servers)
)

// Config is the SMTP server. The email channel is off when Host is empty.
type Config struct {
	Host     string `env:"SMTP_HOST"`
	Port     int    `env:"SMTP_PORT, default=587"`
	Username string `env:"SMTP_USERNAME"`
	Password string `env:"SMTP_PASSWORD" json:"-"`
	// From is the sender, e.g. "elasticpool <elasticpool@example.com>".
	From string `env:"SMTP_FROM, default=elasticpool@localhost"`
	// TLS is starttls, tls or none.
	TLS string `env:"SMTP_TLS, default=starttls"`
	// Auth is auto (the strongest mechanism the server offers, when a user is
	// set), plain, login, cram-md5, scram-sha-256 or none.
	Auth string `env:"SMTP_AUTH, default=auto"`
	// Timeout bounds one whole delivery (connect, TLS, auth, send).
	Timeout time.Duration `env:"SMTP_TIMEOUT, default=10s"`
	// InsecureSkipVerify accepts any server certificate. For lab relays only.
	InsecureSkipVerify bool `env:"SMTP_TLS_INSECURE_SKIP_VERIFY, default=false"`
	// HELO is the name sent in EHLO; empty means this host's name.
	HELO string `env:"SMTP_HELO"`
}

// Enabled reports whether an SMTP server is configured.
func (c Config) Enabled() bool { return c.Host != "" }

// Validate checks the settings that would fail every delivery.
func (c Config) Validate() error {
	var errs []error
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("SMTP_TLS %q: want starttls, tls or none", c.TLS))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("SMTP_PORT %d: out of range", c.Port))
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("SMTP_FROM %q: %v", c.From, err))
	}
	if _, err := c.authType(); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("SMTP_TIMEOUT %s: must be positive", c.Timeout))
	}
	return errors.Join(errs...)
}

func (c Config) authType() (gomail.SMTPAuthType, error) {
	noEnc := c.TLS == TLSNone // the operator chose a plain connection; honour it for PLAIN/LOGIN
	switch strings.ToLower(c.Auth) {
	case "", "auto":
		if c.Username == "" {
			return gomail.SMTPAuthNoAuth, nil
		}
		return gomail.SMTPAuthAutoDiscover, nil
	case "none":
		return gomail.SMTPAuthNoAuth, nil
	case "plain":
		if noEnc {
			return gomail.SMTPAuthPlainNoEnc, nil
		}
		return gomail.SMTPAuthPlain, nil
	case "login":
		if noEnc {
			return gomail.SMTPAuthLoginNoEnc, nil
		}
		return gomail.SMTPAuthLogin, nil
	case "cram-md5":
		return gomail.SMTPAuthCramMD5, nil
	case "scram-sha-256":
		return gomail.SMTPAuthSCRAMSHA256, nil
	}
	return "", fmt.Errorf("SMTP_AUTH %q: want auto, plain, login, cram-md5, scram-sha-256 or none", c.Auth)
}

// Mailer is the email channel.
type Mailer struct {
	cfg     Config
	tls     *tls.Config
	now     func() time.Time
	secrets []string
}

var _ notify.Notifier = (*Mailer)(nil)

// Option adjusts a Mailer.
type Option func(*Mailer)

// WithTLSConfig replaces the TLS client settings (tests trust their own CA with it).
func WithTLSConfig(c *tls.Config) Option { return func(m *Mailer) { m.tls = c } }

// WithClock sets the Date header's clock.
func WithClock(now func() time.Time) Option { return func(m *Mailer) { m.now = now } }

// New checks cfg and returns the channel.
func New(cfg Config, opts ...Option) (*Mailer, error) {
	if !cfg.Enabled() {
		return nil, errors.New("email: SMTP_HOST is empty")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	m := &Mailer{cfg: cfg, now: time.Now}
	m.tls = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in, documented
	for _, o := range opts {
		o(m)
	}
	if m.tls.ServerName == "" {
		m.tls.ServerName = cfg.Host
	}
	// Everything that could carry the password on the wire (PLAIN and LOGIN send
	// it base64-encoded), so a server echoing it back never reaches a log.
	if cfg.Password != "" {
		m.secrets = []string{
			cfg.Password,
			base64.StdEncoding.EncodeToString([]byte(cfg.Password)),
			base64.StdEncoding.EncodeToString([]byte("\x00" + cfg.Username + "\x00" + cfg.Password)),
		}
	}
	return m, nil
}

// Notify sends m to the address to.
func (m *Mailer) Notify(ctx context.Context, to string, msg notify.Message) (bool, error) {
	addr, err := mail.ParseAddress(to)
	if err != nil {
		return false, notify.Errorf(err, m.secrets, "email: bad recipient address %q: %v", to, err)
	}
	mm, err := m.message(addr.Address, msg)
	if err != nil {
		return false, notify.Errorf(err, m.secrets, "email: build message: %v", err)
	}
	client, err := m.client()
	if err != nil {
		return false, notify.Errorf(err, m.secrets, "email: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, mm); err != nil {
		return retryable(err), notify.Errorf(err, m.secrets, "email to %s via %s:%d: %v", addr.Address, m.cfg.Host, m.cfg.Port, err)
	}
	return false, nil
}

func (m *Mailer) client() (*gomail.Client, error) {
	auth, err := m.cfg.authType()
	if err != nil {
		return nil, err
	}
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(m.cfg.Timeout),
		gomail.WithTLSConfig(m.tls),
	}
	switch m.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if auth != gomail.SMTPAuthNoAuth {
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	if m.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(m.cfg.HELO))
	}
	return gomail.NewClient(m.cfg.Host, opts...)
}

func (m *Mailer) message(to string, msg notify.Message) (*gomail.Msg, error) {
	mm := gomail.NewMsg()
	if err := mm.From(m.cfg.From); err != nil {
		return nil, err
	}
	if err := mm.To(to); err != nil {
		return nil, err
	}
	mm.Subject(msg.Title)
	mm.SetDateWithValue(m.now())
	// A stable Message-ID per (event, recipient): if a crash makes us send twice,
	// mail clients and archives can still fold the copies together.
	sum := sha256.Sum256([]byte(msg.EventID + "\x00" + to))
	mm.SetMessageIDWithValue(hex.EncodeToString(sum[:16]) + "@elasticpool")
	if msg.EventID != "" {
		mm.SetGenHeader("X-Elasticpool-Event-Id", msg.EventID)
	}
	if msg.Kind != "" {
		mm.SetGenHeader("X-Elasticpool-Event", msg.Kind)
	}
	mm.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	mm.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		mm.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}
	return mm, nil
}

// retryable classifies a delivery error: SMTP 4xx replies, network failures
// and timeouts may pass later; 5xx replies (bad address, rejected sender,
// failed authentication), certificate problems and a server without the
// required STARTTLS will not.
func retryable(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code >= 500 {
			return false
		} else if code >= 400 {
			return true
		}
		return se.IsTemp() || !isPermanentText(se.Error())
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code < 500
	}
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return !isPermanentText(err.Error())
}

// isPermanentText catches go-mail errors that carry no code: configuration
// mismatches that no retry can fix.
func isPermanentText(s string) bool {
	for _, p := range []string{"does not support STARTTLS", "does not support SMTP AUTH", "not able to detect a supported", "unencrypted connection"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
