// Package servetest helps tests that run a function's real main (its
// cmd/realMain) in-process: a free loopback port for PORT, and waiting until
// the process reports ready.
package servetest

import (
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// WaitReady polls base+"/readyz" until it answers 200, failing the test
// after timeout with the last status or error.
func WaitReady(t testing.TB, base string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			if err == nil {
				t.Fatalf("%s/readyz still %d after %s", base, res.StatusCode, timeout)
			}
			t.Fatalf("%s/readyz not answering after %s: %v", base, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
