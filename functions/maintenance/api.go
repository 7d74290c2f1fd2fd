package maintenance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// metaAuth marks the operations this package authenticates itself (external
// systems or users); httpapi's own user check is skipped for them (MetaPublic).
const metaAuth = "maintenanceAuth"

// The OpenAPI security schemes of signed requests: the three headers go
// together (one security requirement naming all three).
const (
	securitySignature = "maintenanceSignature"
	securitySystem    = "maintenanceSystem"
	securityTimestamp = "maintenanceTimestamp"
)

// RequestBody is a maintenance request; the same fields are the data of a
// maintenance.requested CloudEvent (events.Maintenance).
type RequestBody struct {
	DeviceID         int64      `json:"deviceId,omitempty" minimum:"0" doc:"The device by id; or by hostname or serial. All given must name the same device."`
	Hostname         string     `json:"hostname,omitempty" maxLength:"253"`
	Serial           string     `json:"serial,omitempty" maxLength:"200"`
	ExternalSystem   string     `json:"externalSystem,omitempty" maxLength:"63" doc:"Taken from the credentials (workbench for people); when given it must be the same."`
	ExternalTicketID string     `json:"externalTicketId" minLength:"1" maxLength:"200" doc:"The caller's ticket: the same ticket twice returns the same order."`
	Reason           string     `json:"reason" minLength:"1" maxLength:"2000"`
	WindowStart      *time.Time `json:"windowStart,omitempty" doc:"Planned start (RFC 3339); with windowEnd."`
	WindowEnd        *time.Time `json:"windowEnd,omitempty" doc:"Planned end, after windowStart."`
}

func (b RequestBody) data() events.Maintenance {
	return events.Maintenance{DeviceID: b.DeviceID, Hostname: b.Hostname, Serial: b.Serial, ExternalSystem: b.ExternalSystem,
		ExternalTicketID: b.ExternalTicketID, Reason: b.Reason, WindowStart: b.WindowStart, WindowEnd: b.WindowEnd}
}

// ActionBody is the optional body of confirm, complete and cancel.
type ActionBody struct {
	Reason  string `json:"reason,omitempty" maxLength:"2000" doc:"A note kept in the audit log."`
	Version int    `json:"version,omitempty" minimum:"1" doc:"Optional optimistic concurrency: the order's version (or send If-Match); 412 when it changed."`
}

type actionInput struct {
	ID      int64  `path:"id" minimum:"1" doc:"The maintenance order id."`
	IfMatch string `header:"If-Match" doc:"Optional: the order's ETag (version)."`
	Body    *ActionBody
}

type viewOutput struct {
	ETag string `header:"ETag"`
	Body View
}

type requestOutput struct {
	Status   int
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     View
}

// List is a page of maintenance orders.
type List struct {
	Items      []View `json:"items"`
	NextCursor string `json:"nextCursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page."`
}

type listInput struct {
	Status           []string `query:"status,explode" enum:"pending,maintenance_in_progress,completed,cancelled" doc:"Repeat for several."`
	ExternalSystem   string   `query:"externalSystem" maxLength:"63" doc:"People only; a system always sees its own."`
	ExternalTicketID string   `query:"externalTicketId" maxLength:"200"`
	DeviceID         int64    `query:"deviceId" minimum:"0"`
	Limit            int      `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor           string   `query:"cursor" maxLength:"512"`
}

func (f *Function) registerAPI() {
	f.api.UseMiddleware(f.authMiddleware)
	f.api.OpenAPI().Components.SecuritySchemes[securitySignature] = &huma.SecurityScheme{
		Type: "apiKey", In: "header", Name: HeaderSignature,
		Description: "External systems: v1=hex(HMAC-SHA256(secret, \"<" + HeaderTimestamp + ">.<body>\")) with " +
			HeaderSystem + " and " + HeaderTimestamp + " (Unix seconds); each signature is accepted once, within the replay window.",
	}
	f.api.OpenAPI().Components.SecuritySchemes[securitySystem] = &huma.SecurityScheme{
		Type: "apiKey", In: "header", Name: HeaderSystem,
		Description: "External systems: the system's name (MAINTENANCE_SYSTEMS), sent with " + HeaderSignature + ".",
	}
	f.api.OpenAPI().Components.SecuritySchemes[securityTimestamp] = &huma.SecurityScheme{
		Type: "apiKey", In: "header", Name: HeaderTimestamp,
		Description: "External systems: when the request was signed (Unix seconds), sent with " + HeaderSignature + ".",
	}
	security := []map[string][]string{{"bearer": {}}, {securitySignature: {}, securitySystem: {}, securityTimestamp: {}}}
	op := func(id, method, path, summary, desc string) huma.Operation {
		return huma.Operation{OperationID: id, Method: method, Path: APIPrefix + path, Summary: summary, Description: desc,
			Tags: []string{"maintenance"}, Security: security, Errors: []int{http.StatusUnauthorized, http.StatusForbidden},
			Metadata: map[string]any{httpapi.MetaPublic: true, metaAuth: true}}
	}

	list := op("list-maintenance-requests", http.MethodGet, "/requests", "List maintenance orders (newest first)",
		"An external system sees its own orders; people see all.")
	huma.Register(f.api, list, func(ctx context.Context, in *listInput) (*struct{ Body List }, error) {
		l, err := f.list(ctx, mustCaller(ctx), in)
		if err != nil {
			return nil, err
		}
		return &struct{ Body List }{Body: l}, nil
	})

	get := op("get-maintenance-request", http.MethodGet, "/requests/{id}", "Get a maintenance order", "")
	get.Errors = append(get.Errors, http.StatusNotFound)
	huma.Register(f.api, get, func(ctx context.Context, in *struct {
		ID int64 `path:"id" minimum:"1"`
	}) (*viewOutput, error) {
		c := mustCaller(ctx)
		v, err := f.find(ctx, c, orderRef{id: in.ID})
		if err != nil {
			return nil, httpError(err, fmt.Sprintf("maintenance order %d", in.ID))
		}
		return &viewOutput{ETag: httpapi.ETag(v.Version), Body: v}, nil
	})

	create := op("create-maintenance-request", http.MethodPost, "/requests", "Request maintenance of a device",
		"Opens a pending maintenance order holding the device: 201. The same ticket again returns that order: 200. "+
			"Unknown device 404; device already in maintenance or held by another open order 409; retired device 422.")
	create.DefaultStatus = http.StatusCreated
	create.Errors = append(create.Errors, http.StatusNotFound, http.StatusConflict)
	huma.Register(f.api, create, func(ctx context.Context, in *struct{ Body RequestBody }) (*requestOutput, error) {
		c := mustCaller(ctx)
		ctx = postgres.WithRequestID(ctx, httpapi.RequestID(ctx))
		v, created, err := f.request(ctx, c, in.Body.data())
		if err != nil {
			return nil, httpError(err, "maintenance request")
		}
		f.announce(ctx, v, events.TypeMaintenanceRequested)
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return &requestOutput{Status: status, Location: fmt.Sprintf("%s/requests/%d", APIPrefix, v.ID),
			ETag: httpapi.ETag(v.Version), Body: v}, nil
	})
	// The same ticket again answers 200 with the order: document it next to 201.
	if p := f.api.OpenAPI().Paths[APIPrefix+"/requests"]; p != nil && p.Post != nil {
		if created := p.Post.Responses["201"]; created != nil {
			again := *created
			again.Description = "The ticket already opened this order (idempotent repeat)."
			p.Post.Responses["200"] = &again
		}
	}

	for _, a := range []struct {
		action orderflow.Action
		desc   string
	}{
		{orderflow.ActionConfirm, "pending → maintenance_in_progress: the device goes into maintenance (cordoned)."},
		{orderflow.ActionComplete, "maintenance_in_progress → completed: the device is back (still cordoned) and an uncordon order is opened in the same transaction."},
		{orderflow.ActionCancel, "pending → cancelled: the request is withdrawn; the device is released unchanged."},
	} {
		o := op(string(a.action)+"-maintenance-request", http.MethodPost, "/requests/{id}/"+string(a.action),
			fmt.Sprintf("%s a maintenance order", a.action),
			a.desc+" Repeating the call on an order already there answers 200 with it; a step the order's status "+
				"does not allow answers 409 with the allowed ones.")
		o.Errors = append(o.Errors, http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed)
		action := a.action
		huma.Register(f.api, o, func(ctx context.Context, in *actionInput) (*viewOutput, error) {
			c := mustCaller(ctx)
			var body ActionBody
			if in.Body != nil {
				body = *in.Body
			}
			version := 0
			if in.IfMatch != "" || body.Version > 0 {
				var err error
				if version, err = httpapi.ExpectedVersion(in.IfMatch, body.Version); err != nil {
					return nil, err
				}
			}
			ctx = postgres.WithRequestID(ctx, httpapi.RequestID(ctx))
			v, _, err := f.transition(ctx, c, orderRef{id: in.ID}, action, version, body.Reason, false)
			if err != nil {
				return nil, httpError(err, fmt.Sprintf("maintenance order %d", in.ID))
			}
			f.announce(ctx, v, actionEvents[action])
			return &viewOutput{ETag: httpapi.ETag(v.Version), Body: v}, nil
		})
	}

	// The document also under the function's own prefix: in local mode
	// /api/v1/openapi.json is the orders API's.
	f.mux.HandleFunc("GET "+APIPrefix+"/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.api.OpenAPI())
	})
}

// authMiddleware authenticates the operations marked metaAuth: external
// systems by signature or token, people by their user token and role
// (viewer reads, operator writes). A refused call is logged and answered
// before any handler runs.
func (f *Function) authMiddleware(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	if on, _ := op.Metadata[metaAuth].(bool); !on {
		next(ctx)
		return
	}
	r, _ := humago.Unwrap(ctx)
	c, rj := f.authenticate(r)
	if rj == nil && c.System == "" {
		if need := httpapi.RequiredRole(op); !c.User.Can(need) {
			rj = reject(http.StatusForbidden, fmt.Sprintf("%s %s needs role %s; %s has %s", op.Method, op.Path, need, c.User.Name, c.User.Role),
				"insufficient role")
			rj.system = c.User.Name
		}
	}
	if rj != nil {
		logRejected(ctx.Context(), r, rj)
		if rj.status == http.StatusUnauthorized {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="elasticpool-maintenance"`)
		}
		_ = huma.WriteErr(f.api, ctx, rj.status, rj.public)
		return
	}
	next(huma.WithValue(ctx, callerKey{}, c))
}

// mustCaller is the caller authMiddleware put in ctx.
func mustCaller(ctx context.Context) Caller {
	c, _ := CallerFrom(ctx)
	return c
}

// list pages maintenance orders newest first; the inner query is one range
// scan of orders_maintenance_created.
func (f *Function) list(ctx context.Context, c Caller, in *listInput) (List, error) {
	sort := httpapi.Sort{Key: "createdAt", Column: "created_at", Desc: true}
	cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
	if err != nil {
		return List{}, err
	}
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	conds = append(conds, "action_type = 'maintenance'")
	system := in.ExternalSystem
	if c.System != "" {
		if system != "" && system != c.System {
			return List{}, httpapi.Invalid("bad filter", &httpapi.FieldError{Location: "query.externalSystem",
				Message: "a system lists its own orders only", Value: system})
		}
		system = c.System
	}
	if system != "" {
		conds = append(conds, "external_system = "+arg(system))
	}
	if in.ExternalTicketID != "" {
		conds = append(conds, "external_ticket_id = "+arg(in.ExternalTicketID))
	}
	if in.DeviceID > 0 {
		conds = append(conds, "device_id = "+arg(in.DeviceID))
	}
	if len(in.Status) > 0 {
		conds = append(conds, "status = ANY("+arg(slices.Compact(slices.Sorted(slices.Values(in.Status))))+")")
	}
	cond, kargs, orderBy := sort.Keyset(cur, len(args)+1)
	if cond != "TRUE" {
		conds = append(conds, cond)
		args = append(args, kargs...)
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 50
	}
	where := ""
	for i, c := range conds {
		if i == 0 {
			where = " WHERE " + c
		} else {
			where += " AND " + c
		}
	}
	sql := fmt.Sprintf("%s FROM (SELECT * FROM elastic_scaling_orders%s %s LIMIT %d) o%s ORDER BY o.created_at DESC, o.id DESC",
		viewSelect, where, orderBy, limit+1, viewJoins)
	rows, err := f.db.Query(ctx, sql, args...)
	if err != nil {
		return List{}, httpapi.StoreError(postgres.Translate(err), "maintenance orders")
	}
	defer rows.Close()
	items := make([]View, 0, limit)
	for rows.Next() {
		v, err := scanView(rows)
		if err != nil {
			return List{}, httpapi.StoreError(err, "maintenance orders")
		}
		items = append(items, v)
	}
	if err := rows.Err(); err != nil {
		return List{}, httpapi.StoreError(postgres.Translate(err), "maintenance orders")
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = httpapi.Cursor{Sort: sort.String(), Value: last.CreatedAt, ID: last.ID}.Encode()
	}
	return List{Items: items, NextCursor: next}, nil
}
