// Command coldstart measures what scale-from-zero costs each function
// (DESIGN §10: ready < 50 ms after exec, binary < 40 MB). For every
// functions/<name>/cmd it builds the binary as the image does (CGO off,
// -trimpath, stripped), then runs it N times on a free PORT with a minimal
// environment (local Postgres and Redis, a K_SINK that is never called) and
// times exec → the first 200 from /healthz (the process is up: the bar), then
// exec → the first 200 from /readyz (Postgres answered: what Knative's
// readiness probe waits for before it routes traffic), polled every 0.5 ms.
//
//	go run ./bench/coldstart                 # print the table
//	go run ./bench/coldstart -write docs/benchmarks.md
//
// -write replaces the section between the coldstart markers in that file
// (appending it when absent), leaving everything else as it is.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/elasticpool/elasticpool/bench/internal/benchenv"
)

const (
	beginMarker = "<!-- coldstart:begin (bench/coldstart writes this section) -->"
	endMarker   = "<!-- coldstart:end -->"

	targetReady = 50 * time.Millisecond
	targetSize  = 40 << 20
)

func main() {
	runs := flag.Int("runs", 15, "starts per function")
	write := flag.String("write", "", "markdown file whose coldstart section is replaced with the results")
	dbURL := flag.String("database-url", benchenv.EnvOr("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "Postgres the functions connect to at start")
	redisURL := flag.String("redis-url", benchenv.EnvOr("REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	flag.Parse()
	if err := run(*runs, *write, *dbURL, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

type result struct {
	name    string
	size    int64
	samples []time.Duration
	// ready are exec → /readyz 200; empty for rows without the probe.
	ready []time.Duration
}

func (r result) pct(p float64) time.Duration { return pct(r.samples, p) }

func pct(samples []time.Duration, p float64) time.Duration {
	s := slices.Clone(samples)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return s[i]
}

func run(runs int, write, dbURL, redisURL string) error {
	mains, err := filepath.Glob("functions/*/cmd/main.go")
	if err != nil {
		return err
	}
	if len(mains) == 0 {
		return errors.New("no functions/*/cmd/main.go: run from the repo root")
	}
	dir, err := os.MkdirTemp("", "coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	loadBefore := loadAvg()
	var results []result
	// The floor of this machine: a std-only net/http server answering
	// /healthz, started the same way. What a function adds is the difference.
	base, err := baseline(dir, runs, dbURL, redisURL)
	if err != nil {
		return err
	}
	results = append(results, base)
	for _, m := range mains {
		name := filepath.Base(filepath.Dir(filepath.Dir(m)))
		bin := filepath.Join(dir, name)
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./"+filepath.Dir(m))
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Stderr = os.Stderr
		fmt.Fprintf(os.Stderr, "coldstart: building %s\n", name)
		if err := build.Run(); err != nil {
			return fmt.Errorf("build %s: %w", name, err)
		}
		fi, err := os.Stat(bin)
		if err != nil {
			return err
		}
		r := result{name: name, size: fi.Size()}
		// One untimed start warms the page cache, as a node that has pulled
		// the image has it on local disk.
		for i := 0; i <= runs; i++ {
			d, ready, err := start(bin, dbURL, redisURL, true)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if i > 0 {
				r.samples = append(r.samples, d)
				r.ready = append(r.ready, ready)
			}
		}
		fmt.Fprintf(os.Stderr, "coldstart: %s /healthz p50 %s max %s, /readyz p50 %s, %.1f MB\n", name, r.pct(0.5), r.pct(1), pct(r.ready, 0.5), mb(r.size))
		results = append(results, r)
	}
	// The share of the /readyz figures that is the database's handshake, not
	// the function: the connect + ping a function does before its first 200
	// from /readyz.
	pg := result{name: "Postgres connect + ping (pgxpool, from the bench process)"}
	for i := 0; i < runs; i++ {
		d, err := pgConnect(dbURL)
		if err != nil {
			return err
		}
		pg.samples = append(pg.samples, d)
	}
	table := render(results, pg, runs, loadBefore, loadAvg())
	fmt.Print(table)
	if write != "" {
		return writeSection(write, table)
	}
	return nil
}

const baselineSource = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/healthz", func(http.ResponseWriter, *http.Request) {})
	_ = http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)
}
`

func baseline(dir string, runs int, dbURL, redisURL string) (result, error) {
	src := filepath.Join(dir, "baseline.go")
	if err := os.WriteFile(src, []byte(baselineSource), 0o644); err != nil {
		return result{}, err
	}
	bin := filepath.Join(dir, "baseline")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, src)
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GO111MODULE=on")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return result{}, fmt.Errorf("build baseline: %w", err)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return result{}, err
	}
	r := result{name: "(floor) std-only net/http server", size: fi.Size()}
	for i := 0; i <= runs; i++ {
		d, _, err := start(bin, dbURL, redisURL, false)
		if err != nil {
			return result{}, fmt.Errorf("baseline: %w", err)
		}
		if i > 0 {
			r.samples = append(r.samples, d)
		}
	}
	return r, nil
}

// start execs bin and returns the time until /healthz first answers 200
// and, with readyz, then until /readyz does.
func start(bin, dbURL, redisURL string, readyz bool) (healthy, ready time.Duration, err error) {
	port, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	sink, err := freePort() // nothing listens: the functions only emit on events
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"PORT=" + strconv.Itoa(port),
		"DATABASE_URL=" + dbURL,
		"REDIS_URL=" + redisURL,
		"K_SINK=http://127.0.0.1:" + strconv.Itoa(sink),
		"LOG_LEVEL=warn",
		"UI_STATIC_DIR=",
		"PATH=" + os.Getenv("PATH"),
	}
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	url := base + "/healthz"
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if healthy == 0 {
					healthy = time.Since(t0)
					if !readyz {
						return healthy, 0, nil
					}
					url = base + "/readyz"
					continue
				}
				return healthy, time.Since(t0), nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return 0, 0, fmt.Errorf("exited before %s answered 200: %v\n%s", url, err, stderr.Bytes())
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("%s not 200 after 10 s\n%s", url, stderr.Bytes())
		case <-time.After(500 * time.Microsecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

// loadAvg is the 1-minute load average (Linux), "" elsewhere: wall-clock
// start times on a shared machine mean little without it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.Fields(string(b))[0]
}

func pgConnect(dbURL string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	p, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	if err := p.Ping(ctx); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

func render(rs []result, pg result, runs int, loadBefore, loadAfter string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## Function cold start and binary size\n\n", beginMarker)
	fmt.Fprintf(&b, "Target (DESIGN §10): ready < %d ms after exec, binary < %d MB. Measured %s on %s/%s, %d CPUs, %s, %d starts per function after one untimed start.\n\n",
		targetReady.Milliseconds(), targetSize>>20, time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), runs)
	if loadBefore != "" {
		fmt.Fprintf(&b, "1-minute load average %s at the start, %s at the end (on %d CPUs; above %d the figures include waiting for a CPU).\n\n", loadBefore, loadAfter, runtime.NumCPU(), runtime.NumCPU())
	}
	b.WriteString("Exec → first 200 from `/healthz`: the process builds its clients without a network round trip and opens its port (the Postgres pool and the Redis client dial on first use; one Postgres connection is started in the background). Then exec → first 200 from `/readyz`, polled from the moment `/healthz` answered: `/readyz` pings Postgres (required) and Redis (reported), and it is what Knative's readiness probe waits for before routing traffic. Binary built like the image (`CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'`).\n\n")
	b.WriteString("| function | /healthz p50 ms | p90 ms | max ms | /readyz p50 ms | p90 ms | binary MB | within target |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rs {
		ok := "yes"
		if r.pct(0.5) >= targetReady || r.size >= targetSize {
			ok = "**no**"
		}
		ready50, ready90 := "–", "–"
		if len(r.ready) > 0 {
			ready50, ready90 = fmt.Sprintf("%.1f", ms(pct(r.ready, 0.5))), fmt.Sprintf("%.1f", ms(pct(r.ready, 0.9)))
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %s | %s | %.1f | %s |\n", r.name, ms(r.pct(0.5)), ms(r.pct(0.9)), ms(r.pct(1)), ready50, ready90, mb(r.size), ok)
	}
	fmt.Fprintf(&b, "\n%s on the same machine: p50 %.1f ms, p90 %.1f ms.\n", pg.name, ms(pg.pct(0.5)), ms(pg.pct(0.9)))
	b.WriteString("\nReading the table: the floor row is what exec'ing any Go HTTP server costs on this machine (it has no `/readyz`); a function's `/healthz` row minus the floor is its own start-up (package init, configuration, building its handlers). `/readyz` adds at most one Postgres connect (the Postgres row, started in the background during start-up, so partly hidden) plus the Redis ping; deadletter has no dependency, so its `/readyz` answers at once. Within target compares the `/healthz` p50 (the process is serving) and the binary size.\n")
	b.WriteString("\nReproduce: `scripts/services.sh && go run ./bench/coldstart -write docs/benchmarks.md` (Postgres and Redis on loopback).\n")
	b.WriteString(endMarker + "\n")
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// writeSection replaces the marked section of path, or appends it.
func writeSection(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	switch {
	case i >= 0 && j > i:
		k := j + len(endMarker)
		if k < len(s) && s[k] == '\n' {
			k++
		}
		s = s[:i] + section + s[k:]
	case s == "":
		s = "# Benchmarks\n\n" + section
	default:
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += "\n" + section
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
