// Package notify holds what every notification channel shares: the
// channel-neutral Message, the Notifier interface (alertmanager style: each
// integration says whether a failure is worth retrying), the on-duty Person,
// and the helpers that keep secrets out of error text.
//
// Channels live in subpackages: email (SMTP), webhook (generic JSON, Slack,
// DingTalk, Feishu, WeCom), inapp (the notifications table). The on-duty
// lookup is in roster and the routing rules in route.
package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Channel names, as stored in notification_log.channel.
const (
	ChannelEmail   = "email"
	ChannelInApp   = "inapp"
	ChannelWebhook = "webhook"
)

// Notifier delivers one message to one recipient of its channel: an email
// address, an app user name, or (webhooks) the webhook's configured name.
// retry reports whether the same call may succeed later (network error, 4xx
// SMTP reply, HTTP 429/5xx); a false retry with an error is permanent (bad
// address, rejected payload, bad signature). Errors never contain a secret.
type Notifier interface {
	Notify(ctx context.Context, to string, m Message) (retry bool, err error)
}

// Message is one notification, independent of the channel that carries it.
type Message struct {
	EventID   string
	EventType string
	// Kind is the short event name, e.g. "order.created".
	Kind string
	// Severity is "info" or "warning" (chat formats colour or prefix by it).
	Severity string
	// Title is the email subject and the chat message title.
	Title string
	// Text is the plain-text body; HTML the HTML body (email only).
	Text string
	HTML string
	// Link points at the object in the workbench (UI_BASE_URL + /orders/<id>).
	Link string
	// Facts are short name/value pairs (order, cluster, pool, ...), in display order.
	Facts []Fact
	// OnDuty are the people on duty when the event happened (chat formats mention them).
	OnDuty []Person
	// Data is the event's data, passed through by the generic webhook.
	Data any
	// Time is when the event happened.
	Time time.Time
	// Labels are the fixed words a channel adds around the content, in the
	// content's language (NOTIFY_LANGUAGE).
	Labels Labels
}

// Labels are the words channels write around a message (link text, the
// on-duty line). An empty field falls back to English, so a Message built
// without them still reads.
type Labels struct {
	// Open is the text of the link to the workbench.
	Open string
	// OnDuty introduces the on-duty names ("On duty").
	OnDuty string
}

// OpenText is the link text.
func (l Labels) OpenText() string {
	if l.Open == "" {
		return "Open in the workbench"
	}
	return l.Open
}

// OnDutyText introduces the on-duty names, without a colon.
func (l Labels) OnDutyText() string {
	if l.OnDuty == "" {
		return "On duty"
	}
	return l.OnDuty
}

// Fact is one labelled value of a message.
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Person is someone on the duty roster. Person is also their user name in
// the app (as in AUTH_TOKENS or the auth proxy), which is how in-app
// notifications find them.
type Person struct {
	Person string `json:"person"`
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"`
	// ChatID is their id in the team's chat (Slack member id, Feishu open_id,
	// WeCom userid); chat webhooks use it to mention them.
	ChatID string `json:"chatId,omitempty"`
}

// RetryableStatus reports whether an HTTP status is worth retrying: timeouts,
// rate limits and server errors. Every HTTP integration uses it so they agree.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported, http.StatusNetworkAuthenticationRequired:
		return false
	}
	return code >= 500
}

// Error is a delivery error whose text is already free of secrets. The
// underlying error stays reachable with errors.Is/As (for context errors)
// but its raw text is never printed.
type Error struct {
	msg string
	err error
}

// Errorf builds an Error: the formatted text with every secret replaced.
// cause may be nil.
func Errorf(cause error, secrets []string, format string, args ...any) *Error {
	return &Error{msg: Scrub(fmt.Sprintf(format, args...), secrets...), err: cause}
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.err }

// Scrub replaces every non-empty secret in s with "[redacted]". Secrets shorter
// than 4 bytes are ignored: replacing them would mangle ordinary text and they
// protect nothing.
func Scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
