package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/elasticpool/elasticpool/shared/notify"
)

// GenericPayload is the body of the generic format; its JSON is the contract
// documented in docs/notify.md.
type GenericPayload struct {
	Version   string          `json:"version"` // "1"
	EventID   string          `json:"eventId"`
	EventType string          `json:"eventType"`
	Kind      string          `json:"kind"`
	Severity  string          `json:"severity"`
	Title     string          `json:"title"`
	Text      string          `json:"text"`
	Link      string          `json:"link,omitempty"`
	Facts     []notify.Fact   `json:"facts"`
	OnDuty    []notify.Person `json:"onDuty"`
	Time      time.Time       `json:"time"`
	Data      any             `json:"data,omitempty"`
}

// Generic signature headers: hex HMAC-SHA256 over "<timestamp>.<body>" with
// the webhook secret, like Stripe's and GitHub's, so receivers can reject
// forged and replayed calls.
const (
	HeaderEventID   = "X-Elasticpool-Event-Id"
	HeaderTimestamp = "X-Elasticpool-Timestamp"
	HeaderSignature = "X-Elasticpool-Signature"
)

// GenericSignature is the X-Elasticpool-Signature value for body sent at ts (unix seconds).
func GenericSignature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func genericRequest(c Config, m notify.Message, now time.Time) (request, error) {
	p := GenericPayload{Version: "1", EventID: m.EventID, EventType: m.EventType, Kind: m.Kind, Severity: m.Severity,
		Title: m.Title, Text: m.Text, Link: m.Link, Facts: m.Facts, OnDuty: m.OnDuty, Time: m.Time, Data: m.Data}
	if p.Facts == nil {
		p.Facts = []notify.Fact{}
	}
	if p.OnDuty == nil {
		p.OnDuty = []notify.Person{}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return request{}, err
	}
	h := map[string]string{HeaderEventID: m.EventID}
	if c.Secret != "" {
		ts := strconv.FormatInt(now.Unix(), 10)
		h[HeaderTimestamp] = ts
		h[HeaderSignature] = GenericSignature(c.Secret, ts, body)
	}
	return request{url: c.URL, body: body, headers: h}, nil
}

// Slack (and Slack-compatible: Mattermost, Rocket.Chat): {"text": mrkdwn}.
func slackRequest(c Config, m notify.Message) (request, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n", slackEscape(m.Title))
	for _, f := range m.Facts {
		fmt.Fprintf(&b, "• %s: %s\n", slackEscape(f.Name), slackEscape(f.Value))
	}
	if m.Link != "" {
		fmt.Fprintf(&b, "<%s|%s>\n", m.Link, slackEscape(m.Labels.OpenText()))
	}
	var mentions []string
	for _, p := range m.OnDuty {
		if p.ChatID != "" {
			mentions = append(mentions, "<@"+p.ChatID+">")
		} else {
			mentions = append(mentions, slackEscape(p.Person))
		}
	}
	if len(mentions) > 0 {
		fmt.Fprintf(&b, "%s: %s\n", slackEscape(m.Labels.OnDutyText()), strings.Join(mentions, " "))
	}
	body, err := json.Marshal(map[string]string{"text": strings.TrimRight(b.String(), "\n")})
	return request{url: c.URL, body: body}, err
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// markdownLines is the body shared by the DingTalk and WeCom markdown messages.
func markdownLines(m notify.Message) []string {
	lines := []string{"### " + m.Title, ""}
	for _, f := range m.Facts {
		lines = append(lines, fmt.Sprintf("- **%s**: %s", f.Name, f.Value))
	}
	if m.Link != "" {
		lines = append(lines, "", fmt.Sprintf("[%s](%s)", m.Labels.OpenText(), m.Link))
	}
	return lines
}

// DingTalkSign is the DingTalk robot signature: base64(HMAC-SHA256(key=secret,
// "<timestamp ms>\n<secret>")), sent URL-encoded as the sign query parameter.
func DingTalkSign(secret string, tsMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(tsMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func dingTalkRequest(c Config, m notify.Message, now time.Time) (request, error) {
	lines := markdownLines(m)
	var mobiles []string
	var mentions []string
	for _, p := range m.OnDuty {
		if p.Phone != "" {
			mobiles = append(mobiles, p.Phone)
			mentions = append(mentions, "@"+p.Phone) // DingTalk only mentions numbers that appear in the text
		} else {
			mentions = append(mentions, p.Person)
		}
	}
	if len(mentions) > 0 {
		lines = append(lines, "", m.Labels.OnDutyText()+": "+strings.Join(mentions, " "))
	}
	if mobiles == nil {
		mobiles = []string{}
	}
	body, err := json.Marshal(map[string]any{
		"msgtype":  "markdown",
		"markdown": map[string]string{"title": m.Title, "text": strings.Join(lines, "\n")},
		"at":       map[string]any{"atMobiles": mobiles, "isAtAll": false},
	})
	if err != nil {
		return request{}, err
	}
	u := c.URL
	if c.Secret != "" {
		ts := now.UnixMilli()
		pu, err := url.Parse(c.URL)
		if err != nil {
			return request{}, err
		}
		q := pu.Query()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", DingTalkSign(c.Secret, ts))
		pu.RawQuery = q.Encode()
		u = pu.String()
	}
	return request{url: u, body: body}, nil
}

// dingTalkResult reads {"errcode":0,"errmsg":"ok"}; 130101 and 410100 are
// "sending too fast" (retry), anything else non-zero is permanent (bad token,
// bad signature, keyword or IP not allowed).
func dingTalkResult(body []byte, w *Webhook) (bool, error) {
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.ErrCode == nil {
		return true, w.errorf(err, "unexpected answer: %s", snippet(body))
	}
	if *r.ErrCode != 0 {
		retry := *r.ErrCode == 130101 || *r.ErrCode == 410100
		return retry, w.errorf(nil, "errcode %d: %s", *r.ErrCode, r.ErrMsg)
	}
	return false, nil
}

// FeishuSign is the Feishu/Lark robot signature: base64(HMAC-SHA256(key=
// "<timestamp s>\n<secret>", empty message)), sent in the body with the timestamp.
func FeishuSign(secret string, tsSeconds int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(tsSeconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type feishuElem struct {
	Tag    string `json:"tag"`
	Text   string `json:"text,omitempty"`
	Href   string `json:"href,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

func feishuRequest(c Config, m notify.Message, now time.Time) (request, error) {
	var content [][]feishuElem
	for _, f := range m.Facts {
		content = append(content, []feishuElem{{Tag: "text", Text: f.Name + ": " + f.Value}})
	}
	if m.Link != "" {
		content = append(content, []feishuElem{{Tag: "a", Text: m.Labels.OpenText(), Href: m.Link}})
	}
	if len(m.OnDuty) > 0 {
		line := []feishuElem{{Tag: "text", Text: m.Labels.OnDutyText() + ": "}}
		for _, p := range m.OnDuty {
			if p.ChatID != "" {
				line = append(line, feishuElem{Tag: "at", UserID: p.ChatID})
			} else {
				line = append(line, feishuElem{Tag: "text", Text: p.Person + " "})
			}
		}
		content = append(content, line)
	}
	if content == nil {
		content = [][]feishuElem{}
	}
	payload := map[string]any{
		"msg_type": "post",
		"content": map[string]any{"post": map[string]any{
			"zh_cn": map[string]any{"title": m.Title, "content": content},
		}},
	}
	if c.Secret != "" {
		ts := now.Unix()
		payload["timestamp"] = strconv.FormatInt(ts, 10)
		payload["sign"] = FeishuSign(c.Secret, ts)
	}
	body, err := json.Marshal(payload)
	return request{url: c.URL, body: body}, err
}

// feishuResult reads {"code":0,"msg":"success"} (or the older
// {"StatusCode":0}); 11232 is the robot's rate limit (retry).
func feishuResult(body []byte, w *Webhook) (bool, error) {
	var r struct {
		Code       *int   `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int   `json:"StatusCode"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return true, w.errorf(err, "unexpected answer: %s", snippet(body))
	}
	code := r.Code
	if code == nil {
		code = r.StatusCode
	}
	if code == nil {
		return true, w.errorf(nil, "unexpected answer: %s", snippet(body))
	}
	if *code != 0 {
		return *code == 11232, w.errorf(nil, "code %d: %s", *code, r.Msg)
	}
	return false, nil
}

func weComRequest(c Config, m notify.Message) (request, error) {
	lines := markdownLines(m)
	var mentions []string
	for _, p := range m.OnDuty {
		if p.ChatID != "" {
			mentions = append(mentions, "<@"+p.ChatID+">")
		} else {
			mentions = append(mentions, p.Person)
		}
	}
	if len(mentions) > 0 {
		lines = append(lines, "", m.Labels.OnDutyText()+": "+strings.Join(mentions, " "))
	}
	content := strings.Join(lines, "\n")
	if len(content) > 4096 { // the robot's limit, in bytes
		content = truncateUTF8(content, 4090) + "…"
	}
	body, err := json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": content}})
	return request{url: c.URL, body: body}, err
}

// weComResult reads {"errcode":0,"errmsg":"ok"}; 45009 is the rate limit (retry).
func weComResult(body []byte, w *Webhook) (bool, error) {
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.ErrCode == nil {
		return true, w.errorf(err, "unexpected answer: %s", snippet(body))
	}
	if *r.ErrCode != 0 {
		return *r.ErrCode == 45009, w.errorf(nil, "errcode %d: %s", *r.ErrCode, r.ErrMsg)
	}
	return false, nil
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
