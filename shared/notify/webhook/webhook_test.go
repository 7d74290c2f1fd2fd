package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/notifytest"
	"github.com/elasticpool/elasticpool/shared/notify/webhook"
)

const (
	token  = "tok-4f9a2c77e1d0b3a5"  // the access token robots carry in their URL
	secret = "SECa1b2c3d4e5f6g7h8i9" // the signing secret
)

var now = time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)

// receiver records requests and answers with reply.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []*http.Request
	body  [][]byte
	reply string
}

func newReceiver(t *testing.T, reply string) *receiver {
	r := &receiver{reply: reply}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, req)
		r.body = append(r.body, b)
		reply := r.reply
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(r.reqs))
	}
	return r.reqs[0], r.body[0]
}

func mustNew(t *testing.T, c webhook.Config) *webhook.Webhook {
	t.Helper()
	w, err := webhook.New(c, webhook.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func send(t *testing.T, w *webhook.Webhook) {
	t.Helper()
	retry, err := w.Notify(context.Background(), w.Name(), notifytest.Message())
	if err != nil {
		t.Fatalf("got err %v (retry %v)", err, retry)
	}
}

func TestGeneric(t *testing.T) {
	rcv := newReceiver(t, `ok`)
	w := mustNew(t, webhook.Config{Name: "ops", Format: webhook.Generic, URL: rcv.URL + "/hook", Secret: secret,
		Headers: map[string]string{"Authorization": "Bearer " + token}})
	send(t, w)
	req, body := rcv.last(t)
	var p webhook.GenericPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	m := notifytest.Message()
	if p.Version != "1" || p.EventID != m.EventID || p.Kind != "order.created" || p.Title != m.Title || p.Link != m.Link ||
		len(p.Facts) != 2 || len(p.OnDuty) != 1 || p.OnDuty[0].Email != "alice@example.com" || !p.Time.Equal(m.Time) {
		t.Fatalf("got payload %+v", p)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+token {
		t.Fatalf("got Authorization %q", got)
	}
	// Verify the signature the way a receiver would, from the documented rule.
	ts := req.Header.Get(webhook.HeaderTimestamp)
	if ts != strconv.FormatInt(now.Unix(), 10) {
		t.Fatalf("got timestamp %q", ts)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); req.Header.Get(webhook.HeaderSignature) != want {
		t.Fatalf("got signature %q, want %q", req.Header.Get(webhook.HeaderSignature), want)
	}
	if req.Header.Get(webhook.HeaderEventID) != m.EventID {
		t.Fatalf("got event id header %q", req.Header.Get(webhook.HeaderEventID))
	}
}

func TestGenericUnsigned(t *testing.T) {
	rcv := newReceiver(t, ``)
	send(t, mustNew(t, webhook.Config{Name: "ops", URL: rcv.URL}))
	req, _ := rcv.last(t)
	if req.Header.Get(webhook.HeaderSignature) != "" {
		t.Fatal("signed without a secret")
	}
}

func TestSlack(t *testing.T) {
	rcv := newReceiver(t, `ok`)
	w := mustNew(t, webhook.Config{Name: "slack", Format: webhook.Slack, URL: rcv.URL + "/services/T0/B0/" + token})
	m := notifytest.Message()
	m.Facts = append(m.Facts, notify.Fact{Name: "Reason", Value: "cpu > 80% & <rising>"})
	if _, err := w.Notify(context.Background(), "slack", m); err != nil {
		t.Fatal(err)
	}
	_, body := rcv.last(t)
	var p struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*" + m.Title + "*", "<" + m.Link + "|Open in the workbench>", "On duty: <@U123>", "cpu &gt; 80% &amp; &lt;rising&gt;"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("text %q lacks %q", p.Text, want)
		}
	}
}

func TestDingTalkSigned(t *testing.T) {
	rcv := newReceiver(t, `{"errcode":0,"errmsg":"ok"}`)
	w := mustNew(t, webhook.Config{Name: "ding", Format: webhook.DingTalk, URL: rcv.URL + "/robot/send?access_token=" + token, Secret: secret})
	send(t, w)
	req, body := rcv.last(t)
	q := req.URL.Query()
	if q.Get("access_token") != token {
		t.Fatalf("access_token lost: %v", q)
	}
	ts := q.Get("timestamp")
	if ts != strconv.FormatInt(now.UnixMilli(), 10) {
		t.Fatalf("got timestamp %q, want milliseconds", ts)
	}
	// DingTalk: base64(HmacSHA256(key=secret, ts+"\n"+secret)), URL-encoded in the query.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); q.Get("sign") != want {
		t.Fatalf("got sign %q, want %q", q.Get("sign"), want)
	}
	if !strings.Contains(req.URL.RawQuery, "sign="+url.QueryEscape(q.Get("sign"))) {
		t.Fatalf("sign not URL-encoded in %q", req.URL.RawQuery)
	}
	var p struct {
		MsgType  string `json:"msgtype"`
		Markdown struct{ Title, Text string }
		At       struct {
			AtMobiles []string `json:"atMobiles"`
			IsAtAll   bool     `json:"isAtAll"`
		}
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	m := notifytest.Message()
	if p.MsgType != "markdown" || p.Markdown.Title != m.Title || !strings.Contains(p.Markdown.Text, "[Open in the workbench]("+m.Link+")") ||
		!strings.Contains(p.Markdown.Text, "@13800000000") || len(p.At.AtMobiles) != 1 || p.At.AtMobiles[0] != "13800000000" || p.At.IsAtAll {
		t.Fatalf("got %+v", p)
	}
}

func TestFeishuSigned(t *testing.T) {
	rcv := newReceiver(t, `{"code":0,"msg":"success","data":{}}`)
	w := mustNew(t, webhook.Config{Name: "lark", URL: rcv.URL + "/open-apis/bot/v2/hook/" + token, Format: webhook.Feishu, Secret: secret})
	send(t, w)
	_, body := rcv.last(t)
	var p struct {
		Timestamp string `json:"timestamp"`
		Sign      string `json:"sign"`
		MsgType   string `json:"msg_type"`
		Content   struct {
			Post struct {
				ZhCN struct {
					Title   string `json:"title"`
					Content [][]map[string]string
				} `json:"zh_cn"`
			} `json:"post"`
		} `json:"content"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Timestamp != strconv.FormatInt(now.Unix(), 10) {
		t.Fatalf("got timestamp %q, want seconds", p.Timestamp)
	}
	// Feishu: base64(HmacSHA256(key=ts+"\n"+secret, empty message)).
	mac := hmac.New(sha256.New, []byte(p.Timestamp+"\n"+secret))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); p.Sign != want {
		t.Fatalf("got sign %q, want %q", p.Sign, want)
	}
	m := notifytest.Message()
	if p.MsgType != "post" || p.Content.Post.ZhCN.Title != m.Title {
		t.Fatalf("got %+v", p)
	}
	var link, at bool
	for _, line := range p.Content.Post.ZhCN.Content {
		for _, e := range line {
			link = link || (e["tag"] == "a" && e["href"] == m.Link)
			at = at || (e["tag"] == "at" && e["user_id"] == "U123")
		}
	}
	if !link || !at {
		t.Fatalf("got content %+v, want a link and a mention", p.Content.Post.ZhCN.Content)
	}
}

func TestWeCom(t *testing.T) {
	rcv := newReceiver(t, `{"errcode":0,"errmsg":"ok"}`)
	w := mustNew(t, webhook.Config{Name: "wecom", Format: webhook.WeCom, URL: rcv.URL + "/cgi-bin/webhook/send?key=" + token})
	send(t, w)
	req, body := rcv.last(t)
	if req.URL.Query().Get("key") != token {
		t.Fatal("key lost")
	}
	var p struct {
		MsgType  string            `json:"msgtype"`
		Markdown map[string]string `json:"markdown"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	m := notifytest.Message()
	c := p.Markdown["content"]
	if p.MsgType != "markdown" || !strings.Contains(c, m.Title) || !strings.Contains(c, "[Open in the workbench]("+m.Link+")") || !strings.Contains(c, "<@U123>") {
		t.Fatalf("got %+v", p)
	}
}

// Robots answer 200 with an error code; the verdict depends on the code.
func TestVendorErrorCodes(t *testing.T) {
	tests := []struct {
		format, reply string
		wantErr       bool
		wantRetry     bool
	}{
		{webhook.DingTalk, `{"errcode":310000,"errmsg":"sign not match"}`, true, false},
		{webhook.DingTalk, `{"errcode":130101,"errmsg":"send too fast"}`, true, true},
		{webhook.DingTalk, `<html>proxy</html>`, true, true},
		{webhook.Feishu, `{"code":19021,"msg":"sign match fail"}`, true, false},
		{webhook.Feishu, `{"code":11232,"msg":"frequency limited"}`, true, true},
		{webhook.Feishu, `{"StatusCode":0,"StatusMessage":"success"}`, false, false},
		{webhook.WeCom, `{"errcode":93000,"errmsg":"invalid webhook url"}`, true, false},
		{webhook.WeCom, `{"errcode":45009,"errmsg":"api freq out of limit"}`, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.format+" "+tt.reply, func(t *testing.T) {
			rcv := newReceiver(t, tt.reply)
			w := mustNew(t, webhook.Config{Name: "x", Format: tt.format, URL: rcv.URL + "/send?access_token=" + token, Secret: secret})
			retry, err := w.Notify(context.Background(), "x", notifytest.Message())
			if (err != nil) != tt.wantErr || retry != tt.wantRetry {
				t.Fatalf("got retry %v err %v, want retry %v err %v", retry, err, tt.wantRetry, tt.wantErr)
			}
			notifytest.NoSecret(t, err, token, secret)
		})
	}
}

// The shared retry table, run against every format, with the token in the
// URL the way robots carry it: no error may print it.
func TestRetryAllFormats(t *testing.T) {
	for _, f := range webhook.Formats {
		t.Run(f, func(t *testing.T) {
			notifytest.CheckHTTPRetry(t, func(u string) notify.Notifier {
				return mustNew(t, webhook.Config{Name: "x", Format: f, URL: u + "/hook/" + token + "?access_token=" + token, Secret: secret,
					Headers: map[string]string{"Authorization": "Bearer " + token}})
			}, token, secret)
		})
	}
}

func TestInferFormat(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://hooks.slack.com/services/T/B/x", webhook.Slack},
		{"https://oapi.dingtalk.com/robot/send?access_token=x", webhook.DingTalk},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/x", webhook.Feishu},
		{"https://open.larksuite.com/open-apis/bot/v2/hook/x", webhook.Feishu},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", webhook.WeCom},
		{"https://mattermost.example.com/hooks/x", webhook.Generic},
		{"::", webhook.Generic},
	}
	for _, tt := range tests {
		if got := webhook.InferFormat(tt.url); got != tt.want {
			t.Errorf("InferFormat(%q): got %q, want %q", tt.url, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     webhook.Config
		wantErr string
	}{
		{"ok", webhook.Config{Name: "a", URL: "https://x.example/h"}, ""},
		{"no name", webhook.Config{URL: "https://x.example/h"}, "name is empty"},
		{"relative url", webhook.Config{Name: "a", URL: "/h?key=" + token}, "absolute http(s) URL"},
		{"bad format", webhook.Config{Name: "a", URL: "https://x.example/h", Format: "teams"}, `format "teams"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
			notifytest.NoSecret(t, err, token)
		})
	}
}
