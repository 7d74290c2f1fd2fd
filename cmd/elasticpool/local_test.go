package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/redistest"
	"github.com/elasticpool/elasticpool/shared/serve/servetest"
)

// TestLocalMode is the newcomer's path: seed-demo (twice: idempotent), run,
// a dry run through the API, then the daily ping through the local broker —
// the cron's own path — ending in the demo's two orders.
func TestLocalMode(t *testing.T) {
	db := pgtest.New(t)
	r := redistest.New(t)
	port := servetest.FreePort(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for k, v := range map[string]string{
		"DATABASE_URL": db.URL, "REDIS_URL": r.URL, "REDIS_PREFIX": r.Prefix, "PORT": port, "TIMEZONE": "Asia/Shanghai",
		"UI_STATIC_DIR": "", "EVENTS_URL": "mem://local-" + hex.EncodeToString(b), "K_SINK": "",
	} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	count := func(table string) int {
		var n int
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tables := []string{"clusters", "resource_pools", "devices", "pool_daily_snapshots", "query_templates",
		"resource_pool_device_matching_policies", "elastic_scaling_strategies", "strategy_clusters", "duty_roster"}
	snapshot := func() string {
		var parts []string
		for _, tb := range tables {
			parts = append(parts, fmt.Sprintf("%s=%d", tb, count(tb)))
		}
		return strings.Join(parts, " ")
	}
	if err := seedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	first := snapshot()
	if err := seedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	if again := snapshot(); again != first {
		t.Fatalf("seed-demo is not idempotent:\n%s\n%s", first, again)
	}

	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("local mode did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}

	post := func(body string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/evaluations", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer dev-admin-token-local-only")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode != 200 {
			t.Fatalf("POST /evaluations %s: %d %v", body, res.StatusCode, out)
		}
		return out
	}
	var would []string
	for _, s := range post(`{"dryRun":true}`)["strategies"].([]any) {
		for _, d := range s.(map[string]any)["decisions"].([]any) {
			d := d.(map[string]any)
			if m, ok := d["match"].(map[string]any); ok && m["status"] == "would_create" {
				would = append(would, fmt.Sprintf("%s/%s", d["clusterName"], d["poolName"]))
			}
		}
	}
	sort.Strings(would)
	if strings.Join(would, " ") != "bj-prod-1/general sh-prod-1/batch" {
		t.Fatalf("dry run would create orders for %v, want bj-prod-1/general and sh-prod-1/batch", would)
	}

	// The cron's tick, sent exactly as the cron sends it.
	sink, err := events.NewHTTPEmitter(localSink(port), "", events.EmitterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ping(sink, time.Now().Truncate(time.Minute))
	deadline = time.Now().Add(30 * time.Second)
	for count("elastic_scaling_orders") < 2 || count("notification_log")+count("notifications") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the tick: %d orders, %d notifications", count("elastic_scaling_orders"), count("notification_log")+count("notifications"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	var actions []string
	rows, _ := db.Pool.Query(ctx, `SELECT o.action_type || ' ' || c.name || '/' || p.name FROM elastic_scaling_orders o
		JOIN clusters c ON c.id = o.cluster_id JOIN resource_pools p ON p.id = o.pool_id ORDER BY 1`)
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	if strings.Join(actions, ", ") != "pool_entry bj-prod-1/general, pool_exit sh-prod-1/batch" {
		t.Fatalf("orders %v", actions)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not shut down")
	}
}
