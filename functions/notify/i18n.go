package notify

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	texttemplate "text/template"
)

// Language is the language notifications are written in (NOTIFY_LANGUAGE).
type Language string

// Languages notify writes. The default matches the UI's (zh-CN).
const (
	LanguageZhCN    Language = "zh-CN"
	LanguageEnUS    Language = "en-US"
	DefaultLanguage          = LanguageZhCN
)

// Languages lists every language with a catalog, default first.
func Languages() []Language { return []Language{LanguageZhCN, LanguageEnUS} }

// ParseLanguage reads a NOTIFY_LANGUAGE value (case-insensitive, "_" or
// "-"); empty is the default.
func ParseLanguage(s string) (Language, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultLanguage, nil
	}
	norm := strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	for _, l := range Languages() {
		if strings.EqualFold(norm, string(l)) {
			return l, nil
		}
	}
	return "", fmt.Errorf("NOTIFY_LANGUAGE %q: want zh-CN or en-US", s)
}

// The texts of each language are named templates in templates/lang/<lang>.tmpl:
// one file per language keeps a translator's work in one place, and the
// layouts (message.*.tmpl) stay shared so the languages cannot drift apart.
//
//go:embed templates/lang/*.tmpl
var langFS embed.FS

// catalog is one language's texts.
type catalog struct {
	lang Language
	t    *texttemplate.Template
}

func loadCatalog(l Language) (*catalog, error) {
	t, err := texttemplate.New(string(l)).Option("missingkey=error").ParseFS(langFS, "templates/lang/"+string(l)+".tmpl")
	if err != nil {
		return nil, err
	}
	return &catalog{lang: l, t: t}, nil
}

// has reports whether key is translated.
func (c *catalog) has(key string) bool { return c.t.Lookup(key) != nil }

// text renders key with data (a map: a key the text uses but data lacks is
// an error, so a text cannot silently print "<no value>").
func (c *catalog) text(key string, data map[string]any) (string, error) {
	t := c.t.Lookup(key)
	if t == nil {
		return "", fmt.Errorf("notify: no %s text for %q", c.lang, key)
	}
	if data == nil {
		data = map[string]any{}
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("notify: %s text %q: %w", c.lang, key, err)
	}
	return b.String(), nil
}

// keys lists the catalog's entries (for the completeness test).
func (c *catalog) keys() []string {
	var out []string
	for _, t := range c.t.Templates() {
		if t.Name() != string(c.lang) && t.Name() != string(c.lang)+".tmpl" {
			out = append(out, t.Name())
		}
	}
	return out
}

// words renders texts for one message and keeps the first error, so content
// code reads as a list of assignments; describe checks err once.
type words struct {
	c   *catalog
	err error
}

func (w *words) t(key string, data map[string]any) string {
	s, err := w.c.text(key, data)
	if err != nil && w.err == nil {
		w.err = err
	}
	return s
}

// enum translates a value of an enumeration (action type, status). A value
// this version does not know (added later) is shown as it is rather than
// failing the notification; every known value is checked by the tests.
func (w *words) enum(kind, value string) string {
	if value == "" {
		return ""
	}
	if !w.c.has(kind + "." + value) {
		return value
	}
	return w.t(kind+"."+value, nil)
}

// action names an action type in prose ("" is a generic scaling order).
func (w *words) action(a string) string {
	if a == "" {
		return w.t("action.none", nil)
	}
	return w.enum("action", a)
}
