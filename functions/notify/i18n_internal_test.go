package notify

import (
	"slices"
	"strings"
	"testing"

	"github.com/elasticpool/elasticpool/shared/orderflow"
)

func TestParseLanguage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Language
		wantErr bool
	}{
		{"", LanguageZhCN, false},
		{"zh-CN", LanguageZhCN, false},
		{"zh_cn", LanguageZhCN, false},
		{"en-US", LanguageEnUS, false},
		{" EN-us ", LanguageEnUS, false},
		{"fr-FR", "", true},
		{"en", "", true},
	}
	for _, tt := range tests {
		got, err := ParseLanguage(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLanguage(%q): got %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "NOTIFY_LANGUAGE") {
			t.Errorf("ParseLanguage(%q): error %q does not name NOTIFY_LANGUAGE", tt.in, err)
		}
	}
}

// Every language defines the same texts, and every action type and status
// the order flow knows, so no enum shows up untranslated.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	t.Parallel()
	var want []string
	for i, l := range Languages() {
		c, err := loadCatalog(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		keys := c.keys()
		slices.Sort(keys)
		if len(keys) == 0 {
			t.Fatalf("%s: no texts", l)
		}
		for _, a := range orderflow.ActionTypes() {
			if !c.has("action." + string(a)) {
				t.Errorf("%s: action type %s is not translated", l, a)
			}
		}
		for _, s := range orderflow.Statuses() {
			if !c.has("status." + string(s)) {
				t.Errorf("%s: status %s is not translated", l, s)
			}
		}
		for _, k := range keys {
			v, err := c.text(k, map[string]any{"ID": int64(7)})
			// Texts with event data are rendered by TestEveryEventInEveryLanguage;
			// here the data-free ones must render and say something.
			if err == nil && strings.TrimSpace(v) == "" {
				t.Errorf("%s: %s is empty", l, k)
			}
		}
		if i == 0 {
			want = keys
			continue
		}
		if !slices.Equal(keys, want) {
			t.Errorf("%s defines %v\n%s defines %v", l, keys, Languages()[0], want)
		}
	}
}

// A text that uses data its caller does not pass fails instead of printing
// "<no value>"; so does a key no language defines.
func TestMissingTextIsAnError(t *testing.T) {
	t.Parallel()
	c, err := loadCatalog(LanguageZhCN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.text("orderCreated.title", map[string]any{"Number": "EP-1"}); err == nil {
		t.Error("got no error for a text missing its data")
	}
	if _, err := c.text("no.such.key", nil); err == nil || !strings.Contains(err.Error(), "no.such.key") {
		t.Errorf("got %v, want an error naming the key", err)
	}
	w := &words{c: c}
	if got := w.enum("status", "some_future_status"); got != "some_future_status" {
		t.Errorf("unknown enum: got %q, want it unchanged", got)
	}
	if got := w.enum("status", "failed"); got != "失败" || w.err != nil {
		t.Errorf("got %q, %v; want 失败", got, w.err)
	}
	_ = w.t("no.such.key", nil)
	if w.err == nil {
		t.Error("words kept no error for a missing key")
	}
}
