// Package apitest drives an API handler over real HTTP semantics (httptest)
// and checks every response against the API's own OpenAPI document, so the
// document cannot drift from the handlers.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/elasticpool/elasticpool/shared/httpapi"
)

// Client sends requests to h as the user of Token.
type Client struct {
	t     testing.TB
	h     http.Handler
	api   huma.API
	Token string
	cov   *Coverage
}

// Coverage records which operations a test suite exercised.
type Coverage struct {
	mu  sync.Mutex
	hit map[string]bool
}

// NewCoverage starts an empty record.
func NewCoverage() *Coverage { return &Coverage{hit: map[string]bool{}} }

// Missing lists operation ids of api never exercised. Operations the
// document marks as served by another function (httpapi.MetaServedBy) are
// that function's tests' to exercise.
func (c *Coverage) Missing(api huma.API) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, op := range operations(api) {
		if by, _ := op.op.Metadata[httpapi.MetaServedBy].(string); by != "" {
			continue
		}
		if !c.hit[op.op.OperationID] {
			out = append(out, op.op.Method+" "+op.path+" ("+op.op.OperationID+")")
		}
	}
	sort.Strings(out)
	return out
}

// New returns a client; cov may be nil.
func New(t testing.TB, h http.Handler, api huma.API, token string, cov *Coverage) *Client {
	return &Client{t: t, h: h, api: api, Token: token, cov: cov}
}

// As returns a copy of the client using another token.
func (c *Client) As(token string) *Client {
	cp := *c
	cp.Token = token
	return &cp
}

// Response is a recorded response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem is an RFC 9457 body.
type Problem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"errors"`
}

// Problem decodes an error body.
func (r *Response) Problem(t testing.TB) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p Problem
	r.JSON(t, &p)
	return p
}

// Locations lists the field paths of a problem's errors.
func (p Problem) Locations() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Location)
	}
	sort.Strings(out)
	return out
}

// Do sends a request. body may be nil, []byte/string (sent as is) or a value
// (JSON encoded). headers are name, value pairs.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	res := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	c.check(method, req.URL.Path, res)
	return res
}

// Must is Do that fails the test unless the status is want.
func (c *Client) Must(want int, method, path string, body any, headers ...string) *Response {
	c.t.Helper()
	r := c.Do(method, path, body, headers...)
	if r.Status != want {
		c.t.Fatalf("%s %s: got %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	return r
}

type opEntry struct {
	path string
	re   *regexp.Regexp
	op   *huma.Operation
}

func operations(api huma.API) []opEntry {
	var out []opEntry
	for path, item := range api.OpenAPI().Paths {
		re := regexp.MustCompile("^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$")
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch, item.Head} {
			if op != nil {
				out = append(out, opEntry{path: path, re: re, op: op})
			}
		}
	}
	return out
}

// check validates the response against the operation's documented responses.
func (c *Client) check(method, path string, res *Response) {
	c.t.Helper()
	var match *opEntry
	ops := operations(c.api)
	// Prefer literal segments over parameters (/orders/summary over /orders/{id}).
	sort.Slice(ops, func(i, j int) bool { return strings.Count(ops[i].path, "{") < strings.Count(ops[j].path, "{") })
	for i := range ops {
		if ops[i].op.Method == method && ops[i].re.MatchString(path) {
			match = &ops[i]
			break
		}
	}
	if match == nil {
		if strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/api/v1/openapi") && res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
			c.t.Errorf("%s %s answered %d but is not in the OpenAPI document", method, path, res.Status)
		}
		return
	}
	if c.cov != nil {
		c.cov.mu.Lock()
		c.cov.hit[match.op.OperationID] = true
		c.cov.mu.Unlock()
	}
	resp := match.op.Responses[strconv.Itoa(res.Status)]
	if resp == nil {
		resp = match.op.Responses["default"]
	}
	if resp == nil {
		c.t.Errorf("%s %s answered %d, not documented (documented: %v); body %s", method, path, res.Status, keys(match.op.Responses), res.Body)
		return
	}
	if len(res.Body) == 0 || len(resp.Content) == 0 {
		return
	}
	ct := res.Header.Get("Content-Type")
	mt := resp.Content[strings.Split(ct, ";")[0]]
	if mt == nil {
		for _, m := range resp.Content {
			mt = m
		}
	}
	if mt == nil || mt.Schema == nil {
		return
	}
	var v any
	if err := json.Unmarshal(res.Body, &v); err != nil {
		c.t.Errorf("%s %s: body is not JSON: %v", method, path, err)
		return
	}
	vr := &huma.ValidateResult{}
	huma.Validate(c.api.OpenAPI().Components.Schemas, mt.Schema, huma.NewPathBuffer([]byte(""), 0), huma.ModeReadFromServer, v, vr)
	for _, e := range vr.Errors {
		c.t.Errorf("%s %s %d: response does not match the OpenAPI schema: %v", method, path, res.Status, e)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
