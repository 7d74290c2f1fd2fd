package orders

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// Cluster is a Kubernetes cluster. Credentials are never returned.
type Cluster struct {
	ID             int64             `json:"id"`
	Name           string            `json:"name"`
	DisplayName    string            `json:"displayName"`
	Region         string            `json:"region"`
	Zone           string            `json:"zone"`
	IDC            string            `json:"idc"`
	Labels         map[string]string `json:"labels"`
	APIEndpoint    string            `json:"apiEndpoint"`
	HasCredentials bool              `json:"hasCredentials" doc:"Credentials are stored encrypted and never returned."`
	Status         string            `json:"status" enum:"active,disabled"`
	Version        int               `json:"version"`
	CreatedBy      string            `json:"createdBy"`
	UpdatedBy      string            `json:"updatedBy"`
	CreatedAt      time.Time         `json:"createdAt"`
	UpdatedAt      time.Time         `json:"updatedAt"`
}

// ClusterInput is what a client writes.
type ClusterInput struct {
	Name        string            `json:"name" minLength:"1" maxLength:"63" pattern:"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" doc:"DNS label, unique."`
	DisplayName string            `json:"displayName,omitempty" maxLength:"200"`
	Region      string            `json:"region,omitempty" maxLength:"100"`
	Zone        string            `json:"zone,omitempty" maxLength:"100"`
	IDC         string            `json:"idc,omitempty" maxLength:"100" doc:"Data centre; idle devices must be in the same idc to enter this cluster's pools."`
	Labels      map[string]string `json:"labels,omitempty"`
	APIEndpoint string            `json:"apiEndpoint,omitempty" maxLength:"500" format:"uri"`
	Status      string            `json:"status,omitempty" enum:"active,disabled" doc:"Default active on create; absent on update keeps the current status."`
	Version     int               `json:"version,omitempty" minimum:"1" doc:"Current version, for updates (or send If-Match)."`
}

const clusterColumns = `id, name, display_name, region, zone, idc, labels, api_endpoint,
	credentials IS NOT NULL, status, version, created_by, updated_by, created_at, updated_at`

func scanCluster(row pgx.Row) (Cluster, error) {
	var c Cluster
	err := row.Scan(&c.ID, &c.Name, &c.DisplayName, &c.Region, &c.Zone, &c.IDC, &c.Labels, &c.APIEndpoint,
		&c.HasCredentials, &c.Status, &c.Version, &c.CreatedBy, &c.UpdatedBy, &c.CreatedAt, &c.UpdatedAt)
	return c, postgres.Translate(err)
}

type (
	clusterOutput struct {
		ETag string `header:"ETag"`
		Body Cluster
	}
	idPath struct {
		ID int64 `path:"id" minimum:"1"`
	}
	listClustersInput struct {
		Name   string `query:"name" doc:"Substring of name or display name."`
		IDC    string `query:"idc"`
		Status string `query:"status" enum:"active,disabled"`
		ListParams
	}
	listClustersOutput struct {
		Body List[Cluster]
	}
)

// ListParams are the paging parameters every list takes.
type ListParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Cursor string `query:"cursor" doc:"nextCursor of the previous page."`
	Sort   string `query:"sort" doc:"A field name, - prefix for descending."`
}

// List is one page.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page."`
}

var clusterSorts = map[string]string{"id": "id", "name": "name", "createdAt": "created_at", "updatedAt": "updated_at"}

func (f *Function) registerClusters() {
	huma.Register(f.api, huma.Operation{
		OperationID: "list-clusters", Method: http.MethodGet, Path: httpapi.Prefix + "/clusters",
		Summary: "List clusters", Tags: []string{"clusters"},
	}, func(ctx context.Context, in *listClustersInput) (*listClustersOutput, error) {
		sort, err := httpapi.ParseSort(in.Sort, "name", clusterSorts)
		if err != nil {
			return nil, err
		}
		cur, err := httpapi.DecodeCursor(in.Cursor, sort.String())
		if err != nil {
			return nil, err
		}
		q := newWhere()
		if in.Name != "" {
			q.add("(name ILIKE '%' || " + q.arg(escapeLike(in.Name)) + " || '%' OR display_name ILIKE '%' || " + q.arg(escapeLike(in.Name)) + " || '%')")
		}
		if in.IDC != "" {
			q.add("idc = " + q.arg(in.IDC))
		}
		if in.Status != "" {
			q.add("status = " + q.arg(in.Status))
		}
		items, next, err := listPage(ctx, f.db, "SELECT "+clusterColumns+" FROM clusters", q, sort, cur, in.Limit,
			scanCluster, clusterCursor(sort))
		if err != nil {
			return nil, httpapi.StoreError(err, "clusters")
		}
		return &listClustersOutput{Body: List[Cluster]{Items: items, NextCursor: next}}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-cluster", Method: http.MethodGet, Path: httpapi.Prefix + "/clusters/{id}",
		Summary: "Get a cluster", Tags: []string{"clusters"},
	}, func(ctx context.Context, in *idPath) (*clusterOutput, error) {
		c, err := scanCluster(f.db.QueryRow(ctx, "SELECT "+clusterColumns+" FROM clusters WHERE id = $1", in.ID))
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("cluster %d", in.ID))
		}
		return &clusterOutput{ETag: httpapi.ETag(c.Version), Body: c}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "create-cluster", Method: http.MethodPost, Path: httpapi.Prefix + "/clusters",
		Summary: "Create a cluster", Tags: []string{"clusters"}, DefaultStatus: http.StatusCreated,
		Metadata: map[string]any{httpapi.MetaRole: auth.RoleAdmin},
	}, func(ctx context.Context, in *struct{ Body ClusterInput }) (*clusterOutput, error) {
		b := in.Body
		actor := httpapi.Actor(ctx)
		var c Cluster
		err := postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			var err error
			c, err = scanCluster(tx.QueryRow(ctx, `INSERT INTO clusters (name, display_name, region, zone, idc, labels, api_endpoint, status, created_by, updated_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce(nullif($8, ''), 'active'), $9, $9) RETURNING `+clusterColumns,
				b.Name, b.DisplayName, b.Region, b.Zone, b.IDC, nonNilMap(b.Labels), b.APIEndpoint, b.Status, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "cluster.create", TargetType: "cluster",
				TargetID: c.ID, After: c, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, "cluster "+b.Name)
		}
		return &clusterOutput{ETag: httpapi.ETag(c.Version), Body: c}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "update-cluster", Method: http.MethodPut, Path: httpapi.Prefix + "/clusters/{id}",
		Summary: "Update a cluster", Tags: []string{"clusters"},
		Metadata: map[string]any{httpapi.MetaRole: auth.RoleAdmin},
	}, func(ctx context.Context, in *struct {
		ID      int64  `path:"id" minimum:"1"`
		IfMatch string `header:"If-Match"`
		Body    ClusterInput
	}) (*clusterOutput, error) {
		b := in.Body
		version, err := httpapi.ExpectedVersion(in.IfMatch, b.Version)
		if err != nil {
			return nil, err
		}
		actor := httpapi.Actor(ctx)
		var after Cluster
		err = postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
			before, err := scanCluster(tx.QueryRow(ctx, "SELECT "+clusterColumns+" FROM clusters WHERE id = $1 FOR UPDATE", in.ID))
			if err != nil {
				return err
			}
			if before.Version != version {
				return postgres.ErrStale
			}
			after, err = scanCluster(tx.QueryRow(ctx, `UPDATE clusters SET name = $2, display_name = $3, region = $4, zone = $5, idc = $6,
				labels = $7, api_endpoint = $8, status = coalesce(nullif($9, ''), status), updated_by = $10,
				version = version + 1, updated_at = now() WHERE id = $1 RETURNING `+clusterColumns,
				in.ID, b.Name, b.DisplayName, b.Region, b.Zone, b.IDC, nonNilMap(b.Labels), b.APIEndpoint, b.Status, actor))
			if err != nil {
				return err
			}
			return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: "cluster.update", TargetType: "cluster",
				TargetID: in.ID, Before: before, After: after, RequestID: httpapi.RequestID(ctx)})
		})
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("cluster %d", in.ID))
		}
		return &clusterOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "delete-cluster", Method: http.MethodDelete, Path: httpapi.Prefix + "/clusters/{id}",
		Summary: "Delete a cluster (refused while orders refer to it)", Tags: []string{"clusters"},
		DefaultStatus: http.StatusNoContent, Metadata: map[string]any{httpapi.MetaRole: auth.RoleAdmin},
	}, func(ctx context.Context, in *idPath) (*struct{}, error) {
		err := deleteAudited(ctx, f, "cluster", in.ID, "SELECT "+clusterColumns+" FROM clusters WHERE id = $1 FOR UPDATE",
			scanCluster, "DELETE FROM clusters WHERE id = $1")
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("cluster %d", in.ID))
		}
		return nil, nil
	})
}

// deleteAudited deletes one row and writes its audit entry in one transaction.
func deleteAudited[T any](ctx context.Context, f *Function, kind string, id int64, selectSQL string, scan func(pgx.Row) (T, error), deleteSQL string) error {
	actor := httpapi.Actor(ctx)
	return postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
		before, err := scan(tx.QueryRow(ctx, selectSQL, id))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, deleteSQL, id); err != nil {
			return postgres.Translate(err)
		}
		return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: kind + ".delete", TargetType: kind,
			TargetID: id, Before: before, RequestID: httpapi.RequestID(ctx)})
	})
}

func clusterCursor(s httpapi.Sort) func(Cluster) httpapi.Cursor {
	return func(c Cluster) httpapi.Cursor {
		cur := httpapi.Cursor{Sort: s.String(), ID: c.ID}
		switch s.Key {
		case "name":
			cur.Value = c.Name
		case "createdAt":
			cur.Value = c.CreatedAt
		case "updatedAt":
			cur.Value = c.UpdatedAt
		}
		return cur
	}
}
