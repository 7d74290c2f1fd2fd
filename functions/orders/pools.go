package orders

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Pool is a resource pool: one node group of one type in one cluster.
type Pool struct {
	ID           int64             `json:"id"`
	ClusterID    int64             `json:"clusterId"`
	Name         string            `json:"name"`
	PoolType     string            `json:"poolType"`
	NodeSelector string            `json:"nodeSelector"`
	NodeLabels   map[string]string `json:"nodeLabels"`
	MinNodes     int               `json:"minNodes"`
	MaxNodes     *int              `json:"maxNodes"`
	Version      int               `json:"version"`
	CreatedBy    string            `json:"createdBy"`
	UpdatedBy    string            `json:"updatedBy"`
	CreatedAt    time.Time         `json:"createdAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
}

// PoolInput is what a client writes.
type PoolInput struct {
	Name         string            `json:"name" minLength:"1" maxLength:"63"`
	PoolType     string            `json:"poolType" minLength:"1" maxLength:"63" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"e.g. general, gpu, highmem; strategies select pools by it."`
	NodeSelector string            `json:"nodeSelector,omitempty" maxLength:"1000" doc:"Kubernetes label selector of this pool's nodes."`
	NodeLabels   map[string]string `json:"nodeLabels,omitempty" doc:"Labels applied to a node entering the pool."`
	MinNodes     *int              `json:"minNodes,omitempty" minimum:"0" doc:"Exit never goes below it (default 1)."`
	MaxNodes     *int              `json:"maxNodes,omitempty" minimum:"0" doc:"Entry never grows the pool past it."`
	Version      int               `json:"version,omitempty" minimum:"1"`
}

func (in PoolInput) validate() error {
	minN := 1
	if in.MinNodes != nil {
		minN = *in.MinNodes
	}
	if in.MaxNodes != nil && *in.MaxNodes < minN {
		return httpapi.Invalid("bad pool", &httpapi.FieldError{Location: "body.maxNodes", Message: fmt.Sprintf("must be ≥ minNodes (%d)", minN), Value: *in.MaxNodes})
	}
	return nil
}

const poolColumns = `id, cluster_id, name, pool_type, node_selector, node_labels, min_nodes, max_nodes,
	version, created_by, updated_by, created_at, updated_at`

func scanPool(row pgx.Row) (Pool, error) {
	var p Pool
	err := row.Scan(&p.ID, &p.ClusterID, &p.Name, &p.PoolType, &p.NodeSelector, &p.NodeLabels, &p.MinNodes, &p.MaxNodes,
		&p.Version, &p.CreatedBy, &p.UpdatedBy, &p.CreatedAt, &p.UpdatedAt)
	return p, postgres.Translate(err)
}

type poolOutput struct {
	ETag string `header:"ETag"`
	Body Pool
}

var poolSorts = map[string]string{"id": "id", "name": "name", "createdAt": "created_at"}

func poolCursor(s httpapi.Sort) func(Pool) httpapi.Cursor {
	return func(p Pool) httpapi.Cursor {
		c := httpapi.Cursor{Sort: s.String(), ID: p.ID}
		switch s.Key {
		case "name":
			c.Value = p.Name
		case "createdAt":
			c.Value = p.CreatedAt
		}
		return c
	}
}

func (f *Function) registerPools() {
	huma.Register(f.api, huma.Operation{
		OperationID: "list-pools", Method: http.MethodGet, Path: httpapi.Prefix + "/pools",
		Summary: "List resource pools", Tags: []string{"pools"},
	}, func(ctx context.Context, in *struct {
		ClusterID int64  `query:"clusterId" minimum:"0"`
		PoolType  string `query:"poolType"`
		ListParams
	}) (*struct{ Body List[Pool] }, error) {
		sort, err := httpapi.ParseSort(in.Sort, "id", poolSorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		w := newWhere()
		if in.ClusterID > 0 {
			w.add("cluster_id = " + w.arg(in.ClusterID))
		}
		if in.PoolType != "" {
			w.add("pool_type = " + w.arg(in.PoolType))
		}
		items, next, err := listPage(ctx, f.db, "SELECT "+poolColumns+" FROM resource_pools", w, sort, cur, in.Limit, scanPool, poolCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "pools")
		}
		return &struct{ Body List[Pool] }{Body: List[Pool]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-pool", Method: http.MethodGet, Path: httpapi.Prefix + "/pools/{id}",
		Summary: "Get a resource pool", Tags: []string{"pools"},
	}, func(ctx context.Context, in *idPath) (*poolOutput, error) {
		p, err := scanPool(f.db.QueryRow(ctx, "SELECT "+poolColumns+" FROM resource_pools WHERE id = $1", in.ID))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("pool %d", in.ID))
		}
		return &poolOutput{ETag: httpapi.ETag(p.Version), Body: p}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "create-pool", Method: http.MethodPost, Path: httpapi.Prefix + "/clusters/{clusterId}/pools",
		Summary: "Create a resource pool in a cluster", Tags: []string{"pools"}, DefaultStatus: http.StatusCreated,
	}, func(ctx context.Context, in *struct {
		ClusterID int64 `path:"clusterId" minimum:"1"`
		Body      PoolInput
	}) (*poolOutput, error) {
		b := in.Body
		if err := b.validate(); err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var p Pool
		err := postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			var err error
			p, err = scanPool(tx.QueryRow(ctx, `INSERT INTO resource_pools (cluster_id, name, pool_type, node_selector, node_labels, min_nodes, max_nodes, created_by, updated_by)
				VALUES ($1, $2, $3, $4, $5, coalesce($6, 1), $7, $8, $8) RETURNING `+poolColumns,
				in.ClusterID, b.Name, b.PoolType, b.NodeSelector, nonNilMap(b.NodeLabels), b.MinNodes, b.MaxNodes, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "pool.create", TargetType: "pool",
				TargetID: p.ID, After: p, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("pool %s in cluster %d", b.Name, in.ClusterID))
		}
		return &poolOutput{ETag: httpapi.ETag(p.Version), Body: p}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-pool", Method: http.MethodPut, Path: httpapi.Prefix + "/pools/{id}",
		Summary: "Update a resource pool", Tags: []string{"pools"},
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    PoolInput
	}) (*poolOutput, error) {
		b := in.Body
		if err := b.validate(); err != nil {
			return nil, err
		}
		version, err := httpapi.ExpectedVersion(in.IfMatch, b.Version)
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var after Pool
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanPool(tx.QueryRow(ctx, "SELECT "+poolColumns+" FROM resource_pools WHERE id = $1 FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			after, err = scanPool(tx.QueryRow(ctx, `UPDATE resource_pools SET name = $2, pool_type = $3, node_selector = $4, node_labels = $5,
				min_nodes = coalesce($6, 1), max_nodes = $7, updated_by = $8, version = version + 1, updated_at = now()
				WHERE id = $1 RETURNING `+poolColumns,
				in.ID, b.Name, b.PoolType, b.NodeSelector, nonNilMap(b.NodeLabels), b.MinNodes, b.MaxNodes, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "pool.update", TargetType: "pool",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("pool %d", in.ID))
		}
		return &poolOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "delete-pool", Method: http.MethodDelete, Path: httpapi.Prefix + "/pools/{id}",
		Summary: "Delete a resource pool (refused while orders refer to it)", Tags: []string{"pools"},
		DefaultStatus: http.StatusNoContent,
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		err := deleteAudited(ctx, f, "pool", in.ID, "SELECT "+poolColumns+" FROM resource_pools WHERE id = $1 FOR UPDATE",
			scanPool, "DELETE FROM resource_pools WHERE id = $1")
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("pool %d", in.ID))
		}
		return nil, nil
	})
}
