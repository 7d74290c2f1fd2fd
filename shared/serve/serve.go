// Package serve is the main of every function container: it registers the
// function's CloudEvent handler (and any HTTP routes) with
// functions-framework-go next to public /healthz and /readyz probes, starts
// the framework, and on SIGTERM turns unready and drains in-flight requests
// before returning, which the framework alone does not do.
//
// Start-up makes no network round trip before the port is open (DESIGN §10:
// ready < 50 ms after exec when scaling from zero): Open creates clients that
// dial on first use and connects Postgres in the background. So /healthz
// means only "the process is up" (Knative's liveness probe), and /readyz is
// where the dependencies are checked: 503 until Postgres answers (the
// readiness probe, which holds traffic back meanwhile).
//
// A function's cmd/main.go is:
//
//	func main() { serve.Run(realMain) }
//
//	func realMain(ctx context.Context) error {
//		var cfg serve.Config
//		if err := config.Load(ctx, &cfg); err != nil { return err }
//		deps, err := serve.Open(ctx, cfg)
//		if err != nil { return err }
//		defer deps.Close()
//		f := evaluate.New(evaluate.Deps{DB: deps.DB, Locks: deps.Locks, Emitter: deps.Emitter, Location: deps.Location})
//		return serve.Main(ctx, serve.Options{Name: "evaluate", Port: cfg.Port, Event: f.Handle, Ready: deps.Ready(), Degraded: deps.Degraded()})
//	}
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/elasticpool/elasticpool/shared/events"
)

// Check is one readiness dependency.
type Check func(context.Context) error

// Options describe one function process.
type Options struct {
	// Name is the function's name, reported by the probes and in logs.
	Name string
	// Port is PORT (default 8080).
	Port string
	// Event is the CloudEvent handler served at "/"; nil for HTTP-only functions.
	Event events.HandlerFunc
	// HTTP are extra routes, by functions-framework path (e.g. "/api/").
	HTTP map[string]http.Handler
	// Ready are the checks /readyz requires (e.g. "postgres").
	Ready map[string]Check
	// Degraded are checks /readyz reports but does not require: the function
	// still works without them (e.g. Redis, whose locks are advisory).
	Degraded map[string]Check
	// Drain bounds the wait for in-flight requests after the context ends
	// (default 25s, under Knative's default 30s termination grace).
	Drain time.Duration
}

// Run is the whole of a function's main: it gives realMain a context that
// ends on SIGINT/SIGTERM and exits non-zero on error.
func Run(realMain func(context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx)
	stop()
	if err != nil {
		slog.Error("exiting", "err", err)
		os.Exit(1)
	}
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status   string            `json:"status"` // ok, ready, unavailable, draining
	Function string            `json:"function"`
	Checks   map[string]string `json:"checks,omitempty"`
}

// Main registers the function and serves it until ctx ends, then drains.
// FUNCTION_TARGET must be unset: with it the framework serves one function at
// "/" and the probes would reach the event handler.
func Main(ctx context.Context, o Options) error {
	if t := os.Getenv("FUNCTION_TARGET"); t != "" {
		return fmt.Errorf("serve: unset FUNCTION_TARGET (%q): it makes functions-framework serve one function and hide /healthz and /readyz", t)
	}
	if o.Port == "" {
		o.Port = "8080"
	}
	if o.Drain <= 0 {
		o.Drain = 25 * time.Second
	}
	p := newProbes(o)
	if o.Event != nil {
		// Registered as an HTTP function serving events.Handler rather than
		// with RegisterCloudEventFunctionContext: the framework's CloudEvent
		// wrapper shares one sdk-go protocol across requests, which wedges
		// under concurrent cancellations (see events.Handler).
		h, err := events.Handler(ctx, p.trackEvent(o.Event))
		if err != nil {
			return fmt.Errorf("serve: %s: %w", o.Name, err)
		}
		if err := funcframework.RegisterHTTPFunctionContext(ctx, "/", h.ServeHTTP); err != nil {
			return fmt.Errorf("serve: register %s: %w", o.Name, err)
		}
	}
	paths := make([]string, 0, len(o.HTTP))
	for path := range o.HTTP {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		if err := funcframework.RegisterHTTPFunctionContext(ctx, path, p.trackHTTP(o.HTTP[path])); err != nil {
			return fmt.Errorf("serve: register %s: %w", path, err)
		}
	}
	if err := funcframework.RegisterHTTPFunctionContext(ctx, "/healthz", p.healthz); err != nil {
		return fmt.Errorf("serve: register /healthz: %w", err)
	}
	if err := funcframework.RegisterHTTPFunctionContext(ctx, "/readyz", p.readyz); err != nil {
		return fmt.Errorf("serve: register /readyz: %w", err)
	}

	errc := make(chan error, 1)
	go func() { errc <- funcframework.Start(o.Port) }()
	slog.Info("function serving", "function", o.Name, "port", o.Port)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %s: %w", o.Name, err)
	case <-ctx.Done():
	}
	// Knative stops routing once the pod is unready; finish what arrived.
	p.draining.Store(true)
	slog.Info("draining", "function", o.Name, "inflight", p.inflight.Load())
	if !p.wait(o.Drain) {
		slog.Warn("drain timed out", "function", o.Name, "inflight", p.inflight.Load())
	}
	return nil
}

type probes struct {
	o        Options
	draining atomic.Bool
	inflight atomic.Int64
	mu       sync.Mutex
	idle     *sync.Cond
}

func newProbes(o Options) *probes {
	p := &probes{o: o}
	p.idle = sync.NewCond(&p.mu)
	return p
}

func (p *probes) begin() { p.inflight.Add(1) }

func (p *probes) end() {
	if p.inflight.Add(-1) == 0 {
		p.mu.Lock()
		p.idle.Broadcast()
		p.mu.Unlock()
	}
}

// wait blocks until nothing is in flight or d passed; false on timeout.
func (p *probes) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		p.mu.Lock()
		for p.inflight.Load() > 0 {
			p.idle.Wait()
		}
		p.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *probes) trackEvent(fn events.HandlerFunc) events.HandlerFunc {
	return func(ctx context.Context, e cloudevents.Event) error {
		p.begin()
		defer p.end()
		return fn(ctx, e)
	}
}

func (p *probes) trackHTTP(h http.Handler) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		p.begin()
		defer p.end()
		h.ServeHTTP(w, r)
	}
}

func (p *probes) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok", Function: p.o.Name})
}

func (p *probes) readyz(w http.ResponseWriter, r *http.Request) {
	h, code := p.check(r.Context())
	writeJSON(w, code, h)
}

// check runs every check with a short timeout; a failed Ready check or
// draining answers 503, a failed Degraded check is only reported.
func (p *probes) check(ctx context.Context) (Health, int) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h := Health{Status: "ready", Function: p.o.Name, Checks: map[string]string{}}
	code := http.StatusOK
	for name, c := range p.o.Ready {
		if err := c(ctx); err != nil {
			h.Checks[name] = "unavailable"
			h.Status, code = "unavailable", http.StatusServiceUnavailable
			slog.Warn("not ready", "function", p.o.Name, "check", name, "err", err)
			continue
		}
		h.Checks[name] = "ok"
	}
	for name, c := range p.o.Degraded {
		if err := c(ctx); err != nil {
			h.Checks[name] = "unavailable (degraded, still serving)"
			slog.Warn("degraded", "function", p.o.Name, "check", name, "err", err)
			continue
		}
		h.Checks[name] = "ok"
	}
	if p.draining.Load() {
		h.Status, code = "draining", http.StatusServiceUnavailable
	}
	return h, code
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrNoSink is returned when a function that emits has no K_SINK.
var ErrNoSink = errors.New("serve: K_SINK is not set (a SinkBinding injects it in Knative; locally it is the broker's ingress)")
