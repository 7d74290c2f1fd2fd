package orders

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/devicequery"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// DeviceQuery is the template JSON of DESIGN.md §6 (docs/devicequery.md):
// groups combined with logic, each group's blocks combined with its logic.
type DeviceQuery struct {
	Logic  string             `json:"logic,omitempty" enum:"AND,OR," doc:"How the groups combine: AND or OR; absent or empty means AND."`
	Groups []DeviceQueryGroup `json:"groups" maxItems:"100"`
}

// DeviceQueryGroup is one group of blocks.
type DeviceQueryGroup struct {
	Logic  string             `json:"logic,omitempty" enum:"AND,OR," doc:"How the blocks combine: AND or OR; absent or empty means AND."`
	Blocks []DeviceQueryBlock `json:"blocks" maxItems:"100"`
}

// DeviceQueryBlock is one condition.
type DeviceQueryBlock struct {
	Type  string `json:"type" enum:"device,nodeLabel,taint" doc:"device: a device field; nodeLabel: a Kubernetes node label; taint: a node taint."`
	Key   string `json:"key" maxLength:"317" doc:"The device field (hostname, cpuCores, memoryBytes, status, idc, …), label key or taint key."`
	Op    string `json:"op" enum:"eq,ne,in,notIn,exists,notExists,contains,prefix,gt,gte,lt,lte"`
	Value string `json:"value,omitempty" maxLength:"65536" doc:"A string, numbers included (\"64\", \"512Gi\"); a comma list for in/notIn; value:effect for taints; absent for exists/notExists."`
}

// template converts to the engine's type.
func (q DeviceQuery) template() devicequery.Template {
	t := devicequery.Template{Logic: q.Logic, Groups: make([]devicequery.Group, len(q.Groups))}
	for i, g := range q.Groups {
		t.Groups[i] = devicequery.Group{Logic: g.Logic, Blocks: make([]devicequery.Block, len(g.Blocks))}
		for j, b := range g.Blocks {
			t.Groups[i].Blocks[j] = devicequery.Block(b)
		}
	}
	return t
}

// queryErrors turns the engine's errors into problem details located under
// loc (e.g. body.groups).
func queryErrors(errs devicequery.FieldErrors, loc string) []*httpapi.FieldError {
	out := make([]*httpapi.FieldError, len(errs))
	for i, e := range errs.WithPrefix(loc) {
		out[i] = &httpapi.FieldError{Location: e.Path, Message: e.Message}
	}
	return out
}

// QueryTemplate is a stored device query template (seed §6.3).
type QueryTemplate struct {
	ID          int64          `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Groups      DeviceQuery    `json:"groups"`
	Version     int            `json:"version"`
	CreatedBy   string         `json:"createdBy"`
	UpdatedBy   string         `json:"updatedBy"`
	CreatedAt   time.Time      `json:"createdAt"`
	UpdatedAt   time.Time      `json:"updatedAt"`
	UsedBy      []TemplateUser `json:"usedBy,omitempty" doc:"The matching policies and strategies that use the template (get one only)."`
}

// TemplateUser is a matching policy or strategy that refers to a template.
type TemplateUser struct {
	Kind   string `json:"kind" enum:"matchingPolicy,strategy"`
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status" enum:"enabled,disabled"`
	Use    string `json:"use" enum:"pool_entry,pool_exit" doc:"Which action the template selects devices for."`
}

func (u TemplateUser) String() string {
	kind := "matching policy"
	if u.Kind == "strategy" {
		kind = "strategy"
	}
	return fmt.Sprintf("%s %d (%q, %s, %s)", kind, u.ID, u.Name, u.Status, u.Use)
}

// QueryTemplateInput is what a client writes.
type QueryTemplateInput struct {
	Name        string      `json:"name" minLength:"1" maxLength:"200" doc:"Unique."`
	Description string      `json:"description,omitempty" maxLength:"2000"`
	Groups      DeviceQuery `json:"groups" doc:"The template; validated on write (400-class errors name body.groups… paths)."`
	Version     int         `json:"version,omitempty" minimum:"1" doc:"Current version, for updates (or send If-Match)."`
}

func (in QueryTemplateInput) validate() error {
	if errs := devicequery.Validate(in.Groups.template()); len(errs) > 0 {
		return httpapi.Invalid("invalid query template", queryErrors(errs, "body.groups")...)
	}
	return nil
}

const templateColumns = `id, name, description, groups, version, created_by, updated_by, created_at, updated_at`

const selectTemplate = "SELECT " + templateColumns + " FROM query_templates WHERE id = $1"

func scanTemplate(row pgx.Row) (QueryTemplate, error) {
	var t QueryTemplate
	err := row.Scan(&t.ID, &t.Name, &t.Description, &t.Groups, &t.Version, &t.CreatedBy, &t.UpdatedBy, &t.CreatedAt, &t.UpdatedAt)
	if t.Groups.Groups == nil {
		t.Groups.Groups = []DeviceQueryGroup{}
	}
	return t, postgres.Translate(err)
}

// templateUsers lists the policies and strategies that refer to template id,
// policies first, each by id.
func templateUsers(ctx context.Context, q postgres.Querier, id int64) ([]TemplateUser, error) {
	rows, err := q.Query(ctx, `
		SELECT 'matchingPolicy', id, name, status, action_type FROM resource_pool_device_matching_policies WHERE query_template_id = $1
		UNION ALL
		SELECT 'strategy', id, name, status, 'pool_entry' FROM elastic_scaling_strategies WHERE entry_query_template_id = $1
		UNION ALL
		SELECT 'strategy', id, name, status, 'pool_exit' FROM elastic_scaling_strategies WHERE exit_query_template_id = $1
		ORDER BY 1, 2, 5`, id)
	if err != nil {
		return nil, postgres.Translate(err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TemplateUser, error) {
		var u TemplateUser
		err := r.Scan(&u.Kind, &u.ID, &u.Name, &u.Status, &u.Use)
		return u, err
	})
	return users, postgres.Translate(err)
}

type templateOutput struct {
	ETag string `header:"ETag"`
	Body QueryTemplate
}

var templateSorts = map[string]string{"id": "id", "name": "name", "createdAt": "created_at", "updatedAt": "updated_at"}

func templateCursor(s httpapi.Sort) func(QueryTemplate) httpapi.Cursor {
	return func(t QueryTemplate) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: t.ID}
		switch s.Key {
		case "name":
			c.Value = t.Name
		case "createdAt":
			c.Value = t.CreatedAt
		case "updatedAt":
			c.Value = t.UpdatedAt
		}
		return c
	}
}

// errTemplateInUse is a 409 naming every user of the template.
func errTemplateInUse(t QueryTemplate, users []TemplateUser) error {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.String()
	}
	return huma.Error409Conflict(fmt.Sprintf("query template %d (%q) is used by %s; point them at another template or delete them first",
		t.ID, t.Name, strings.Join(names, ", ")))
}

func (f *Function) registerTemplates() {
	const base = httpapi.Prefix + "/device-query/templates"
	tags := []string{"query-templates"}

	huma.Register(f.api, huma.Operation{
		OperationID: "list-query-templates", Method: http.MethodGet, Path: base,
		Summary: "List device query templates", Tags: tags,
	}, func(ctx context.Context, in *struct {
		Name string `query:"name" doc:"Substring of the name."`
		ListParams
	}) (*struct{ Body List[QueryTemplate] }, error) {
		sort, err := httpapi.ParseSort(in.Sort, "name", templateSorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		w := newWhere()
		if in.Name != "" {
			w.add("name ILIKE '%' || " + w.arg(escapeLike(in.Name)) + " || '%'")
		}
		items, next, err := listPage(ctx, f.db, "SELECT "+templateColumns+" FROM query_templates", w, sort, cur, in.Limit,
			scanTemplate, templateCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "query templates")
		}
		return &struct{ Body List[QueryTemplate] }{Body: List[QueryTemplate]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-query-template", Method: http.MethodGet, Path: base + "/{id}",
		Summary: "Get a device query template, with the policies and strategies that use it", Tags: tags,
	}, func(ctx context.Context, in *idPath) (*templateOutput, error) {
		t, err := scanTemplate(f.db.QueryRow(ctx, selectTemplate, in.ID))
		if err == nil {
			t.UsedBy, err = templateUsers(ctx, f.db, in.ID)
		}
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("query template %d", in.ID))
		}
		return &templateOutput{ETag: httpapi.ETag(t.Version), Body: t}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "create-query-template", Method: http.MethodPost, Path: base,
		Summary: "Create a device query template", Tags: tags, DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *struct{ Body QueryTemplateInput }) (*templateOutput, error) {
		b := in.Body
		if err := b.validate(); err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var t QueryTemplate
		err := postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			var err error
			t, err = scanTemplate(tx.QueryRow(ctx, `INSERT INTO query_templates (name, description, groups, created_by, updated_by)
				VALUES ($1, $2, $3, $4, $4) RETURNING `+templateColumns, b.Name, b.Description, b.Groups, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "query_template.create", TargetType: "query_template",
				TargetID: t.ID, After: t, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, "query template "+b.Name)
		}
		return &templateOutput{ETag: httpapi.ETag(t.Version), Body: t}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-query-template", Method: http.MethodPut, Path: base + "/{id}",
		Summary: "Update a device query template", Tags: tags,
		Description: "Policies and strategies that use the template match with the new version from their next run.",
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    QueryTemplateInput
	}) (*templateOutput, error) {
		b := in.Body
		version, err := httpapi.ExpectedVersion(in.IfMatch, b.Version)
		if err != nil {
			return nil, err
		}
		if err := b.validate(); err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var after QueryTemplate
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanTemplate(tx.QueryRow(ctx, selectTemplate+" FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			after, err = scanTemplate(tx.QueryRow(ctx, `UPDATE query_templates SET name = $2, description = $3, groups = $4,
				updated_by = $5, version = version + 1, updated_at = now() WHERE id = $1 RETURNING `+templateColumns,
				in.ID, b.Name, b.Description, b.Groups, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "query_template.update", TargetType: "query_template",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("query template %d", in.ID))
		}
		return &templateOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "delete-query-template", Method: http.MethodDelete, Path: base + "/{id}",
		Summary: "Delete a device query template (refused while a policy or strategy uses it)", Tags: tags,
		DefaultStatus: http.StatusNoContent,
		Description: "409, naming each matching policy and strategy that uses the template, enabled or disabled: " +
			"a disabled one keeps its template so that it can be enabled again.",
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		actor := httpapi.Actor(ctx)
		err := postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			// FOR UPDATE waits for, and then blocks, the FOR KEY SHARE that
			// policy and strategy writes take on the template they name, so
			// no new user can appear between the check and the delete.
			before, err := scanTemplate(tx.QueryRow(ctx, selectTemplate+" FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			users, err := templateUsers(ctx, tx, in.ID)
			if err != nil {
				return err
			}
			if len(users) > 0 {
				return errTemplateInUse(before, users)
			}
			if _, err := tx.Exec(ctx, "DELETE FROM query_templates WHERE id = $1", in.ID); err != nil {
				return postgres.Translate(err)
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "query_template.delete", TargetType: "query_template",
				TargetID: in.ID, Before: before, RequestID: httpapi.RequestID(ctx)})
		})
		if errors.Is(err, postgres.ErrReference) {
			// The foreign keys are the last guard, should a writer not lock the template.
			return nil, huma.Error409Conflict(fmt.Sprintf("query template %d is still used by a matching policy or strategy", in.ID))
		}
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("query template %d", in.ID))
		}
		return nil, nil
	})

	f.registerDeviceQuery()
}
