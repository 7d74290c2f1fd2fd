// Package maintenance is the function external systems (and people in the
// workbench) use to take a device out for maintenance and bring it back
// (seed §3.7 and §5.3, DESIGN §7): request → confirm (the device is cordoned
// for maintenance) → complete (an uncordon order brings it back), or cancel
// while pending. It serves an HTTP API under /api/v1/maintenance/ and a
// CloudEvents ingress (binary and structured mode) for the same steps; both
// authenticate every call (HMAC signature or bearer token for systems, the
// user's bearer token for people). The contract is docs/maintenance.md.
package maintenance

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi"
)

// Version is reported in the OpenAPI document.
const Version = "1.0.0"

// Paths.
const (
	APIPrefix  = httpapi.Prefix + "/maintenance"
	EventsPath = "/events/maintenance" // the CloudEvents ingress, in both modes
)

// Deps are what the function needs; main builds them from configuration.
type Deps struct {
	DB *pgxpool.Pool
	// Auth resolves workbench users (AUTH_TOKENS / the auth proxy).
	Auth *auth.Authenticator
	// Systems are the external systems' secrets and tokens (Config.Credentials).
	Systems *Credentials
	// Emitter sends maintenance.* and order.created after commit; nil emits nothing.
	Emitter events.Emitter
	// Location dates order numbers (TIMEZONE); nil means UTC.
	Location *time.Location
	// Now is the clock (signature windows, order numbers); nil means time.Now.
	Now func() time.Time
}

// Function serves maintenance requests.
type Function struct {
	db        *pgxpool.Pool
	auth      *auth.Authenticator
	creds     *Credentials
	emitter   events.Emitter
	loc       *time.Location
	now       func() time.Time
	api       huma.API
	mux       *http.ServeMux
	ce        http.Handler
	lastPrune atomic.Int64
}

// New builds the function and registers its routes.
func New(d Deps) *Function {
	f := &Function{db: d.DB, auth: d.Auth, creds: d.Systems, emitter: d.Emitter, loc: d.Location, now: d.Now}
	if f.now == nil {
		f.now = time.Now
	}
	if f.loc == nil {
		f.loc = time.UTC
	}
	if f.creds == nil {
		f.creds = &Credentials{window: 5 * time.Minute} // no external system configured
	}
	if f.auth == nil {
		f.auth, _ = auth.New("", "", "") // no users: every user token is refused
	}
	f.buildAPI()
	h, err := events.Handler(context.Background(), f.Handle)
	if err != nil {
		// Only a broken sdk-go build fails here: nothing to recover from.
		panic("maintenance: CloudEvents handler: " + err.Error())
	}
	f.ce = h
	return f
}

// Routes is the HTTP API (mounted at /api/v1/maintenance/), with its OpenAPI
// document also at /api/v1/maintenance/openapi.json.
func (f *Function) Routes() http.Handler { return f.mux }

// API exposes the huma API (tests read its OpenAPI document).
func (f *Function) API() huma.API { return f.api }

// Events is the CloudEvents ingress for external systems (EventsPath): it
// authenticates the call like the HTTP API, then hands the event, binary or
// structured, to Handle. It is never a Broker subscriber (docs/maintenance.md).
func (f *Function) Events() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST a CloudEvent", http.StatusMethodNotAllowed)
			return
		}
		c, rj := f.authenticate(r)
		if rj == nil && c.System == "" {
			rj = reject(http.StatusForbidden, "the CloudEvents ingress is for external systems; people use the HTTP API", "user on the CloudEvents ingress")
			rj.system = c.User.Name
		}
		if rj != nil {
			logRejected(r.Context(), r, rj)
			if rj.status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="elasticpool-maintenance"`)
			}
			http.Error(w, rj.public, rj.status)
			return
		}
		f.ce.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), c)))
	})
}
