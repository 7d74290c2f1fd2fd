// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on a
// free loopback port for tests: plain, STARTTLS or implicit TLS with a
// throw-away certificate, optional AUTH, injectable failures, and every
// received mail parsed (subject, recipients, text and HTML parts).
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a test server.
type Options struct {
	// TLS is "none" (default), "starttls" or "tls" (implicit).
	TLS string
	// Username and Password, when set, make AUTH PLAIN mandatory.
	Username, Password string
	// EchoPasswordOnAuthFailure makes a failed AUTH reply quote the password it
	// received, like a badly written server: the client must scrub it.
	EchoPasswordOnAuthFailure bool
}

// Received is one delivered mail.
type Received struct {
	From     string
	To       []string
	AuthUser string
	Raw      []byte
	Header   mail.Header
	Subject  string
	Text     string
	HTML     string
}

// Server is a running test server.
type Server struct {
	Host string
	Port int

	opts Options
	cert tls.Certificate
	pool *x509.CertPool
	mu   sync.Mutex
	msgs []Received
	rcpt func(to string) error
	ln   net.Listener
	srv  *smtp.Server
}

// Start listens on a free loopback port; the server stops at cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{Host: "127.0.0.1", opts: opts}
	if err := s.makeCert(); err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	if err := s.listen(0); err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// ClientTLS is a client TLS config that trusts this server's certificate.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// FailRcpt makes RCPT TO answer err (e.g. &smtp.SMTPError{Code: 550, ...}) for
// every recipient while fn returns it; nil fn accepts everyone.
func (s *Server) FailRcpt(fn func(to string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcpt = fn
}

// Messages returns the mails received so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Stop closes the listener and every connection: the server is "down".
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	if ln != nil {
		_ = ln.Close() // Close may run before Serve has registered the listener
	}
}

// Restart serves again on the same port (after Stop).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment after Close
		if err = s.listen(s.Port); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("smtptest: restart on port %d: %v", s.Port, err)
}

func (s *Server) listen(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort(s.Host, fmt.Sprint(port)))
	if err != nil {
		return err
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	srv.Domain = "smtptest.local"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
	switch s.opts.TLS {
	case "starttls":
		srv.TLSConfig = tlsCfg
	case "tls":
		ln = tls.NewListener(ln, tlsCfg)
	default:
		srv.AllowInsecureAuth = true
	}
	s.mu.Lock()
	s.ln, s.srv = ln, srv
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

type session struct {
	s      *Server
	from   string
	to     []string
	authed string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if username == ss.s.opts.Username && password == ss.s.opts.Password {
			ss.authed = username
			return nil
		}
		msg := "Authentication failed"
		if ss.s.opts.EchoPasswordOnAuthFailure {
			msg += " for password " + password
		}
		return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: msg}
	}
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && ss.authed == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	fn := ss.s.rcpt
	ss.s.mu.Unlock()
	if fn != nil {
		if err := fn(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparsable message: " + err.Error()}
	}
	rec.From, rec.To, rec.AuthUser = ss.from, ss.to, ss.authed
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, rec)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parse reads a MIME mail into its subject and text/HTML bodies.
func parse(raw []byte) (Received, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, err
	}
	rec := Received{Raw: raw, Header: m.Header}
	dec := new(mime.WordDecoder)
	if rec.Subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		return Received{}, fmt.Errorf("subject: %w", err)
	}
	err = walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, &rec)
	return rec, err
}

func walk(contentType, encoding string, body io.Reader, rec *Received) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart() // raw: we decode the transfer encoding ourselves
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, rec); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64Reader(body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n") // bodies as written, not as transported
	switch mt {
	case "text/plain":
		rec.Text += text
	case "text/html":
		rec.HTML += text
	}
	return nil
}

func (s *Server) makeCert() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	s.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	s.pool = x509.NewCertPool()
	s.pool.AddCert(leaf)
	return nil
}
