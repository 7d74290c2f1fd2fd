package maintenance

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Headers of a signed request (docs/maintenance.md).
const (
	HeaderSystem    = "X-Elasticpool-System"
	HeaderTimestamp = "X-Elasticpool-Timestamp" // Unix seconds
	HeaderSignature = "X-Elasticpool-Signature" // v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
)

// Caller is who made a request: an external system (signed or with its
// bearer token) or a workbench user (a bearer token of AUTH_TOKENS, or the
// auth proxy's header).
type Caller struct {
	System string    // the external system; "" for a user
	User   auth.User // the user when System is ""
	Method string    // hmac, token or user
}

// Actor is what the audit log, createdBy and executor record.
func (c Caller) Actor() string {
	if c.System != "" {
		return "ext:" + c.System
	}
	return c.User.Name
}

// OrderSystem is the external_system of the orders the caller creates and
// may act on: its own name, or "workbench" for people (who may act on all).
func (c Caller) OrderSystem() string {
	if c.System != "" {
		return c.System
	}
	return WorkbenchSystem
}

type callerKey struct{}

// WithCaller returns ctx carrying c; Handle reads it.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the authenticated caller of ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok && (c.System != "" || c.User.Name != "")
}

// Sign is the X-Elasticpool-Signature value of body sent at unix time ts:
// "v1=" + hex(HMAC-SHA256(secret, "<ts>.<body>")).
func Sign(secret []byte, ts int64, body []byte) string {
	return "v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// rejection is a refused call: status (401, 403, 413, 503), what the caller
// is told, and what the log says (never a secret or a signature).
type rejection struct {
	status int
	public string
	log    string
	system string
}

func (r *rejection) Error() string { return r.public }

func reject(status int, public, log string) *rejection {
	return &rejection{status: status, public: public, log: log}
}

// authenticate finds the caller of r. A signed request (any X-Elasticpool-*
// header) is judged by its signature alone; otherwise the bearer token is an
// external system's (MAINTENANCE_TOKENS) or a user's (AUTH_TOKENS). A
// signed request's body is read (up to MaxBodyBytes) and put back for the
// handler.
func (f *Function) authenticate(r *http.Request) (Caller, *rejection) {
	if r.Header.Get(HeaderSignature) != "" || r.Header.Get(HeaderSystem) != "" || r.Header.Get(HeaderTimestamp) != "" {
		return f.verifySigned(r)
	}
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if system, ok := f.creds.tokens[sha256.Sum256([]byte(strings.TrimSpace(tok)))]; ok {
			return Caller{System: system, Method: "token"}, nil
		}
	}
	if f.auth != nil {
		if u, err := f.auth.Authenticate(r); err == nil {
			return Caller{User: u, Method: "user"}, nil
		}
	}
	return Caller{}, reject(http.StatusUnauthorized,
		"credentials required: sign the request (X-Elasticpool-System, -Timestamp, -Signature) or send a bearer token",
		"no or unknown credentials")
}

func (f *Function) verifySigned(r *http.Request) (Caller, *rejection) {
	system := strings.TrimSpace(r.Header.Get(HeaderSystem))
	fail := func(status int, public, log string) (Caller, *rejection) {
		rj := reject(status, public, log)
		rj.system = system
		return Caller{}, rj
	}
	secrets := f.creds.secrets[system]
	tsRaw := strings.TrimSpace(r.Header.Get(HeaderTimestamp))
	ts, err := strconv.ParseInt(tsRaw, 10, 64)
	if err != nil || tsRaw == "" {
		return fail(http.StatusUnauthorized, "signature rejected: "+HeaderTimestamp+" must be Unix seconds", "bad timestamp")
	}
	now := f.now()
	if skew := now.Sub(time.Unix(ts, 0)); skew > f.creds.window || skew < -f.creds.window {
		return fail(http.StatusUnauthorized,
			fmt.Sprintf("signature rejected: the timestamp is %s from the server's clock, outside the %s replay window; sign each attempt afresh",
				skew.Round(time.Second), f.creds.window),
			"timestamp outside the replay window")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, httpapi.MaxBodyBytes+1))
	if err != nil {
		return fail(http.StatusBadRequest, "could not read the body", "body read: "+err.Error())
	}
	if len(body) > httpapi.MaxBodyBytes {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", httpapi.MaxBodyBytes), "body too large")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var matched []byte
	for _, secret := range secrets { // several while a secret rotates
		want := mac(secret, ts, body)
		for _, part := range strings.Split(r.Header.Get(HeaderSignature), ",") {
			got, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
			if !ok {
				continue
			}
			if b, err := hex.DecodeString(got); err == nil && hmac.Equal(b, want) {
				matched = want
			}
		}
	}
	if matched == nil {
		// One answer for an unknown system and a wrong signature: the
		// answer does not tell which system names exist.
		reason := "bad signature"
		if len(secrets) == 0 {
			reason = "unknown system"
		}
		return fail(http.StatusUnauthorized, "signature rejected: unknown system or bad signature (HMAC-SHA256 of \"<timestamp>.<body>\")", reason)
	}
	first, err := f.rememberSignature(r.Context(), system, hex.EncodeToString(matched), time.Unix(ts, 0))
	if err != nil {
		return fail(http.StatusServiceUnavailable, "could not check the signature against replays; retry with a new signature", "replay store: "+err.Error())
	}
	if !first {
		return fail(http.StatusUnauthorized, "signature rejected: this signature was already used (replay); sign each request afresh", "replayed signature")
	}
	return Caller{System: system, Method: "hmac"}, nil
}

// rememberSignature records an accepted signature; false when it was
// already recorded (a replay). Expired rows are pruned now and then: their
// timestamps fail the window check before the table is consulted.
func (f *Function) rememberSignature(ctx context.Context, system, sig string, signedAt time.Time) (bool, error) {
	tag, err := f.db.Exec(ctx, `INSERT INTO maintenance_signatures (signature, system, signed_at) VALUES ($1, $2, $3)
		ON CONFLICT (signature) DO NOTHING`, sig, system, signedAt)
	if err != nil {
		return false, postgres.Translate(err)
	}
	now := f.now()
	if last := f.lastPrune.Load(); now.Unix()-last >= 60 && f.lastPrune.CompareAndSwap(last, now.Unix()) {
		if _, err := f.db.Exec(ctx, `DELETE FROM maintenance_signatures WHERE signed_at < $1`, now.Add(-2*f.creds.window)); err != nil {
			slog.WarnContext(ctx, "maintenance: prune replay store", "err", err)
		}
	}
	return tag.RowsAffected() == 1, nil
}

// logRejected logs a refused call; it changed nothing.
func logRejected(ctx context.Context, r *http.Request, rj *rejection) {
	slog.WarnContext(ctx, "maintenance: call rejected", "status", rj.status, "reason", rj.log, "caller", rj.system,
		"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "request_id", r.Header.Get("X-Request-Id"))
}
