package events

import (
	"errors"
	"fmt"
	"net/http"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// The status a CloudEvent handler answers is its retry policy (DESIGN §2,
// STYLE habit 3). sdk-go turns an *http.Result into that status, any other
// error into 500 and nil into 200. Knative retries 5xx, 404, 408, 409, 429
// and network errors, so:
//
//   - nil: handled (also "already handled" and "nothing to do");
//   - Permanent(err): 422, never retried, goes to the dead letter sink;
//   - Malformed(err): 400, the event itself cannot be read;
//   - Retryable(err) or any plain error: 503/500, redelivered.
//
// Never answer 404 or 409 for a permanent outcome: Knative would retry it.

// Permanent marks a failure that a redelivery cannot fix (unknown strategy,
// business rejection). It answers 422.
func Permanent(err error) error {
	return cloudevents.NewHTTPResult(http.StatusUnprocessableEntity, "%w", err)
}

// Malformed marks an event whose data cannot be decoded. It answers 400.
func Malformed(err error) error {
	return cloudevents.NewHTTPResult(http.StatusBadRequest, "%w", err)
}

// Retryable marks a transient failure (database or network down). It answers
// 503, which Knative and the local broker redeliver with backoff.
func Retryable(err error) error {
	return cloudevents.NewHTTPResult(http.StatusServiceUnavailable, "%w", err)
}

// RetryableStatus reports whether Knative's delivery retries a response with
// this status (knative/eventing pkg/kncloudevents/retries.go).
func RetryableStatus(code int) bool {
	switch {
	case code >= 500:
		return true
	case code == http.StatusNotFound, code == http.StatusRequestTimeout,
		code == http.StatusConflict, code == http.StatusTooManyRequests:
		return true
	}
	return false
}

// StatusCode is the HTTP status a handler error turns into.
func StatusCode(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var r *cehttp.Result
	if errors.As(err, &r) && r.StatusCode > 100 && r.StatusCode < 600 {
		return r.StatusCode
	}
	return http.StatusInternalServerError
}

// IsPermanent reports whether err answers a status Knative does not retry.
func IsPermanent(err error) bool {
	return err != nil && !RetryableStatus(StatusCode(err))
}

// Decode reads the event's JSON data into v; a failure is Malformed (400),
// since no redelivery of the same bytes can succeed.
func Decode(e cloudevents.Event, v any) error {
	if len(e.Data()) == 0 {
		return Malformed(fmt.Errorf("event %s (%s) has no data", e.ID(), e.Type()))
	}
	if err := e.DataAs(v); err != nil {
		return Malformed(fmt.Errorf("event %s (%s): decode data: %w", e.ID(), e.Type(), err))
	}
	return nil
}
