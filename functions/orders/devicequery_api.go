package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/devicequery/pgquery"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// ExtraConditions are conditions ANDed to the template: an array of blocks
// (all must hold) or a whole template.
type ExtraConditions struct {
	Blocks   []DeviceQueryBlock
	Template *DeviceQuery
}

// UnmarshalJSON takes either form; the schema below has already checked it.
func (e *ExtraConditions) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &e.Blocks)
	}
	e.Template = &DeviceQuery{}
	return json.Unmarshal(b, e.Template)
}

// Schema documents the two forms.
func (ExtraConditions) Schema(r huma.Registry) *huma.Schema {
	maxBlocks := devicequery.MaxBlocks
	return &huma.Schema{
		Description: "Conditions ANDed to the template: an array of blocks (all must hold) or a template.",
		OneOf: []*huma.Schema{
			{Type: huma.TypeArray, MaxItems: &maxBlocks, Items: r.Schema(reflect.TypeFor[DeviceQueryBlock](), true, "")},
			r.Schema(reflect.TypeFor[DeviceQuery](), true, ""),
		},
	}
}

// template converts the extra conditions; ok is false when there are none.
func (e *ExtraConditions) template() (t devicequery.Template, ok bool) {
	switch {
	case e == nil:
		return t, false
	case e.Template != nil:
		return e.Template.template(), true
	case len(e.Blocks) == 0:
		return t, false
	}
	bs := make([]devicequery.Block, len(e.Blocks))
	for i, b := range e.Blocks {
		bs[i] = devicequery.Block(b)
	}
	return devicequery.AllOf(bs...), true
}

// errors locates validation errors under body.extra.
func (e *ExtraConditions) errors(t devicequery.Template) []*httpapi.FieldError {
	errs := devicequery.Validate(t)
	if e.Template != nil {
		return queryErrors(errs, "body.extra")
	}
	// AllOf put the blocks in groups[0]: report them as the array they came in.
	out := make([]*httpapi.FieldError, len(errs))
	for i, fe := range errs {
		loc := "body.extra"
		if rest, ok := strings.CutPrefix(fe.Path, "groups[0].blocks"); ok {
			loc += rest
		}
		out[i] = &httpapi.FieldError{Location: loc, Message: fe.Message}
	}
	return out
}

// DeviceQueryRequest is the body of POST /device-query/query.
type DeviceQueryRequest struct {
	TemplateID *int64           `json:"templateId,omitempty" minimum:"1" doc:"A stored template. Send either templateId or groups."`
	Groups     *DeviceQuery     `json:"groups,omitempty" doc:"An inline template (the JSON a template stores), e.g. one being edited."`
	Extra      *ExtraConditions `json:"extra,omitempty"`
	Mode       string           `json:"mode,omitempty" enum:"list,preview" default:"list" doc:"list: a page of devices and the total; preview: the count and a small sample, for a live preview."`
	Limit      int              `json:"limit,omitempty" minimum:"1" maximum:"500" doc:"list: page size (default 50); preview: sample size (default 10, at most 50)."`
	Cursor     string           `json:"cursor,omitempty" maxLength:"2000" doc:"list: nextCursor of the previous page (same query and sort)."`
	Sort       string           `json:"sort,omitempty" enum:"id,-id,hostname,-hostname,cpuCores,-cpuCores,memoryBytes,-memoryBytes" default:"id" doc:"list: the order, - for descending. preview ignores it."`
}

// DeviceQueryResult is the answer.
type DeviceQueryResult struct {
	Mode       string   `json:"mode" enum:"list,preview"`
	Items      []Device `json:"items" nullable:"false" doc:"list: the page in sort order. preview: a sample of matching devices, by id."`
	Total      int64    `json:"total" doc:"How many devices match, as countKind says."`
	CountKind  string   `json:"countKind" enum:"exact,capped,estimated" doc:"exact: total is the count. capped: at least total devices match, the count stopped at countCap (show \"10,000+\"). estimated: counting took too long; total is the planner's estimate."`
	CountCap   int64    `json:"countCap" doc:"Where a count stops."`
	NextCursor string   `json:"nextCursor,omitempty" doc:"list: pass as cursor for the next page; absent on the last page."`
}

const (
	defaultListLimit    = 50
	defaultPreviewLimit = 10
	maxPreviewLimit     = 50
)

// deviceQuerySorts map the API's sort keys to columns; the keyset condition
// and ORDER BY name them bare, which resolves to devices d in the subquery.
var deviceQuerySorts = map[string]string{"id": "id", "hostname": "hostname", "cpuCores": "cpu_cores", "memoryBytes": "memory_bytes"}

func (f *Function) registerDeviceQuery() {
	huma.Register(f.api, huma.Operation{
		OperationID: "query-devices", Method: http.MethodPost, Path: httpapi.Prefix + "/device-query/query",
		Summary: "Run a device query: a stored or inline template, plus extra conditions", Tags: []string{"query-templates"},
		Description: "Counts stop at countCap and get a time budget; past it the planner's estimate answers. countKind says which.",
		Metadata:    map[string]any{httpapi.MetaRole: auth.RoleViewer}, // a read, although a POST
	}, func(ctx context.Context, in *struct{ Body DeviceQueryRequest }) (*struct{ Body DeviceQueryResult }, error) {
		res, err := f.queryDevices(ctx, in.Body)
		if err != nil {
			return nil, err
		}
		return &struct{ Body DeviceQueryResult }{Body: res}, nil
	})
}

func (f *Function) queryDevices(ctx context.Context, b DeviceQueryRequest) (DeviceQueryResult, error) {
	if b.Mode == "" {
		b.Mode = "list"
	}
	var errs []*httpapi.FieldError
	var tmpl devicequery.Template
	switch {
	case b.TemplateID != nil && b.Groups != nil:
		errs = append(errs, &httpapi.FieldError{Location: "body.groups", Message: "send either templateId or groups, not both"})
	case b.TemplateID != nil:
		t, err := pgquery.LoadTemplate(ctx, f.db, *b.TemplateID)
		var fe devicequery.FieldErrors
		switch {
		case errors.Is(err, postgres.ErrNotFound):
			errs = append(errs, &httpapi.FieldError{Location: "body.templateId", Message: fmt.Sprintf("query template %d does not exist", *b.TemplateID), Value: *b.TemplateID})
		case errors.As(err, &fe):
			errs = append(errs, storedTemplateErrors(*b.TemplateID, fe)...)
		case err != nil:
			return DeviceQueryResult{}, httpapi.StoreError(err, fmt.Sprintf("query template %d", *b.TemplateID))
		default:
			if fe := devicequery.Validate(t); len(fe) > 0 {
				errs = append(errs, storedTemplateErrors(*b.TemplateID, fe)...)
			}
			tmpl = t
		}
	case b.Groups != nil:
		tmpl = b.Groups.template()
		errs = append(errs, queryErrors(devicequery.Validate(tmpl), "body.groups")...)
	default:
		errs = append(errs, &httpapi.FieldError{Location: "body.templateId", Message: "send templateId or groups"})
	}
	templates := []devicequery.Template{tmpl}
	if extra, ok := b.Extra.template(); ok {
		errs = append(errs, b.Extra.errors(extra)...)
		templates = append(templates, extra)
	}
	limit := b.Limit
	if b.Mode == "preview" {
		if limit == 0 {
			limit = defaultPreviewLimit
		}
		if limit > maxPreviewLimit {
			errs = append(errs, &httpapi.FieldError{Location: "body.limit", Message: fmt.Sprintf("a preview samples at most %d devices", maxPreviewLimit), Value: limit})
		}
		if b.Cursor != "" {
			errs = append(errs, &httpapi.FieldError{Location: "body.cursor", Message: "a preview has no pages; use mode list"})
		}
	} else if limit == 0 {
		limit = defaultListLimit
	}
	sort, err := httpapi.ParseSort(b.Sort, "id", deviceQuerySorts)
	if err != nil {
		return DeviceQueryResult{}, err // the schema's enum has already refused it
	}
	var cur *httpapi.Cursor
	if b.Mode == "list" {
		if cur, err = decodeDeviceCursor(b.Cursor, sort); err != nil {
			errs = append(errs, &httpapi.FieldError{Location: "body.cursor", Message: "not a nextCursor of this sort order", Value: b.Cursor})
		}
	}
	if len(errs) > 0 {
		return DeviceQueryResult{}, httpapi.Invalid("invalid device query", errs...)
	}
	p, err := pgquery.Compile(templates...)
	if err != nil {
		return DeviceQueryResult{}, httpapi.StoreError(err, "device query") // validated above: not expected
	}
	if b.Mode == "preview" {
		return f.previewDevices(ctx, p, limit)
	}
	return f.listDevices(ctx, p, sort, cur, limit)
}

func storedTemplateErrors(id int64, fe devicequery.FieldErrors) []*httpapi.FieldError {
	out := make([]*httpapi.FieldError, len(fe))
	for i, e := range fe {
		out[i] = &httpapi.FieldError{Location: "body.templateId",
			Message: fmt.Sprintf("stored query template %d is invalid at groups.%s: %s; fix it with PUT", id, e.Path, e.Message), Value: id}
	}
	return out
}

// decodeDeviceCursor reads a list cursor; numeric sort values come back from
// JSON as float64 and are made integers again for the keyset comparison.
func decodeDeviceCursor(raw string, sort httpapi.Sort) (*httpapi.Cursor, error) {
	cur, err := httpapi.DecodeCursor(raw, sort.String())
	if err != nil || cur == nil {
		return cur, err
	}
	switch sort.Key {
	case "cpuCores", "memoryBytes":
		v, ok := cur.Value.(float64)
		if !ok || v != float64(int64(v)) {
			return nil, errors.New("bad cursor value")
		}
		cur.Value = int64(v)
	case "hostname":
		if _, ok := cur.Value.(string); !ok {
			return nil, errors.New("bad cursor value")
		}
	}
	return cur, nil
}

func deviceQueryCursor(sort httpapi.Sort, d Device) string {
	c := httpapi.Cursor{Sort: sort.String(), ID: d.ID}
	switch sort.Key {
	case "hostname":
		c.Value = d.Hostname
	case "cpuCores":
		c.Value = d.CPUCores
	case "memoryBytes":
		c.Value = d.MemoryBytes
	}
	return c.Encode()
}

// listDevices returns one keyset page in sort order and the total.
func (f *Function) listDevices(ctx context.Context, p pgquery.Predicate, sort httpapi.Sort, cur *httpapi.Cursor, limit int) (DeviceQueryResult, error) {
	cond, kargs, orderBy := sort.Keyset(cur, p.Next())
	page := p
	if cond != "TRUE" {
		page = p.And(cond, kargs...)
	}
	// The predicate picks the page's ids over devices d; the outer query
	// reads them with the devices API's own columns.
	sql := "SELECT " + deviceColumns + " FROM devices WHERE id IN (" +
		pgquery.SelectSQL("d.id", page, orderBy, limit+1) + ") " + orderBy
	rows, err := pgquery.Query(ctx, f.db, sql, page.Args...)
	if err != nil {
		return DeviceQueryResult{}, httpapi.StoreError(err, "device query")
	}
	items := make([]Device, 0, limit+1)
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			rows.Close()
			return DeviceQueryResult{}, httpapi.StoreError(err, "device query")
		}
		items = append(items, d)
	}
	if err := rows.Err(); err != nil {
		return DeviceQueryResult{}, httpapi.StoreError(postgres.Translate(err), "device query")
	}
	res := DeviceQueryResult{Mode: "list", CountCap: pgquery.DefaultCap}
	if len(items) > limit {
		items = items[:limit]
		res.NextCursor = deviceQueryCursor(sort, items[limit-1])
	}
	res.Items = items
	if cur == nil && res.NextCursor == "" {
		// The whole result fits in the first page: it is the count.
		res.Total, res.CountKind = int64(len(items)), string(pgquery.Exact)
		return res, nil
	}
	c, err := pgquery.CountMatches(ctx, f.db, p, pgquery.CountOptions{})
	if err != nil {
		return DeviceQueryResult{}, httpapi.StoreError(err, "device count")
	}
	res.Total, res.CountKind = c.N, string(c.Kind)
	return res, nil
}

// previewDevices returns the count and a sample, both from one budgeted scan.
func (f *Function) previewDevices(ctx context.Context, p pgquery.Predicate, sample int) (DeviceQueryResult, error) {
	c, err := pgquery.CountMatches(ctx, f.db, p, pgquery.CountOptions{Sample: sample})
	if err != nil {
		return DeviceQueryResult{}, httpapi.StoreError(err, "device count")
	}
	res := DeviceQueryResult{Mode: "preview", Total: c.N, CountKind: string(c.Kind), CountCap: pgquery.DefaultCap, Items: []Device{}}
	if len(c.SampleIDs) == 0 {
		return res, nil
	}
	rows, err := f.db.Query(ctx, "SELECT "+deviceColumns+" FROM devices WHERE id = ANY($1) ORDER BY id", c.SampleIDs)
	if err != nil {
		return DeviceQueryResult{}, httpapi.StoreError(postgres.Translate(err), "device sample")
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return DeviceQueryResult{}, httpapi.StoreError(err, "device sample")
		}
		res.Items = append(res.Items, d)
	}
	if err := rows.Err(); err != nil {
		return DeviceQueryResult{}, httpapi.StoreError(postgres.Translate(err), "device sample")
	}
	return res, nil
}
