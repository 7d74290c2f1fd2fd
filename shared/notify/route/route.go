// Package route decides who hears about an event: routes match on the event
// type, action, cluster, pool, pool type and new order status, and name
// targets such as "onduty:email" or "webhook:ops-dingtalk". Like
// alertmanager, routes are tried in order, the first match wins unless it
// says continue, and the default applies when no route matches. Pure logic.
package route

import (
	"errors"
	"fmt"
	"net/mail"
	"path"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/webhook"
)

// Facts describe an event for matching. Empty facts match no filter.
type Facts struct {
	Event    string // short type: order.created, order.status.changed, inventory.shortage, maintenance.requested, …
	Action   string // pool_entry, pool_exit, maintenance, uncordon
	Cluster  string // cluster name
	Pool     string // pool name
	PoolType string
	Status   string // the order's status after a change (order.status.changed: "to")
}

// Match is a route's filter: every non-empty list must match its fact;
// entries are globs (path.Match: *, ?, [..]).
type Match struct {
	Events    []string `json:"events,omitempty"`
	Actions   []string `json:"actions,omitempty"`
	Clusters  []string `json:"clusters,omitempty"`
	Pools     []string `json:"pools,omitempty"`
	PoolTypes []string `json:"poolTypes,omitempty"`
	Statuses  []string `json:"statuses,omitempty"`
}

// Route sends matching events to its targets.
type Route struct {
	Name  string   `json:"name,omitempty"`
	Match Match    `json:"match"`
	To    []string `json:"to"`
	// Continue keeps evaluating the routes after this one.
	Continue bool `json:"continue,omitempty"`

	targets []Target
}

// Target is one destination.
type Target struct {
	Channel string // notify.ChannelEmail, ChannelInApp or ChannelWebhook
	// To is the address, user name or webhook name; empty when OnDuty.
	To string
	// OnDuty sends to each person on duty by Channel (email or inapp).
	OnDuty bool
}

func (t Target) String() string {
	if t.OnDuty {
		return "onduty:" + t.Channel
	}
	return t.Channel + ":" + t.To
}

// ParseTarget reads "onduty:email", "onduty:inapp", "email:<address>",
// "inapp:<user>" or "webhook:<name>".
func ParseTarget(s string) (Target, error) {
	kind, arg, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || arg == "" {
		return Target{}, fmt.Errorf("target %q: want onduty:email, onduty:inapp, email:<address>, inapp:<user> or webhook:<name>", s)
	}
	switch kind {
	case "onduty":
		if arg != notify.ChannelEmail && arg != notify.ChannelInApp {
			return Target{}, fmt.Errorf("target %q: on-duty people are reached by email or inapp", s)
		}
		return Target{Channel: arg, OnDuty: true}, nil
	case notify.ChannelEmail:
		if _, err := mail.ParseAddress(arg); err != nil {
			return Target{}, fmt.Errorf("target %q: %v", s, err)
		}
		return Target{Channel: kind, To: arg}, nil
	case notify.ChannelInApp, notify.ChannelWebhook:
		return Target{Channel: kind, To: arg}, nil
	}
	return Target{}, fmt.Errorf("target %q: unknown kind %q", s, kind)
}

// DefaultTargets is the built-in default: the on-duty people by email and in-app.
var DefaultTargets = []string{"onduty:email", "onduty:inapp"}

// File is the NOTIFY_ROUTES document (YAML or JSON).
type File struct {
	// Webhooks defines named webhooks; values may use ${ENV_VAR} so secrets
	// stay in the environment (a Secret) while the file lives in a ConfigMap.
	Webhooks []webhook.Config `json:"webhooks,omitempty"`
	// Default are the targets when no route matches (absent: DefaultTargets).
	Default []string `json:"default,omitempty"`
	Routes  []Route  `json:"routes,omitempty"`
}

// Table is a compiled routing table.
type Table struct {
	def    []Target
	routes []Route
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// ParseFile reads a routes document (YAML or JSON; unknown fields are
// errors), then expands ${VAR} references in webhook fields and targets with
// lookup. Expansion happens after parsing so a value can never change the
// document's structure. A reference to an unset variable is an error: a
// silently empty webhook URL or secret would only fail much later.
func ParseFile(b []byte, lookup func(string) (string, bool)) (*File, error) {
	var f File
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		// Decoder errors name keys and lines, never values.
		return nil, fmt.Errorf("routes: %s", firstLine(err.Error()))
	}
	var missing []string
	expand := func(s string) string {
		return envRef.ReplaceAllStringFunc(s, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			v, ok := lookup(name)
			if !ok && !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
			return v
		})
	}
	for i := range f.Webhooks {
		w := &f.Webhooks[i]
		w.Name, w.Format, w.URL, w.Secret = expand(w.Name), expand(w.Format), expand(w.URL), expand(w.Secret)
		for k, v := range w.Headers {
			w.Headers[k] = expand(v)
		}
	}
	for i := range f.Default {
		f.Default[i] = expand(f.Default[i])
	}
	for i := range f.Routes {
		for j := range f.Routes[i].To {
			f.Routes[i].To[j] = expand(f.Routes[i].To[j])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("routes: unset environment variables: %s", strings.Join(missing, ", "))
	}
	return &f, nil
}

// Compile checks targets and builds the table. hasWebhook reports whether a
// webhook name is defined (in the file or the environment).
func (f *File) Compile(hasWebhook func(string) bool) (*Table, error) {
	var errs []error
	t := &Table{}
	def := f.Default
	if def == nil {
		def = DefaultTargets
	}
	var err error
	if t.def, err = targets(def, hasWebhook); err != nil {
		errs = append(errs, fmt.Errorf("default: %w", err))
	}
	for i, r := range f.Routes {
		name := r.Name
		if name == "" {
			name = fmt.Sprintf("routes[%d]", i)
		}
		if r.targets, err = targets(r.To, hasWebhook); err != nil {
			errs = append(errs, fmt.Errorf("route %s: %w", name, err))
		}
		for _, g := range slices.Concat(r.Match.Events, r.Match.Actions, r.Match.Clusters, r.Match.Pools, r.Match.PoolTypes, r.Match.Statuses) {
			if _, err := path.Match(g, ""); err != nil {
				errs = append(errs, fmt.Errorf("route %s: bad pattern %q", name, g))
			}
		}
		t.routes = append(t.routes, r)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("routes: %w", errors.Join(errs...))
	}
	return t, nil
}

func targets(list []string, hasWebhook func(string) bool) ([]Target, error) {
	var out []Target
	var errs []error
	for _, s := range list {
		tg, err := ParseTarget(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if tg.Channel == notify.ChannelWebhook && (hasWebhook == nil || !hasWebhook(tg.To)) {
			errs = append(errs, fmt.Errorf("target %q: no webhook named %q", s, tg.To))
			continue
		}
		out = append(out, tg)
	}
	return out, errors.Join(errs...)
}

// Default builds the table used without a routes file: defaults plus extra targets.
func Default(extra ...Target) *Table {
	t := &Table{}
	for _, s := range DefaultTargets {
		tg, _ := ParseTarget(s)
		t.def = append(t.def, tg)
	}
	t.def = append(t.def, extra...)
	return t
}

// Resolve returns the targets for an event, without duplicates, in order.
func (t *Table) Resolve(f Facts) []Target {
	var out []Target
	matched := false
	for _, r := range t.routes {
		if !r.Match.matches(f) {
			continue
		}
		matched = true
		out = append(out, r.targets...)
		if !r.Continue {
			break
		}
	}
	if !matched {
		out = append(out, t.def...)
	}
	return dedupe(out)
}

func (m Match) matches(f Facts) bool {
	return matchAny(m.Events, f.Event) && matchAny(m.Actions, f.Action) && matchAny(m.Clusters, f.Cluster) &&
		matchAny(m.Pools, f.Pool) && matchAny(m.PoolTypes, f.PoolType) && matchAny(m.Statuses, f.Status)
}

// matchAny reports whether v matches one of globs; an empty list matches everything.
func matchAny(globs []string, v string) bool {
	if len(globs) == 0 {
		return true
	}
	if v == "" {
		return false
	}
	for _, g := range globs {
		if ok, _ := path.Match(g, v); ok {
			return true
		}
	}
	return false
}

func dedupe(ts []Target) []Target {
	seen := map[Target]bool{}
	out := ts[:0:0]
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// ShortEvent turns "io.elasticpool.order.created.v1" into "order.created".
func ShortEvent(ceType string) string {
	s := strings.TrimPrefix(ceType, "io.elasticpool.")
	if i := strings.LastIndex(s, ".v"); i > 0 && isDigits(s[i+2:]) {
		s = s[:i]
	}
	return s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
