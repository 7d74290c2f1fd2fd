package maintenance

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/config"
)

// The worked example of docs/maintenance.md (computed there with openssl),
// so the document and the code cannot drift.
func TestSignMatchesTheDocumentedExample(t *testing.T) {
	body := `{"hostname":"node-1","externalTicketId":"CHG-1001","reason":"replace disk 3"}`
	got := Sign([]byte("s3cr3t-shared-with-itsm-0123456789ab"), 1795946400, []byte(body))
	if want := "v1=bdf123889e0c0468ee7d1f753a7c1e0484d2ffc7161f8841c47fdd835803f28c"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	dev := e.device("node-1", "SN-1", "in_pool")
	body := mustJSON(t, RequestBody{DeviceID: dev, ExternalTicketID: "AUTH-1", Reason: "r"})
	now := e.now
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign([]byte(itsmSecret), now.Unix(), body)
	cases := []struct {
		name    string
		token   string
		headers []string
		status  int
		detail  string
	}{
		{"no credentials", "", nil, 401, "credentials required"},
		{"unknown bearer token", "nope", nil, 401, "credentials required"},
		{"bad signature", "", []string{HeaderSystem, "itsm", HeaderTimestamp, ts, HeaderSignature, "v1=" + strings.Repeat("ab", 32)}, 401, "bad signature"},
		{"signature of another body", "", []string{HeaderSystem, "itsm", HeaderTimestamp, ts, HeaderSignature, Sign([]byte(itsmSecret), now.Unix(), []byte("{}"))}, 401, "bad signature"},
		{"another system's secret", "", []string{HeaderSystem, "itsm", HeaderTimestamp, ts, HeaderSignature, Sign([]byte(cmdbSecret), now.Unix(), body)}, 401, "bad signature"},
		{"unknown system", "", []string{HeaderSystem, "ghost", HeaderTimestamp, ts, HeaderSignature, good}, 401, "unknown system or bad signature"},
		{"no signature", "", []string{HeaderSystem, "itsm", HeaderTimestamp, ts}, 401, "bad signature"},
		{"not unix seconds", "", []string{HeaderSystem, "itsm", HeaderTimestamp, now.Format(time.RFC3339), HeaderSignature, good}, 401, "Unix seconds"},
		{"expired timestamp", "", signedHeaders("itsm", itsmSecret, now.Add(-5*time.Minute-time.Second), body), 401, "outside the 5m0s replay window"},
		{"timestamp from the future", "", signedHeaders("itsm", itsmSecret, now.Add(6*time.Minute), body), 401, "replay window"},
		// A valid signature does not make a bad user token good, nor the reverse.
		{"signature wins over a user token", operatorToken, []string{HeaderSystem, "itsm", HeaderTimestamp, ts, HeaderSignature, "v1=00"}, 401, "bad signature"},
		{"viewer may not write", viewerToken, nil, 403, "needs role operator"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.state()
			r := e.anon.As(c.token).Do(http.MethodPost, APIPrefix+"/requests", body, c.headers...)
			if r.Status != c.status {
				t.Fatalf("got %d, want %d; %s", r.Status, c.status, r.Body)
			}
			if p := r.Problem(t); !strings.Contains(p.Detail, c.detail) {
				t.Fatalf("detail %q, want %q in it", p.Detail, c.detail)
			}
			if c.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if after := e.state(); after != before {
				t.Fatalf("a rejected call changed the state: %s → %s", before, after)
			}
		})
	}

	// Within the window (4 minutes old) the signature is good — once.
	old := now.Add(-4 * time.Minute)
	h := signedHeaders("itsm", itsmSecret, old, body)
	if r := e.anon.Do(http.MethodPost, APIPrefix+"/requests", body, h...); r.Status != http.StatusCreated {
		t.Fatalf("signed 4 minutes ago: %d %s", r.Status, r.Body)
	}
	before := e.state()
	r := e.anon.Do(http.MethodPost, APIPrefix+"/requests", body, h...)
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Problem(t).Detail, "already used") {
		t.Fatalf("replayed: got %d, want 401 already used; %s", r.Status, r.Body)
	}
	if after := e.state(); after != before {
		t.Fatalf("a replay changed the state: %s → %s", before, after)
	}
	// A captured signature cannot be moved to another endpoint either: the
	// empty body of one confirm signs the same as the empty body of a cancel.
	var id int64
	if err := e.db.QueryRow(context.Background(), `SELECT id FROM elastic_scaling_orders WHERE external_ticket_id = 'AUTH-1'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	empty := signedHeaders("itsm", itsmSecret, now, nil)
	if r := e.anon.Do(http.MethodPost, path(id, "confirm"), []byte{}, empty...); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if r := e.anon.Do(http.MethodPost, path(id, "cancel"), []byte{}, empty...); r.Status != http.StatusUnauthorized {
		t.Fatalf("the confirm's signature on cancel: got %d, want 401", r.Status)
	}

	// The old secret is still accepted while rotating; the bearer token too.
	e.tick()
	b2 := mustJSON(t, RequestBody{Hostname: "node-1", ExternalTicketID: "AUTH-1", Reason: "r"})
	if r := e.anon.Do(http.MethodPost, APIPrefix+"/requests", b2, signedHeaders("itsm", itsmOldSecret, e.now, b2)...); r.Status != http.StatusOK {
		t.Fatalf("old secret: %d %s", r.Status, r.Body)
	}
	if r := e.anon.As(itsmToken).Do(http.MethodGet, path(id, ""), nil); r.Status != http.StatusOK {
		t.Fatalf("bearer token: %d %s", r.Status, r.Body)
	}
	// Another system neither sees nor moves itsm's order.
	e.tick()
	if r := e.cmdb(http.MethodPost, path(id, "complete"), nil); r.Status != http.StatusNotFound {
		t.Fatalf("cmdb completing itsm's order: got %d, want 404", r.Status)
	}
}

func TestReplayStoreIsPruned(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.now = e.now.Add(time.Duration(i) * 11 * time.Minute) // past 2 × the window each time
		e.itsm(http.MethodGet, APIPrefix+"/requests", nil)
	}
	if n := e.count(`SELECT count(*) FROM maintenance_signatures`); n != 1 {
		t.Fatalf("%d signatures kept, want only the last one", n)
	}
}

func TestCredentials(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		systems []string
		err     string
	}{
		{"defaults", Config{Systems: "demo=" + DevSecret, Tokens: DevToken + "=demo", ReplayWindow: 5 * time.Minute}, []string{"demo"}, ""},
		{"several and rotation", Config{Systems: " itsm = a , itsm=b,cmdb=c ", Tokens: "t1=ops-bot", ReplayWindow: time.Minute}, []string{"cmdb", "itsm", "ops-bot"}, ""},
		{"empty", Config{ReplayWindow: time.Minute}, []string{}, ""},
		{"no secret", Config{Systems: "itsm=", ReplayWindow: time.Minute}, nil, "entry 1: want system=secret"},
		{"bad name", Config{Systems: "ITSM=sekrit-value", ReplayWindow: time.Minute}, nil, `system name "ITSM"`},
		{"reserved name", Config{Tokens: "t=workbench", ReplayWindow: time.Minute}, nil, "reserved"},
		{"token for two systems", Config{Tokens: "sekrit-token=a,sekrit-token=b", ReplayWindow: time.Minute}, nil, "the same token is given to a and b"},
		{"no window", Config{}, nil, "MAINTENANCE_REPLAY_WINDOW"},
		{"window too long", Config{ReplayWindow: 2 * time.Hour}, nil, "at most 1h"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cr, err := c.cfg.Credentials()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want an error with %q", err, c.err)
				}
				if strings.Contains(err.Error(), "sekrit") {
					t.Fatalf("the error shows a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cr.Systems(); strings.Join(got, ",") != strings.Join(c.systems, ",") {
				t.Fatalf("systems %v, want %v", got, c.systems)
			}
		})
	}
}

func TestCheckProduction(t *testing.T) {
	long := strings.Repeat("k", 32)
	prod := config.Base{Env: "production"}
	cases := []struct {
		name string
		base config.Base
		cfg  Config
		err  bool
	}{
		{"local accepts the defaults", config.Base{Env: "local"}, Config{Systems: "demo=" + DevSecret, Tokens: DevToken + "=demo"}, false},
		{"production refuses the default secret", prod, Config{Systems: "demo=" + DevSecret}, true},
		{"production refuses the default token", prod, Config{Tokens: DevToken + "=demo"}, true},
		{"production refuses a short secret", prod, Config{Systems: "itsm=tiny-secret"}, true},
		{"production refuses a local-only token", prod, Config{Tokens: long + "-local-only=itsm"}, true},
		{"production takes long secrets", prod, Config{Systems: "itsm=" + long, Tokens: long + "x=ops"}, false},
		{"production with no external system", prod, Config{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.CheckProduction(c.base)
			if (err != nil) != c.err {
				t.Fatalf("got %v, want error %v", err, c.err)
			}
			if err != nil && (strings.Contains(err.Error(), DevSecret) || strings.Contains(err.Error(), DevToken) ||
				strings.Contains(err.Error(), "tiny-secret") || strings.Contains(err.Error(), long)) {
				t.Fatalf("the error shows a secret: %v", err)
			}
		})
	}
}
