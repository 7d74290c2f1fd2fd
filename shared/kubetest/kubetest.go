// Package kubetest starts a real etcd and kube-apiserver on loopback for
// tests: the API server's own validation, admission, CRD schemas and dry-run
// answer, not a fake. There is no kubelet, scheduler or controller-manager,
// so nothing reconciles (see /work/shared/notes/real-kube-apiserver.md for
// what that means for pods, nodes and PDBs).
//
// The binaries are built once from the Go module proxy by
// scripts/kube-binaries.sh and cached outside the repo; a test run on a fresh
// machine builds them first (kube-apiserver: ~10 min on 2 cores) and prints
// progress on stderr. Share one server across a package's tests:
//
//	func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		cfg := kubetest.Start(t) // the shared server's admin config
//		...
//	}
//
// Without TestMain, Start starts a server for the calling test and stops it
// at cleanup.
package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Binaries are the two executables a Server runs.
type Binaries struct {
	APIServer string
	Etcd      string
}

// FindBinaries returns the cached binaries, building them when absent. The
// environment variables KUBE_APISERVER and ETCD, when both are set, name
// binaries to use instead (e.g. a distribution's packages).
func FindBinaries(ctx context.Context) (Binaries, error) {
	if a, e := os.Getenv("KUBE_APISERVER"), os.Getenv("ETCD"); a != "" && e != "" {
		return Binaries{APIServer: a, Etcd: e}, nil
	}
	script, err := findScript()
	if err != nil {
		return Binaries{}, err
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr // build progress, shown with go test -v or on failure
	started := time.Now()
	if err := cmd.Run(); err != nil {
		return Binaries{}, fmt.Errorf("kubetest: %s: %w", script, err)
	}
	if d := time.Since(started); d > 5*time.Second {
		fmt.Fprintf(os.Stderr, "kubetest: binaries ready after %s\n", d.Round(time.Second))
	}
	var b Binaries
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "kube-apiserver":
			b.APIServer = v
		case "etcd":
			b.Etcd = v
		}
	}
	if b.APIServer == "" || b.Etcd == "" {
		return Binaries{}, fmt.Errorf("kubetest: %s printed no binary paths: %q", script, out.String())
	}
	return b, nil
}

// findScript walks up from the working directory (a test runs in its
// package's folder) to the repo's scripts/kube-binaries.sh.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "kube-binaries.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("kubetest: scripts/kube-binaries.sh not found above the working directory; set KUBE_APISERVER and ETCD")
		}
		dir = parent
	}
}

// Server is a running etcd + kube-apiserver pair.
type Server struct {
	// Config is an admin (system:masters) client config for the API server.
	Config *rest.Config

	dir       string
	etcd      *process
	apiserver *process
}

// New builds the binaries if needed and starts a server. Stop it with Stop.
func New(ctx context.Context) (*Server, error) {
	bins, err := FindBinaries(ctx)
	if err != nil {
		return nil, err
	}
	return StartWith(ctx, bins)
}

// StartWith starts etcd and kube-apiserver from bins on free loopback ports
// and waits until the API server's /readyz answers 200.
func StartWith(ctx context.Context, bins Binaries) (_ *Server, err error) {
	started := time.Now()
	dir, err := os.MkdirTemp("", "kubetest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()

	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	s.etcd, err = startProcess(bins.Etcd, filepath.Join(dir, "etcd.log"),
		"--name=kubetest",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL,
		"--unsafe-no-fsync", // a throwaway test store
		"--log-level=warn",
	)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, http.DefaultClient, clientURL+"/health", 30*time.Second, s.etcd); err != nil {
		return nil, fmt.Errorf("kubetest: etcd: %w\n%s", err, s.etcd.logTail())
	}

	token, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	if err := writeCredentials(dir, token); err != nil {
		return nil, err
	}
	key := filepath.Join(dir, "sa.key")
	port := strconv.Itoa(ports[2])
	s.apiserver, err = startProcess(bins.APIServer, filepath.Join(dir, "kube-apiserver.log"),
		"--etcd-servers="+clientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+port,
		"--cert-dir="+filepath.Join(dir, "certs"),
		// With a loopback advertise address the default reconciler exits.
		"--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+key,
		"--service-account-signing-key-file="+key,
		"--token-auth-file="+filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		// No controller-manager creates service account tokens.
		"--disable-admission-plugins=ServiceAccount",
		"--profiling=false",
	)
	if err != nil {
		return nil, err
	}
	s.Config = &rest.Config{
		Host:        "https://127.0.0.1:" + port,
		BearerToken: token,
		// The serving certificate is self-signed, generated at start, and
		// the server listens on loopback only.
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             200,
		Burst:           400,
	}
	hc, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, hc, s.Config.Host+"/readyz", 90*time.Second, s.apiserver); err != nil {
		return nil, fmt.Errorf("kubetest: kube-apiserver: %w\n%s", err, s.apiserver.logTail())
	}
	fmt.Fprintf(os.Stderr, "kubetest: kube-apiserver ready at %s after %s\n", s.Config.Host, time.Since(started).Round(time.Millisecond))
	return s, nil
}

// Stop stops the API server, then etcd, and removes their data.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	s.apiserver.stop()
	s.etcd.stop()
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// shared is the package's server while Main runs.
var shared *Server

// Main starts one server for all the tests of a package, runs them, stops
// it, and returns the exit code. A server that cannot start fails the run
// (it does not skip the tests).
func Main(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	s, err := New(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	shared = s
	defer s.Stop()
	return m.Run()
}

// Start returns an admin config for the package's shared server (see Main),
// or starts a server for this test and stops it at cleanup.
func Start(t testing.TB) *rest.Config {
	t.Helper()
	if shared != nil {
		return rest.CopyConfig(shared.Config)
	}
	s, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return rest.CopyConfig(s.Config)
}

// writeCredentials writes the token file (one system:masters user) and the
// service-account signing key.
func writeCredentials(dir, token string) error {
	tokens := token + ",kubetest-admin,kubetest-admin,system:masters\n"
	if err := os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(tokens), 0o600); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	return os.WriteFile(filepath.Join(dir, "sa.key"), pem.EncodeToMemory(block), 0o600)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// freePorts asks the kernel for n distinct free loopback ports. They are
// released before the servers bind them; the window is small, and a server
// that loses the race fails to start with a clear log.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitHTTP polls url until it answers 200, the process exits, or timeout.
func waitHTTP(ctx context.Context, c *http.Client, url string, timeout time.Duration, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := c.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%s: %d %s", url, resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before ready: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %s", timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// process is a child server with its log file.
type process struct {
	cmd     *exec.Cmd
	log     *os.File
	exited  chan struct{}
	waitErr error
}

func startProcess(bin, logPath string, args ...string) (*process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("kubetest: start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop sends SIGTERM, then SIGKILL if the process is still there after 10 s.
func (p *process) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.log.Close()
}

// logTail is the end of the process's log, for start-up errors.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.log.Name())
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
