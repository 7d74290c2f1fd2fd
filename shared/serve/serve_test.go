package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/elasticpool/elasticpool/shared/config"
	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/redistest"

	"github.com/sethvargo/go-envconfig"

	"github.com/elasticpool/elasticpool/shared/serve/servetest"
)

func get(t *testing.T, url string) (int, Health) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var h Health
	_ = json.NewDecoder(res.Body).Decode(&h)
	return res.StatusCode, h
}

// TestMain_ServesEventsAndProbesThenDrains drives the real wiring: the
// framework's registry is process-global, so this is the package's only Main.
func TestMain_ServesEventsAndProbesThenDrains(t *testing.T) {
	db := pgtest.New(t)
	r := redistest.New(t)
	var cfg Config
	err := config.LoadFrom(context.Background(), &cfg, envconfig.MapLookuper(map[string]string{
		"DATABASE_URL": db.URL, "REDIS_URL": r.URL, "REDIS_PREFIX": r.Prefix, "TIMEZONE": "UTC",
	}))
	if err != nil {
		t.Fatal(err)
	}
	deps, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer deps.Close()
	if _, err := deps.RequireEmitter(); !errors.Is(err, ErrNoSink) {
		t.Fatalf("no K_SINK: got %v, want ErrNoSink", err)
	}

	port := servetest.FreePort(t)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var redisDown atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, Options{
			Name: "probe-test", Port: port, Drain: 5 * time.Second,
			Event: func(ctx context.Context, e cloudevents.Event) error {
				if e.Type() == "slow" {
					started <- struct{}{}
					<-release
				}
				if e.Type() == "bad" {
					return events.Permanent(errors.New("no such strategy"))
				}
				return nil
			},
			HTTP:  map[string]http.Handler{"/api/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })},
			Ready: deps.Ready(),
			Degraded: map[string]Check{"redis": func(ctx context.Context) error {
				if redisDown.Load() {
					return errors.New("down")
				}
				return deps.Degraded()["redis"](ctx)
			}},
		})
	}()
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(5 * time.Second)
	for {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("function did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}

	if code, h := get(t, base+"/healthz"); code != 200 || h.Status != "ok" || h.Function != "probe-test" {
		t.Fatalf("healthz got %d %+v", code, h)
	}
	if code, h := get(t, base+"/readyz"); code != 200 || h.Checks["postgres"] != "ok" || h.Checks["redis"] != "ok" {
		t.Fatalf("readyz got %d %+v", code, h)
	}
	redisDown.Store(true)
	if code, h := get(t, base+"/readyz"); code != 200 || !strings.HasPrefix(h.Checks["redis"], "unavailable") {
		t.Fatalf("readyz with Redis down got %d %+v, want 200 reporting redis degraded", code, h)
	}
	if res, _ := http.Get(base + "/api/x"); res == nil || res.StatusCode != http.StatusTeapot {
		t.Fatalf("extra HTTP route not served: %v", res)
	}

	send := func(typ string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(`{}`))
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-id", "1")
		req.Header.Set("ce-type", typ)
		req.Header.Set("ce-source", "/test")
		req.Header.Set("content-type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := send("ok"); got != 200 {
		t.Fatalf("event got %d, want 200", got)
	}
	if got := send("bad"); got != 422 {
		t.Fatalf("permanent failure got %d, want 422", got)
	}

	// A slow event is in flight when the signal comes: not ready, yet it finishes.
	slow := make(chan int, 1)
	go func() { slow <- send("slow") }()
	<-started
	cancel()
	time.Sleep(50 * time.Millisecond)
	if code, h := get(t, base+"/readyz"); code != 503 || h.Status != "draining" {
		t.Fatalf("readyz while draining got %d %+v", code, h)
	}
	select {
	case err := <-done:
		t.Fatalf("Main returned %v with an event in flight", err)
	default:
	}
	close(release)
	if got := <-slow; got != 200 {
		t.Fatalf("in-flight event got %d, want 200", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("Main: %v", err)
	}
}

func TestMainRefusesFunctionTarget(t *testing.T) {
	t.Setenv("FUNCTION_TARGET", "Handle")
	if err := Main(context.Background(), Options{Name: "x"}); err == nil || !strings.Contains(err.Error(), "FUNCTION_TARGET") {
		t.Fatalf("got %v, want a FUNCTION_TARGET error", err)
	}
}
