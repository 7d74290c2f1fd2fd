package orders

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/httpapi/apitest"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/redistest"
)

// Tokens of the test users.
const (
	adminToken    = "test-admin"
	operatorToken = "test-operator"
	viewerToken   = "test-viewer"
)

// coverage records every operation the package's tests exercise; TestMain
// fails the run if an operation in the OpenAPI document was never called.
var coverage = apitest.NewCoverage()

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !testing.Short() && runAll() {
		f := New(Deps{Auth: mustAuth()})
		if missing := coverage.Missing(f.API()); len(missing) > 0 {
			println("operations never exercised by the tests (each must have at least its happy path tested):\n  " + strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

// runAll is true when the whole package ran (not a -run subset).
func runAll() bool {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.run") {
			return false
		}
	}
	return true
}

func mustAuth() *auth.Authenticator {
	a, err := auth.New(adminToken+"=alice:admin,"+operatorToken+"=oscar:operator,"+viewerToken+"=victor:viewer", "", "")
	if err != nil {
		panic(err)
	}
	return a
}

type env struct {
	f        *Function
	db       *pgtest.DB
	admin    *apitest.Client
	operator *apitest.Client
	viewer   *apitest.Client
	anon     *apitest.Client
	now      time.Time
}

// newEnv builds the API on a fresh database. The clock is fixed unless a test moves it.
func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.New(t)
	r := redistest.New(t)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	e := &env{db: db, now: time.Date(2026, 11, 29, 6, 0, 0, 0, loc)}
	e.f = New(Deps{DB: db.Pool, Redis: r.Client, Auth: mustAuth(), Location: loc, Now: func() time.Time { return e.now }})
	h := e.f.Routes()
	e.admin = apitest.New(t, h, e.f.API(), adminToken, coverage)
	e.operator = e.admin.As(operatorToken)
	e.viewer = e.admin.As(viewerToken)
	e.anon = e.admin.As("")
	return e
}
