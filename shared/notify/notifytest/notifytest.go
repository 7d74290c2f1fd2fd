// Package notifytest holds the checks every notification integration runs
// (alertmanager's notify/test habit): the HTTP retry table, and that no
// secret leaks into an error.
package notifytest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/notify"
)

// RetryCases are the HTTP statuses every HTTP integration must classify the
// same way (notify.RetryableStatus is the single source of the rule).
var RetryCases = []struct {
	Status    int
	WantRetry bool
}{
	{http.StatusBadRequest, false},
	{http.StatusUnauthorized, false},
	{http.StatusForbidden, false},
	{http.StatusNotFound, false},
	{http.StatusRequestTimeout, true},
	{http.StatusRequestEntityTooLarge, false},
	{http.StatusTooManyRequests, true},
	{http.StatusInternalServerError, true},
	{http.StatusNotImplemented, false},
	{http.StatusBadGateway, true},
	{http.StatusServiceUnavailable, true},
	{http.StatusGatewayTimeout, true},
}

// Message is a small message for tests.
func Message() notify.Message {
	return notify.Message{
		EventID: "evt-1", EventType: "io.elasticpool.order.created.v1", Kind: "order.created", Severity: "info",
		Title: "Order EP-1 created", Text: "A pool_entry order was created.\nOpen it: http://ui.example/orders/1", HTML: `<p>A pool_entry order was created.</p><p><a href="http://ui.example/orders/1">Open it</a></p>`,
		Link:   "http://ui.example/orders/1",
		Facts:  []notify.Fact{{Name: "Cluster", Value: "bj-prod-1"}, {Name: "Pool", Value: "general"}},
		OnDuty: []notify.Person{{Person: "alice", Email: "alice@example.com", Phone: "13800000000", ChatID: "U123"}},
		Data:   map[string]any{"orderId": 1},
		Time:   time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC),
	}
}

// CheckHTTPRetry points a notifier built by newNotifier at a server answering
// each status of RetryCases and checks the retry verdict, and that an
// unreachable server is retryable. secrets must not appear in any error.
func CheckHTTPRetry(t *testing.T, newNotifier func(url string) notify.Notifier, secrets ...string) {
	t.Helper()
	for _, tc := range RetryCases {
		t.Run(http.StatusText(tc.Status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "injected failure", tc.Status)
			}))
			defer srv.Close()
			retry, err := newNotifier(srv.URL).Notify(context.Background(), "someone", Message())
			if err == nil {
				t.Fatalf("status %d: got no error", tc.Status)
			}
			if retry != tc.WantRetry {
				t.Fatalf("status %d: got retry %v, want %v (err %v)", tc.Status, retry, tc.WantRetry, err)
			}
			NoSecret(t, err, secrets...)
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close() // nothing listens there any more
		retry, err := newNotifier(url).Notify(context.Background(), "someone", Message())
		if err == nil || !retry {
			t.Fatalf("unreachable server: got retry %v err %v, want a retryable error", retry, err)
		}
		NoSecret(t, err, secrets...)
	})
}

// NoSecret fails the test if err's text contains any of secrets.
func NoSecret(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	NoSecretIn(t, "error", err.Error(), secrets...)
}

// NoSecretIn fails the test if text contains any of secrets.
func NoSecretIn(t testing.TB, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("%s leaks a secret: %q", what, text)
		}
	}
}
