package orders

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// MatchingPolicy is a resource pool device matching policy (seed §6.4): the
// query template used for a pool type and action when the strategy names none.
type MatchingPolicy struct {
	ID                int64     `json:"id"`
	Name              string    `json:"name"`
	Description       string    `json:"description"`
	ResourcePoolType  string    `json:"resourcePoolType"`
	ActionType        string    `json:"actionType" enum:"pool_entry,pool_exit"`
	QueryTemplateID   int64     `json:"queryTemplateId"`
	QueryTemplateName string    `json:"queryTemplateName"`
	Status            string    `json:"status" enum:"enabled,disabled"`
	Version           int       `json:"version"`
	CreatedBy         string    `json:"createdBy"`
	UpdatedBy         string    `json:"updatedBy"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

// MatchingPolicyInput is what a client writes.
type MatchingPolicyInput struct {
	Name             string `json:"name" minLength:"1" maxLength:"200" doc:"Unique."`
	Description      string `json:"description,omitempty" maxLength:"2000"`
	ResourcePoolType string `json:"resourcePoolType" maxLength:"63" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"A pool type, e.g. general or gpu."`
	ActionType       string `json:"actionType" enum:"pool_entry,pool_exit"`
	QueryTemplateID  int64  `json:"queryTemplateId" minimum:"1"`
	Status           string `json:"status,omitempty" enum:"enabled,disabled" doc:"Create: default enabled. Update: unchanged when absent. At most one enabled policy per (resourcePoolType, actionType)."`
	Version          int    `json:"version,omitempty" minimum:"1" doc:"Current version, for updates (or send If-Match)."`
}

// MatchingPolicyStatusInput switches a policy on or off.
type MatchingPolicyStatusInput struct {
	Status  string `json:"status" enum:"enabled,disabled"`
	Version int    `json:"version,omitempty" minimum:"1" doc:"Current version (or send If-Match)."`
}

// policyColumns are selected FROM resource_pool_device_matching_policies
// without an alias (listPage orders by the bare id column).
const policyColumns = `id, name, description, resource_pool_type, action_type, query_template_id,
	coalesce((SELECT t.name FROM query_templates t WHERE t.id = query_template_id), ''),
	status, version, created_by, updated_by, created_at, updated_at`

const selectPolicy = "SELECT " + policyColumns + " FROM resource_pool_device_matching_policies WHERE id = $1"

func scanPolicy(row pgx.Row) (MatchingPolicy, error) {
	var p MatchingPolicy
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.ResourcePoolType, &p.ActionType, &p.QueryTemplateID,
		&p.QueryTemplateName, &p.Status, &p.Version, &p.CreatedBy, &p.UpdatedBy, &p.CreatedAt, &p.UpdatedAt)
	return p, postgres.Translate(err)
}

type policyOutput struct {
	ETag string `header:"ETag"`
	Body MatchingPolicy
}

var policySorts = map[string]string{"id": "id", "name": "name", "createdAt": "created_at", "updatedAt": "updated_at"}

func policyCursor(s httpapi.Sort) func(MatchingPolicy) httpapi.Cursor {
	return func(p MatchingPolicy) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: p.ID}
		switch s.Key {
		case "name":
			c.Value = p.Name
		case "createdAt":
			c.Value = p.CreatedAt
		case "updatedAt":
			c.Value = p.UpdatedAt
		}
		return c
	}
}

// checkPolicyTemplate reports a query template that does not exist; the one
// found is key-share locked until the transaction ends.
func checkPolicyTemplate(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int
	err := tx.QueryRow(ctx, "SELECT 1 FROM query_templates WHERE id = $1 FOR KEY SHARE", id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return httpapi.Invalid("unknown query template", &httpapi.FieldError{Location: "body.queryTemplateId",
			Message: fmt.Sprintf("query template %d does not exist", id), Value: id})
	}
	return postgres.Translate(err)
}

// onlyOneEnabled turns a violation of matching_policies_one_enabled into a
// 409 naming the policy already enabled for (poolType, action). The unique
// index is the guard, so two concurrent writers cannot both succeed; the
// lookup runs after the failed transaction, only to name the winner.
func (f *Function) onlyOneEnabled(ctx context.Context, err error, poolType, action string, self int64) error {
	var ce *postgres.ConstraintError
	if !errors.As(err, &ce) || ce.Constraint != "matching_policies_one_enabled" {
		return err
	}
	var id int64
	var name string
	qerr := f.db.QueryRow(ctx, `SELECT id, name FROM resource_pool_device_matching_policies
		WHERE resource_pool_type = $1 AND action_type = $2 AND status = 'enabled' AND id <> $3`,
		poolType, action, self).Scan(&id, &name)
	if qerr != nil {
		return huma.Error409Conflict(fmt.Sprintf("another matching policy is already enabled for pool type %q and action %s; disable it first", poolType, action))
	}
	return huma.Error409Conflict(fmt.Sprintf("matching policy %d (%q) is already enabled for pool type %q and action %s; disable it first or save this one disabled",
		id, name, poolType, action))
}

func (f *Function) registerPolicies() {
	const base = httpapi.Prefix + "/resource-pool/matching-policies"
	tags := []string{"matching-policies"}

	huma.Register(f.api, huma.Operation{
		OperationID: "list-matching-policies", Method: http.MethodGet, Path: base,
		Summary: "List resource pool device matching policies", Tags: tags,
	}, func(ctx context.Context, in *struct {
		Name             string `query:"name" doc:"Substring of the name."`
		ResourcePoolType string `query:"resourcePoolType"`
		ActionType       string `query:"actionType" enum:"pool_entry,pool_exit"`
		Status           string `query:"status" enum:"enabled,disabled"`
		QueryTemplateID  int64  `query:"queryTemplateId" minimum:"0"`
		ListParams
	}) (*struct{ Body List[MatchingPolicy] }, error) {
		sort, err := httpapi.ParseSort(in.Sort, "name", policySorts)
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
		if in.ResourcePoolType != "" {
			w.add("resource_pool_type = " + w.arg(in.ResourcePoolType))
		}
		if in.ActionType != "" {
			w.add("action_type = " + w.arg(in.ActionType))
		}
		if in.Status != "" {
			w.add("status = " + w.arg(in.Status))
		}
		if in.QueryTemplateID > 0 {
			w.add("query_template_id = " + w.arg(in.QueryTemplateID))
		}
		items, next, err := listPage(ctx, f.db, "SELECT "+policyColumns+" FROM resource_pool_device_matching_policies", w, sort, cur, in.Limit,
			scanPolicy, policyCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "matching policies")
		}
		return &struct{ Body List[MatchingPolicy] }{Body: List[MatchingPolicy]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-matching-policy", Method: http.MethodGet, Path: base + "/{id}",
		Summary: "Get a matching policy", Tags: tags,
	}, func(ctx context.Context, in *idPath) (*policyOutput, error) {
		p, err := scanPolicy(f.db.QueryRow(ctx, selectPolicy, in.ID))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("matching policy %d", in.ID))
		}
		return &policyOutput{ETag: httpapi.ETag(p.Version), Body: p}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "create-matching-policy", Method: http.MethodPost, Path: base,
		Summary: "Create a matching policy", Tags: tags, DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *struct{ Body MatchingPolicyInput }) (*policyOutput, error) {
		b := in.Body
		actor := httpapi.Actor(ctx)
		var p MatchingPolicy
		err := postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			if err := checkPolicyTemplate(ctx, tx, b.QueryTemplateID); err != nil {
				return err
			}
			var err error
			p, err = scanPolicy(tx.QueryRow(ctx, `INSERT INTO resource_pool_device_matching_policies
				(name, description, resource_pool_type, action_type, query_template_id, status, created_by, updated_by)
				VALUES ($1, $2, $3, $4, $5, coalesce(nullif($6, ''), 'enabled'), $7, $7) RETURNING `+policyColumns,
				b.Name, b.Description, b.ResourcePoolType, b.ActionType, b.QueryTemplateID, b.Status, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "matching_policy.create", TargetType: "matching_policy",
				TargetID: p.ID, After: p, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(f.onlyOneEnabled(ctx, err, b.ResourcePoolType, b.ActionType, 0), "matching policy "+b.Name)
		}
		return &policyOutput{ETag: httpapi.ETag(p.Version), Body: p}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-matching-policy", Method: http.MethodPut, Path: base + "/{id}",
		Summary: "Update a matching policy", Tags: tags,
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    MatchingPolicyInput
	}) (*policyOutput, error) {
		b := in.Body
		version, err := httpapi.ExpectedVersion(in.IfMatch, b.Version)
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var after MatchingPolicy
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanPolicy(tx.QueryRow(ctx, selectPolicy+" FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			if err := checkPolicyTemplate(ctx, tx, b.QueryTemplateID); err != nil {
				return err
			}
			after, err = scanPolicy(tx.QueryRow(ctx, `UPDATE resource_pool_device_matching_policies SET name = $2, description = $3,
				resource_pool_type = $4, action_type = $5, query_template_id = $6, status = coalesce(nullif($7, ''), status),
				updated_by = $8, version = version + 1, updated_at = now() WHERE id = $1 RETURNING `+policyColumns,
				in.ID, b.Name, b.Description, b.ResourcePoolType, b.ActionType, b.QueryTemplateID, b.Status, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "matching_policy.update", TargetType: "matching_policy",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(f.onlyOneEnabled(ctx, err, b.ResourcePoolType, b.ActionType, in.ID), fmt.Sprintf("matching policy %d", in.ID))
		}
		return &policyOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-matching-policy-status", Method: http.MethodPut, Path: base + "/{id}/status",
		Summary: "Enable or disable a matching policy", Tags: tags,
		Description: "Enabling fails with 409, naming the policy, while another policy is enabled for the same pool type and action.",
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    MatchingPolicyStatusInput
	}) (*policyOutput, error) {
		version, err := httpapi.ExpectedVersion(in.IfMatch, in.Body.Version)
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var before, after MatchingPolicy
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err = scanPolicy(tx.QueryRow(ctx, selectPolicy+" FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			if before.Status == in.Body.Status {
				// Already so: nothing changes, nothing to audit.
				after = before
				return nil
			}
			after, err = scanPolicy(tx.QueryRow(ctx, `UPDATE resource_pool_device_matching_policies SET status = $2, updated_by = $3,
				version = version + 1, updated_at = now() WHERE id = $1 RETURNING `+policyColumns, in.ID, in.Body.Status, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "matching_policy.status", TargetType: "matching_policy",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(f.onlyOneEnabled(ctx, err, before.ResourcePoolType, before.ActionType, in.ID), fmt.Sprintf("matching policy %d", in.ID))
		}
		return &policyOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "delete-matching-policy", Method: http.MethodDelete, Path: base + "/{id}",
		Summary: "Delete a matching policy", Tags: tags, DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		err := deleteAudited(ctx, f, "matching_policy", in.ID, selectPolicy+" FOR UPDATE", scanPolicy,
			"DELETE FROM resource_pool_device_matching_policies WHERE id = $1")
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("matching policy %d", in.ID))
		}
		return nil, nil
	})
}
