package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/redistest"
	"github.com/elasticpool/elasticpool/shared/serve"
	"github.com/elasticpool/elasticpool/shared/serve/servetest"
)

// TestRealMain drives the container's real wiring: config from the
// environment, K_SINK required, the probes, a ping answered, a clean stop.
func TestRealMain(t *testing.T) {
	db := pgtest.New(t)
	r := redistest.New(t)
	port := servetest.FreePort(t)
	for k, v := range map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": r.URL, "REDIS_PREFIX": r.Prefix, "PORT": port,
		"TIMEZONE": "UTC", "K_SINK": "", "FUNCTION_TARGET": ""} {
		t.Setenv(k, v)
	}
	if err := realMain(context.Background()); !errors.Is(err, serve.ErrNoSink) {
		t.Fatalf("without K_SINK got %v, want ErrNoSink", err)
	}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) }))
	defer sink.Close()
	t.Setenv("K_SINK", sink.URL)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- realMain(ctx) }()
	base := "http://127.0.0.1:" + port
	servetest.WaitReady(t, base, 10*time.Second)
	req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(""))
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "tick-1")
	req.Header.Set("ce-type", events.TypePing)
	req.Header.Set("ce-source", "/test")
	req.Header.Set("ce-time", "2026-11-29T06:00:00Z")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("ping answered %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("realMain: %v", err)
	}
}
