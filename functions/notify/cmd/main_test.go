package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/notify/email/smtptest"
	"github.com/elasticpool/elasticpool/shared/pgtest"
	"github.com/elasticpool/elasticpool/shared/serve/servetest"
)

// TestRealMain drives the container's real wiring: configuration from the
// environment, the CloudEvent handler at "/", the probes, and a clean stop.
func TestRealMain(t *testing.T) {
	db := pgtest.New(t)
	mail := smtptest.Start(t, smtptest.Options{})
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO duty_roster (week_start, person, email) VALUES ('2026-11-23', 'alice', 'alice@example.com')`); err != nil {
		t.Fatal(err)
	}
	port := servetest.FreePort(t)
	for k, v := range map[string]string{
		"PORT": port, "DATABASE_URL": db.URL, "TIMEZONE": "Asia/Shanghai", "UI_BASE_URL": "http://ui.test",
		"SMTP_HOST": mail.Host, "SMTP_PORT": fmt.Sprint(mail.Port), "SMTP_TLS": "none", "FUNCTION_TARGET": "",
	} {
		t.Setenv(k, v)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- realMain(runCtx) }()

	base := "http://127.0.0.1:" + port
	servetest.WaitReady(t, base, 10*time.Second)

	// A shortage event in binary mode, as the Broker delivers it.
	req, _ := http.NewRequest(http.MethodPost, base+"/", bytes.NewBufferString(`{"strategyId":0,"clusterId":7,"poolId":9,"action":"pool_entry","needed":2,"found":0}`))
	for k, v := range map[string]string{
		"Content-Type": "application/json", "Ce-Specversion": "1.0", "Ce-Id": "main-1", "Ce-Source": "/elasticpool/match",
		"Ce-Type": "io.elasticpool.inventory.shortage.v1", "Ce-Time": "2026-11-29T06:00:00+08:00",
	} {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	msgs := mail.Messages()
	// NOTIFY_LANGUAGE is unset: the default, zh-CN, as the UI.
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "[elasticpool] 库存不足：集群 #7/资源池 #9 需要 2 台设备") {
		t.Fatalf("got mails %+v", msgs)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("realMain: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("realMain did not stop")
	}
}
