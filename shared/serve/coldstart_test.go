package serve

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/redistest"
	"github.com/elasticpool/elasticpool/shared/serve/servetest"
)

// childEnv marks the re-exec'd test binary that plays the function process:
// the framework's registry is process-global, and a real exec is what a
// scale-from-zero start is.
const childEnv = "SERVE_COLDSTART_CHILD"

// TestColdStart_ServesBeforePostgres starts a function process whose
// DATABASE_URL points at a closed port: it must answer /healthz anyway, and
// /readyz 503; once Postgres is reachable on that port /readyz turns 200 and
// a request that needs the database succeeds, on a pool whose first connect
// failed.
func TestColdStart_ServesBeforePostgres(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		coldStartChild(t)
		return
	}
	db := pgtest.New(t)
	r := redistest.New(t)
	pgURL, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	pgAddr := pgURL.Host
	// A port nothing listens on yet; the proxy opens it later.
	pgPort := servetest.FreePort(t)
	pgURL.Host = "127.0.0.1:" + pgPort
	port := servetest.FreePort(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestColdStart_ServesBeforePostgres$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1", "FUNCTION_TARGET=", "PORT="+port,
		"DATABASE_URL="+pgURL.String(), "REDIS_URL="+r.URL, "REDIS_PREFIX="+r.Prefix, "TIMEZONE=UTC", "K_SINK=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("function process output:\n%s", out.Bytes())
		}
	}()

	base := "http://127.0.0.1:" + port
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		res, err := client.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("healthz with Postgres unreachable: got %d, want 200", res.StatusCode)
			}
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("function exited with Postgres unreachable: %v", err)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(t0) > 10*time.Second {
			t.Fatal("healthz not served within 10 s")
		}
	}
	t.Logf("exec → /healthz 200 in %s with Postgres unreachable", time.Since(t0).Round(100*time.Microsecond))

	if code, h := get(t, base+"/readyz"); code != http.StatusServiceUnavailable || h.Checks["postgres"] != "unavailable" || h.Checks["redis"] != "ok" {
		t.Fatalf("readyz with Postgres unreachable: got %d %+v, want 503 with postgres unavailable, redis ok", code, h)
	}

	// Postgres comes up on the port the function was given.
	l, err := net.Listen("tcp", "127.0.0.1:"+pgPort)
	if err != nil {
		t.Fatal(err)
	}
	stopProxy := proxy(l, pgAddr)
	defer stopProxy()

	deadline := time.Now().Add(10 * time.Second)
	for {
		code, h := get(t, base+"/readyz")
		if code == http.StatusOK {
			if h.Status != "ready" || h.Checks["postgres"] != "ok" {
				t.Fatalf("readyz with Postgres reachable: got %d %+v", code, h)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d %+v 10 s after Postgres became reachable", code, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := client.Get(base + "/db")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "42" {
		t.Fatalf("query through the pool: got %d %q, want 200 \"42\"", res.StatusCode, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("function exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("function did not stop on SIGTERM")
	}
}

// coldStartChild is the function process: Open, an HTTP route that needs
// the database, the probes, until SIGTERM.
func coldStartChild(t *testing.T) {
	Run(func(ctx context.Context) error {
		var cfg Config
		if err := config.Load(ctx, &cfg); err != nil {
			return err
		}
		deps, err := Open(ctx, cfg)
		if err != nil {
			return err
		}
		defer deps.Close()
		return Main(ctx, Options{
			Name: "coldstart-test", Port: cfg.Port, Drain: 5 * time.Second,
			HTTP: map[string]http.Handler{"/db": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var n int
				if err := deps.DB.QueryRow(r.Context(), "SELECT 42").Scan(&n); err != nil {
					http.Error(w, err.Error(), http.StatusServiceUnavailable)
					return
				}
				_, _ = w.Write([]byte(strconv.Itoa(n)))
			})},
			Ready: deps.Ready(), Degraded: deps.Degraded(),
		})
	})
}

// proxy forwards every connection accepted on l to addr until stopped.
func proxy(l net.Listener, addr string) (stop func()) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", addr)
			if err != nil {
				in.Close()
				continue
			}
			track(in)
			track(out)
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}

// TestOpenDB_DialsNothing: OpenDB returns at once whatever Postgres does
// (only a malformed URL fails), and Close stops a background connect that
// hangs (a server that accepts and never answers) instead of waiting for it.
func TestOpenDB_DialsNothing(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn // accepted, never answered
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t0 := time.Now()
	pg, err := OpenDB(context.Background(), config.Database{URL: "postgres://postgres@" + l.Addr().String() + "/x?sslmode=disable", MaxConns: 2})
	if err != nil {
		t.Fatalf("OpenDB against a silent server: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("OpenDB took %s: it waited for Postgres", d)
	}
	// The background connect is stuck in the handshake: /readyz answers
	// within its own deadline, not the connect's.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := pg.Ready(ctx); err == nil {
		t.Fatal("Ready succeeded against a server that never answers")
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Ready took %s past its deadline", d)
	}
	t1 := time.Now()
	pg.Close()
	if d := time.Since(t1); d > 2*time.Second {
		t.Fatalf("Close took %s: it waited out the background connect", d)
	}

	if _, err := OpenDB(context.Background(), config.Database{URL: "postgres://a b"}); err == nil {
		t.Fatal("malformed DATABASE_URL accepted")
	}
}
