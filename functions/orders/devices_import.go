package orders

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// importMaxBodyBytes lets an inventory dump of ~50k devices through in one request.
const importMaxBodyBytes = 32 << 20

// importMaxRows caps one import; larger inventories import in several requests.
const importMaxRows = 100_000

// importMaxErrors caps the errors reported for one import.
const importMaxErrors = 200

// DeviceImportResult says what an import did.
type DeviceImportResult struct {
	Rows      int `json:"rows"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// importColumn is one field of DeviceRecord as an import column.
type importColumn struct {
	name string // JSON name and CSV header
	col  string // devices column
	kind string // text, int, bytes, id, labels, taints, extra, status
}

var importColumns = []importColumn{
	{"hostname", "hostname", "text"}, {"ip", "ip", "text"}, {"serial", "serial", "text"}, {"cpuArch", "cpu_arch", "text"},
	{"cpuCores", "cpu_cores", "int"}, {"memoryBytes", "memory_bytes", "bytes"}, {"gpuCount", "gpu_count", "int"},
	{"gpuModel", "gpu_model", "text"}, {"diskBytes", "disk_bytes", "bytes"}, {"idc", "idc", "text"}, {"zone", "zone", "text"},
	{"rack", "rack", "text"}, {"status", "status", "status"}, {"clusterId", "cluster_id", "id"}, {"poolId", "pool_id", "id"},
	{"nodeName", "node_name", "text"}, {"labels", "labels", "labels"}, {"taints", "taints", "taints"}, {"extra", "extra", "extra"},
}

// placement fields change together: status, cluster and pool must agree
// (CHECK constraints), so a row that names one of them sets all three.
var placementFields = []string{"status", "clusterId", "poolId"}

func (f *Function) registerDeviceImport() {
	reg := f.api.OpenAPI().Components.Schemas
	rows := huma.SchemaFromType(reg, reflect.TypeOf([]DeviceRecord{}))
	maxRows := importMaxRows
	rows.MaxItems = &maxRows
	rows.PrecomputeMessages()
	huma.Register(f.api, huma.Operation{
		OperationID: "import-devices", Method: http.MethodPost, Path: httpapi.Prefix + "/devices/import",
		Summary: "Bulk import devices (JSON array or CSV), upserting by hostname", Tags: []string{"devices"},
		Description: "All rows are validated before anything is written; one bad row writes nothing. " +
			"JSON errors name `body[i].field`, CSV errors `row N column field` (N counts data rows from 1; the header is not a row). " +
			"CSV: a header row of field names; labels as JSON or `k=v;k2=v2`; taints as JSON or `key=value:Effect;key2:Effect`; " +
			"memoryBytes/diskBytes accept quantities (512Gi). An existing device changes only in the fields a row gives; " +
			"status, clusterId and poolId change together (a row giving one of them sets all three).",
		MaxBodyBytes: importMaxBodyBytes, SkipValidateBody: true,
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json": {Schema: rows},
		}},
	}, func(ctx context.Context, in *importInput) (*struct{ Body DeviceImportResult }, error) {
		mt, _, _ := mime.ParseMediaType(in.contentType)
		var (
			b   *importBatch
			err error
		)
		switch mt {
		case "application/json", "":
			b, err = decodeImportJSON(reg, rows, in.RawBody)
		case "text/csv":
			b, err = decodeImportCSV(reg, rows, in.RawBody)
		default:
			return nil, huma.NewError(http.StatusUnsupportedMediaType, "send application/json (an array of devices) or text/csv")
		}
		if err != nil {
			return nil, err
		}
		res, err := f.importDevices(ctx, b)
		if err != nil {
			return nil, err
		}
		return &struct{ Body DeviceImportResult }{Body: res}, nil
	})
	// CSV is text: replace the binary string huma derives from RawBody, whose
	// contentMediaType has no place in the OpenAPI 3.0 rendering.
	if op := f.api.OpenAPI().Paths[httpapi.Prefix+"/devices/import"].Post; op != nil {
		if mt := op.RequestBody.Content["text/csv"]; mt != nil {
			mt.Schema = &huma.Schema{Type: huma.TypeString, Description: "A header row of field names, then one device per row."}
		}
	}
}

// importBatch is a decoded import: one record per row, which fields each
// row gave, and the rows already known to be bad with their errors.
type importBatch struct {
	recs    []DeviceRecord
	present []map[string]bool
	bad     []bool
	short   map[int]bool // CSV rows with the wrong cell count: schema errors would be noise
	errs    []error      // *huma.ErrorDetail or *httpapi.FieldError, located by row
	loc     func(i int, field string) string
}

// importInput reads the body raw: its media type decides how to parse it.
type importInput struct {
	RawBody     []byte `contentType:"text/csv"`
	contentType string
}

// Resolve picks up Content-Type without documenting it as a parameter
// (OpenAPI describes it through the request body's media types).
func (in *importInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	return nil
}

// decodeImportJSON validates a JSON body against the rows schema and decodes
// every row that passed; rows that did not are marked bad with their errors.
func decodeImportJSON(reg huma.Registry, schema *huma.Schema, body []byte) (*importBatch, error) {
	var parsed any
	if err := json.Unmarshal(body, &parsed); err != nil {
		return nil, huma.Error400BadRequest("body is not JSON: " + err.Error())
	}
	b := &importBatch{loc: func(i int, field string) string { return fmt.Sprintf("body[%d].%s", i, field) }}
	if err := b.validate(reg, schema, parsed, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// validate checks parsed (the JSON rows) against schema, marks the rows
// with errors, and decodes the others. rewrite relocates errors (CSV).
func (b *importBatch) validate(reg huma.Registry, schema *huma.Schema, parsed any, rewrite func(*huma.ErrorDetail)) error {
	res := &huma.ValidateResult{}
	pb := huma.NewPathBuffer([]byte{}, 0)
	pb.Push("body")
	huma.Validate(reg, schema, pb, huma.ModeWriteToServer, parsed, res)
	list, isList := parsed.([]any)
	if !isList {
		// not an array at all (or too many rows): nothing row-wise to add
		return huma.Error422UnprocessableEntity("the body must be an array of devices; nothing was written", res.Errors...)
	}
	n := len(list)
	if b.bad == nil {
		b.bad = make([]bool, n)
	}
	b.recs, b.present = make([]DeviceRecord, n), make([]map[string]bool, n)
	for _, e := range res.Errors {
		d, ok := e.(*huma.ErrorDetail)
		if !ok {
			b.errs = append(b.errs, e)
			continue
		}
		if m := rowLocation.FindStringSubmatch(d.Location); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i < n {
				if b.short[i] {
					continue
				}
				b.bad[i] = true
			}
		}
		if rewrite != nil {
			rewrite(d)
		}
		b.errs = append(b.errs, d)
	}
	for i, row := range list {
		m, _ := row.(map[string]any)
		b.present[i] = map[string]bool{}
		for k := range m {
			b.present[i][k] = true
		}
		if b.bad[i] {
			continue
		}
		js, err := json.Marshal(row)
		if err == nil {
			err = json.Unmarshal(js, &b.recs[i])
		}
		if err != nil {
			b.bad[i] = true
			b.errs = append(b.errs, &httpapi.FieldError{Location: b.loc(i, "hostname"), Message: "row does not decode: " + err.Error()})
		}
	}
	return nil
}

var rowLocation = regexp.MustCompile(`^body\[(\d+)\](?:\.([A-Za-z]+))?(.*)$`)

// decodeImportCSV converts CSV (a header row of field names) into the JSON
// rows, then validates them like a JSON import with row/column locations.
func decodeImportCSV(reg huma.Registry, schema *huma.Schema, body []byte) (*importBatch, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, huma.Error400BadRequest("CSV has no header row: " + err.Error())
	}
	byName := map[string]importColumn{}
	for _, c := range importColumns {
		byName[c.name] = c
	}
	var errs []error
	cols := make([]importColumn, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		c, ok := byName[h]
		switch {
		case !ok:
			errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("header column %d", i+1), Message: "unknown column; use the device field names (hostname, cpuCores, memoryBytes, labels, …)", Value: h})
		case seen[h]:
			errs = append(errs, &httpapi.FieldError{Location: fmt.Sprintf("header column %d", i+1), Message: "column given twice", Value: h})
		}
		seen[h] = true
		cols[i] = c
	}
	if !seen["hostname"] {
		errs = append(errs, &httpapi.FieldError{Location: "header", Message: "a hostname column is required"})
	}
	if len(errs) > 0 {
		return nil, huma.Error422UnprocessableEntity("bad CSV header; nothing was written", errs...)
	}
	b := &importBatch{short: map[int]bool{}, loc: func(i int, field string) string { return fmt.Sprintf("row %d column %s", i+1, field) }}
	var rows []any
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) || !errors.Is(pe.Err, csv.ErrFieldCount) {
				return nil, huma.Error400BadRequest(fmt.Sprintf("CSV row %d: %v", n, err))
			}
		}
		if len(rows) >= importMaxRows {
			return nil, huma.Error422UnprocessableEntity(fmt.Sprintf("more than %d rows; split the import", importMaxRows))
		}
		row := map[string]any{}
		rows = append(rows, row)
		b.bad = append(b.bad, false)
		if len(rec) != len(cols) {
			b.errs = append(b.errs, &httpapi.FieldError{Location: fmt.Sprintf("row %d", n), Message: fmt.Sprintf("has %d cells, the header %d", len(rec), len(cols))})
			b.bad[n-1], b.short[n-1] = true, true
			continue
		}
		for i, cell := range rec {
			cell = strings.TrimSpace(cell)
			if cell == "" {
				continue // empty cell: field not given
			}
			v, msg := csvValue(cols[i].kind, cell)
			if msg != "" {
				b.errs = append(b.errs, &httpapi.FieldError{Location: b.loc(n-1, cols[i].name), Message: msg, Value: cell})
				b.bad[n-1] = true
				continue
			}
			row[cols[i].name] = v
		}
	}
	if len(rows) == 0 {
		return nil, huma.Error422UnprocessableEntity("the CSV has a header but no rows")
	}
	// Go values → JSON values, so the rows meet the same schema as a JSON import.
	js, err := json.Marshal(rows)
	if err != nil {
		return nil, huma.Error400BadRequest("CSV cells do not encode: " + err.Error())
	}
	var parsed any
	if err := json.Unmarshal(js, &parsed); err != nil {
		return nil, huma.Error400BadRequest("CSV cells do not encode: " + err.Error())
	}
	if err := b.validate(reg, schema, parsed, csvLocation); err != nil {
		return nil, err
	}
	return b, nil
}

// csvLocation rewrites body[3].labels.a into "row 4 column labels" (+ ".a" in the message).
func csvLocation(d *huma.ErrorDetail) {
	m := rowLocation.FindStringSubmatch(d.Location)
	if m == nil {
		return
	}
	i, _ := strconv.Atoi(m[1])
	field, rest := m[2], m[3]
	if name, ok := strings.CutPrefix(d.Message, "expected required property "); ok && field == "" {
		if name, ok = strings.CutSuffix(name, " to be present"); ok {
			field, d.Message = name, "is required"
		}
	}
	if field == "" {
		d.Location = fmt.Sprintf("row %d", i+1)
		return
	}
	d.Location = fmt.Sprintf("row %d column %s", i+1, field)
	if rest != "" {
		d.Message = strings.TrimPrefix(rest, ".") + ": " + d.Message
	}
}

// csvValue converts one non-empty cell; msg says why it cannot.
func csvValue(kind, cell string) (v any, msg string) {
	switch kind {
	case "int", "id":
		n, err := strconv.ParseInt(cell, 10, 64)
		if err != nil {
			return nil, "not an integer"
		}
		return n, ""
	case "bytes":
		n, ok := parseQuantity(cell)
		if !ok {
			return nil, "not a byte count (an integer or a quantity like 512Gi, 2T)"
		}
		return n, ""
	case "labels":
		if strings.HasPrefix(cell, "{") {
			var m map[string]any
			if err := json.Unmarshal([]byte(cell), &m); err != nil {
				return nil, "not a JSON object: " + err.Error()
			}
			return m, ""
		}
		m := map[string]any{}
		for _, kv := range strings.Split(cell, ";") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			k, val, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return nil, fmt.Sprintf("label %q: want k=v;k2=v2 or a JSON object", kv)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		return m, ""
	case "taints":
		if strings.HasPrefix(cell, "[") {
			var l []any
			if err := json.Unmarshal([]byte(cell), &l); err != nil {
				return nil, "not a JSON array: " + err.Error()
			}
			return l, ""
		}
		l := []any{}
		for _, t := range strings.Split(cell, ";") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			kv, effect, ok := strings.Cut(t, ":")
			if !ok {
				return nil, fmt.Sprintf("taint %q: want key=value:Effect or key:Effect", t)
			}
			k, val, _ := strings.Cut(kv, "=")
			m := map[string]any{"key": strings.TrimSpace(k), "effect": strings.TrimSpace(effect)}
			if val != "" {
				m["value"] = strings.TrimSpace(val)
			}
			l = append(l, m)
		}
		return l, ""
	case "extra":
		var m map[string]any
		if err := json.Unmarshal([]byte(cell), &m); err != nil {
			return nil, "not a JSON object: " + err.Error()
		}
		return m, ""
	}
	return cell, ""
}

// parseQuantity reads an integer byte count or a Kubernetes-style quantity
// (Ki, Mi, Gi, Ti, Pi binary; K/k, M, G, T, P decimal).
func parseQuantity(s string) (int64, bool) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"Pi", 1 << 50},
		{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || (n > 0 && mult > (1<<63-1)/n) {
		return 0, false
	}
	return n * mult, true
}

// importDevices checks every row (record rules, duplicates in the batch,
// serials taken by other devices, cluster/pool references) and, only when
// all pass, upserts them in one transaction through a COPY into a temp table.
func (f *Function) importDevices(ctx context.Context, b *importBatch) (DeviceImportResult, error) {
	recs, present, loc := b.recs, b.present, b.loc
	res := DeviceImportResult{Rows: len(recs)}
	if len(recs) == 0 {
		return res, httpapi.Invalid("nothing to import", &httpapi.FieldError{Location: "body", Message: "no rows"})
	}
	errs := b.errs
	add := func(e *httpapi.FieldError) { errs = append(errs, e) }
	hosts := map[string]int{}
	serials := map[string]int{}
	var serialList []string
	good := make([]DeviceRecord, 0, len(recs)) // rows that passed so far, for the reference check
	goodIdx := make([]int, 0, len(recs))
	for i, r := range recs {
		if b.bad[i] {
			continue
		}
		for _, e := range r.check(func(field string) string { return loc(i, field) }) {
			add(e)
		}
		if j, dup := hosts[r.Hostname]; dup {
			add(&httpapi.FieldError{Location: loc(i, "hostname"), Message: fmt.Sprintf("repeats %s", loc(j, "hostname")), Value: r.Hostname})
		}
		hosts[r.Hostname] = i
		if r.Serial != "" {
			if j, dup := serials[r.Serial]; dup {
				add(&httpapi.FieldError{Location: loc(i, "serial"), Message: fmt.Sprintf("repeats %s", loc(j, "serial")), Value: r.Serial})
			}
			serials[r.Serial] = i
			serialList = append(serialList, r.Serial)
		}
		good, goodIdx = append(good, r), append(goodIdx, i)
	}
	refErrs, err := checkDeviceRefs(ctx, f.db, good, func(i int, field string) string { return loc(goodIdx[i], field) })
	if err != nil {
		return res, httpapi.StoreError(err, "devices")
	}
	for _, e := range refErrs {
		add(e)
	}
	if len(serialList) > 0 {
		rows, err := f.db.Query(ctx, "SELECT serial, hostname FROM devices WHERE serial = ANY($1)", serialList)
		if err != nil {
			return res, httpapi.StoreError(postgres.Translate(err), "devices")
		}
		owners, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Serial, Hostname string }])
		if err != nil {
			return res, httpapi.StoreError(postgres.Translate(err), "devices")
		}
		for _, o := range owners {
			if i := serials[o.Serial]; recs[i].Hostname != o.Hostname {
				if _, movesToo := hosts[o.Hostname]; !movesToo {
					add(&httpapi.FieldError{Location: loc(i, "serial"), Message: "already belongs to device " + o.Hostname, Value: o.Serial})
				}
			}
		}
	}
	if len(errs) > 0 {
		n := len(errs)
		slices.SortStableFunc(errs, func(a, b error) int { return rowOf(a) - rowOf(b) })
		if len(errs) > importMaxErrors {
			errs = errs[:importMaxErrors]
		}
		return res, huma.Error422UnprocessableEntity(fmt.Sprintf("%d error(s) in the import; nothing was written", n), errs...)
	}

	actor := httpapi.Actor(ctx)
	err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE device_import (
				hostname text, ip text, serial text, cpu_arch text, cpu_cores integer, memory_bytes bigint, gpu_count integer,
				gpu_model text, disk_bytes bigint, idc text, zone text, rack text, status text, cluster_id bigint, pool_id bigint,
				node_name text, labels jsonb, taints jsonb, extra jsonb, present text[]
			) ON COMMIT DROP`); err != nil {
			return postgres.Translate(err)
		}
		cols := make([]string, 0, len(importColumns)+1)
		for _, c := range importColumns {
			cols = append(cols, c.col)
		}
		cols = append(cols, "present")
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"device_import"}, cols, pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
			return importRow(recs[i], present[i]), nil
		})); err != nil {
			return postgres.Translate(err)
		}
		// New hostnames first; ON CONFLICT skips one a concurrent writer just
		// created, which the UPDATE below (a fresh snapshot) then updates.
		insertCols := strings.Join(cols[:len(cols)-1], ", ")
		rows, err := tx.Query(ctx, `INSERT INTO devices (`+insertCols+`, created_by, updated_by)
			SELECT hostname, coalesce(ip, ''), coalesce(serial, ''), coalesce(cpu_arch, ''), coalesce(cpu_cores, 0),
				coalesce(memory_bytes, 0), coalesce(gpu_count, 0), coalesce(gpu_model, ''), coalesce(disk_bytes, 0),
				coalesce(idc, ''), coalesce(zone, ''), coalesce(rack, ''), coalesce(status, 'idle'), cluster_id, pool_id,
				coalesce(node_name, ''), coalesce(labels, '{}'), coalesce(taints, '[]'), coalesce(extra, '{}'), $1, $1
			FROM device_import s WHERE NOT EXISTS (SELECT 1 FROM devices d WHERE d.hostname = s.hostname)
			ON CONFLICT (hostname) DO NOTHING RETURNING hostname`, actor)
		if err != nil {
			return postgres.Translate(err)
		}
		created, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return postgres.Translate(err)
		}
		res.Created = len(created)
		if created == nil {
			created = []string{} // ANY(NULL) would exclude every row
		}
		tag, err := tx.Exec(ctx, importUpdateSQL(), actor, created)
		if err != nil {
			return postgres.Translate(err)
		}
		res.Updated = int(tag.RowsAffected())
		res.Unchanged = res.Rows - res.Created - res.Updated
		return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "device.import", TargetType: "device",
			TargetID: "import", After: res, RequestID: httpapi.RequestID(ctx)})
	})
	if err != nil {
		return res, httpapi.StoreError(err, "device import")
	}
	return res, nil
}

// rowOf sorts errors by their row (body[i] or row N); others first.
func rowOf(err error) int {
	var loc string
	switch e := err.(type) {
	case *huma.ErrorDetail:
		loc = e.Location
	case *httpapi.FieldError:
		loc = e.Location
	}
	if m := rowLocation.FindStringSubmatch(loc); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n + 1
	}
	var n int
	if _, err := fmt.Sscanf(loc, "row %d", &n); err == nil {
		return n
	}
	return 0
}

// importRow is one temp-table row: NULL where the row does not give a field
// (insert takes the default, update keeps the current value).
func importRow(r DeviceRecord, present map[string]bool) []any {
	placement := slices.ContainsFunc(placementFields, func(f string) bool { return present[f] })
	give := func(field string, v any) any {
		if present[field] || (placement && slices.Contains(placementFields, field)) {
			return v
		}
		return nil
	}
	var given []string
	for _, c := range importColumns {
		if present[c.name] || (placement && slices.Contains(placementFields, c.name)) {
			given = append(given, c.name)
		}
	}
	return []any{r.Hostname, give("ip", r.IP), give("serial", r.Serial), give("cpuArch", r.CPUArch), give("cpuCores", r.CPUCores),
		give("memoryBytes", r.MemoryBytes), give("gpuCount", r.GPUCount), give("gpuModel", r.GPUModel), give("diskBytes", r.DiskBytes),
		give("idc", r.IDC), give("zone", r.Zone), give("rack", r.Rack), give("status", r.status()), give("clusterId", r.ClusterID),
		give("poolId", r.PoolID), give("nodeName", r.NodeName), give("labels", nonNilMap(r.Labels)),
		give("taints", nonNilTaints(r.Taints)), give("extra", nonNilAnyMap(r.Extra)), given}
}

// importUpdateSQL updates existing devices with the fields each row gives,
// and only when that changes something (so a re-import does not bump
// versions). $1 actor, $2 hostnames created by this import.
func importUpdateSQL() string {
	var set, newVals, oldVals []string
	for _, c := range importColumns[1:] {
		expr := fmt.Sprintf("CASE WHEN '%s' = ANY(s.present) THEN s.%s ELSE d.%s END", c.name, c.col, c.col)
		set = append(set, c.col+" = "+expr)
		newVals = append(newVals, expr)
		oldVals = append(oldVals, "d."+c.col)
	}
	return `UPDATE devices d SET ` + strings.Join(set, ", ") + `, version = d.version + 1, updated_by = $1, updated_at = now()
		FROM device_import s
		WHERE d.hostname = s.hostname AND NOT (s.hostname = ANY($2::text[]))
		AND (` + strings.Join(newVals, ", ") + `) IS DISTINCT FROM (` + strings.Join(oldVals, ", ") + `)`
}
