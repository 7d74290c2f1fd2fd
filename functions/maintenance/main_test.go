package maintenance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi/apitest"
	"github.com/elasticpool/elasticpool/shared/pgtest"
)

// Credentials of the test callers.
const (
	operatorToken = "test-operator" // oscar, operator
	viewerToken   = "test-viewer"   // victor, viewer
	itsmSecret    = "itsm-secret-for-tests-0123456789abcdef"
	itsmOldSecret = "itsm-old-secret-still-accepted-while-rotating"
	itsmToken     = "itsm-bearer-token-for-tests"
	cmdbSecret    = "cmdb-secret-for-tests-0123456789abcdef"
)

// coverage records the operations the tests call; TestMain fails the run
// when one in the OpenAPI document was never exercised.
var coverage = apitest.NewCoverage()

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !testing.Short() && runAll() {
		if missing := coverage.Missing(New(Deps{}).API()); len(missing) > 0 {
			fmt.Println("operations never exercised by the tests:\n  " + strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func runAll() bool {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.run") {
			return false
		}
	}
	return true
}

type env struct {
	t        *testing.T
	f        *Function
	db       *pgxpool.Pool
	rec      *events.Recorder
	now      time.Time
	operator *apitest.Client
	viewer   *apitest.Client
	anon     *apitest.Client
	cluster  int64
	pool     int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, db: pgtest.NewPool(t), rec: &events.Recorder{}, now: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	authn, err := auth.New(operatorToken+"=oscar:operator,"+viewerToken+"=victor:viewer", "", "")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := Config{
		Systems:      "itsm=" + itsmSecret + ",itsm=" + itsmOldSecret + ",cmdb=" + cmdbSecret,
		Tokens:       itsmToken + "=itsm",
		ReplayWindow: 5 * time.Minute,
	}.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	e.f = New(Deps{DB: e.db, Auth: authn, Systems: creds, Emitter: e.rec, Location: loc, Now: func() time.Time { return e.now }})
	e.operator = apitest.New(t, e.f.Routes(), e.f.API(), operatorToken, coverage)
	e.viewer = e.operator.As(viewerToken)
	e.anon = e.operator.As("")
	ctx := context.Background()
	if err := e.db.QueryRow(ctx, `INSERT INTO clusters (name, idc) VALUES ('prod-1', 'idc1') RETURNING id`).Scan(&e.cluster); err != nil {
		t.Fatal(err)
	}
	if err := e.db.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type) VALUES ($1, 'general', 'general') RETURNING id`,
		e.cluster).Scan(&e.pool); err != nil {
		t.Fatal(err)
	}
	return e
}

// device inserts a device; in_pool, cordoned and maintenance ones are in the pool.
func (e *env) device(hostname, serial, status string) int64 {
	e.t.Helper()
	var cluster, pool *int64
	if status != "idle" && status != "retired" {
		cluster, pool = &e.cluster, &e.pool
	}
	var id int64
	if err := e.db.QueryRow(context.Background(), `INSERT INTO devices (hostname, serial, idc, status, cluster_id, pool_id)
		VALUES ($1, $2, 'idc1', $3, $4, $5) RETURNING id`, hostname, serial, status, cluster, pool).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) deviceStatus(id int64) string {
	e.t.Helper()
	var s string
	if err := e.db.QueryRow(context.Background(), `SELECT status FROM devices WHERE id = $1`, id).Scan(&s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// count runs a count(*) query.
func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// state is what a rejected call must leave unchanged.
func (e *env) state() string {
	e.t.Helper()
	var s string
	if err := e.db.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM elastic_scaling_orders)::text || '/' ||
		(SELECT coalesce(string_agg(status || ':' || version, ',' ORDER BY id), '') FROM elastic_scaling_orders) || '/' ||
		(SELECT coalesce(string_agg(status || ':' || version, ',' ORDER BY id), '') FROM devices) || '/' ||
		(SELECT count(*) FROM audit_log)::text`).Scan(&s); err != nil {
		e.t.Fatal(err)
	}
	return s + fmt.Sprintf("/events:%d", len(e.rec.Sent()))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedHeaders are the headers of body signed by system with secret at ts.
func signedHeaders(system, secret string, ts time.Time, body []byte) []string {
	return []string{HeaderSystem, system, HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10),
		HeaderSignature, Sign([]byte(secret), ts.Unix(), body)}
}

// itsm sends a request signed by the itsm system now.
func (e *env) itsm(method, path string, body any) *apitest.Response {
	e.t.Helper()
	b := e.body(body)
	return e.anon.Do(method, path, b, signedHeaders("itsm", itsmSecret, e.now, b)...)
}

// cmdb sends a request signed by the cmdb system now.
func (e *env) cmdb(method, path string, body any) *apitest.Response {
	e.t.Helper()
	b := e.body(body)
	return e.anon.Do(method, path, b, signedHeaders("cmdb", cmdbSecret, e.now, b)...)
}

func (e *env) body(v any) []byte {
	switch b := v.(type) {
	case nil:
		return []byte{}
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	return mustJSON(e.t, v)
}

// tick moves the clock a second, so the next identical body gets a new signature.
func (e *env) tick() { e.now = e.now.Add(time.Second) }

func decodeView(t *testing.T, r *apitest.Response) View {
	t.Helper()
	var v View
	r.JSON(t, &v)
	return v
}

func path(id int64, action string) string {
	p := fmt.Sprintf("%s/requests/%d", APIPrefix, id)
	if action != "" {
		p += "/" + action
	}
	return p
}

// ceCall is one CloudEvent sent to the ingress.
type ceCall struct {
	status int
	body   string
}

// sendEvent encodes ev with sdk-go in binary or structured mode, signs the
// exact HTTP body as system (none when system is ""), and serves it through
// Events().
func (e *env) sendEvent(ev cloudevents.Event, structured bool, system, secret string, ts time.Time) ceCall {
	e.t.Helper()
	req, body := e.ceHTTPRequest(ev, structured)
	if system != "" {
		for i, h := 0, signedHeaders(system, secret, ts, body); i < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
	}
	return e.serveEvent(req)
}

// ceHTTPRequest is ev as sdk-go writes it onto an HTTP request, and its body.
func (e *env) ceHTTPRequest(ev cloudevents.Event, structured bool) (*http.Request, []byte) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, EventsPath, nil)
	ctx := binding.WithForceBinary(context.Background())
	if structured {
		ctx = binding.WithForceStructured(context.Background())
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(&ev), req); err != nil {
		e.t.Fatal(err)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	if got := strings.HasPrefix(req.Header.Get("Content-Type"), "application/cloudevents+json"); got != structured {
		e.t.Fatalf("structured %v but content type %q", structured, req.Header.Get("Content-Type"))
	}
	return req, body
}

// serveEvent runs req through the CloudEvents ingress.
func (e *env) serveEvent(req *http.Request) ceCall {
	rec := httptest.NewRecorder()
	e.f.Events().ServeHTTP(rec, req)
	return ceCall{status: rec.Code, body: rec.Body.String()}
}

// event builds a maintenance CloudEvent from an external system.
func event(t *testing.T, typ, id string, d events.Maintenance) cloudevents.Event {
	t.Helper()
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetType(typ)
	ev.SetSource("/external/itsm")
	ev.SetTime(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
	if err := ev.SetData(cloudevents.ApplicationJSON, d); err != nil {
		t.Fatal(err)
	}
	return ev
}
