package notify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/notifytest"
)

func TestRetryableStatus(t *testing.T) {
	for _, tc := range notifytest.RetryCases {
		t.Run(fmt.Sprint(tc.Status), func(t *testing.T) {
			if got := notify.RetryableStatus(tc.Status); got != tc.WantRetry {
				t.Fatalf("got %v, want %v", got, tc.WantRetry)
			}
		})
	}
	if notify.RetryableStatus(200) {
		t.Fatal("200 is not an error to retry")
	}
}

func TestScrub(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"replaces every occurrence", "token=s3cr3t&x=s3cr3t", []string{"s3cr3t"}, "token=[redacted]&x=[redacted]"},
		{"several secrets", "a hunter22 b tok-9999", []string{"hunter22", "tok-9999"}, "a [redacted] b [redacted]"},
		{"short secrets ignored", "a b c", []string{"a", ""}, "a b c"},
		{"nothing to do", "plain", nil, "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.Scrub(tt.in, tt.secrets...); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorfKeepsCauseHidesText(t *testing.T) {
	cause := fmt.Errorf("post https://x/hook?key=topsecret: %w", context.DeadlineExceeded)
	err := notify.Errorf(cause, []string{"topsecret"}, "webhook ops: %v", cause)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("the cause is not reachable with errors.Is")
	}
	notifytest.NoSecret(t, err, "topsecret")
	if want := "webhook ops: post https://x/hook?key=[redacted]: context deadline exceeded"; err.Error() != want {
		t.Fatalf("got %q, want %q", err.Error(), want)
	}
}

func TestLabelsFallBackToEnglish(t *testing.T) {
	t.Parallel()
	var none notify.Labels
	zh := notify.Labels{Open: "在工作台中打开", OnDuty: "值班人"}
	for _, tt := range []struct{ got, want string }{
		{none.OpenText(), "Open in the workbench"}, {none.OnDutyText(), "On duty"},
		{zh.OpenText(), "在工作台中打开"}, {zh.OnDutyText(), "值班人"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
