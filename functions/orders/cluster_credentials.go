package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"
	"gocloud.dev/secrets"

	"github.com/elasticpool/elasticpool/shared/auth"
	"github.com/elasticpool/elasticpool/shared/clustercred"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// ClusterOps reach the member clusters. The collect function implements it;
// the interface keeps this package free of client-go (its binary stays lean
// unless main wires a collector in).
type ClusterOps interface {
	TestConnection(ctx context.Context, clusterID int64) (clustercred.ConnectionResult, error)
	CollectCluster(ctx context.Context, clusterID int64) (clustercred.CollectResult, error)
}

// CredentialsInput is written, never read back.
type CredentialsInput struct {
	Kubeconfig string `json:"kubeconfig,omitempty" maxLength:"262144" doc:"A whole kubeconfig; its current context is used. The cluster's apiEndpoint, when set, overrides its server."`
	Token      string `json:"token,omitempty" maxLength:"16384" doc:"A bearer token (with caData and the cluster's apiEndpoint)."`
	CAData     string `json:"caData,omitempty" maxLength:"65536" doc:"PEM CA bundle of the API server, with token."`
}

// InventoryDrift is the last collection's outcome for one cluster.
type InventoryDrift struct {
	ClusterID        int64                        `json:"clusterId"`
	Status           string                       `json:"status" enum:"never,ok,error,manual" doc:"never: not collected yet."`
	Error            string                       `json:"error,omitempty"`
	AttemptedAt      *time.Time                   `json:"attemptedAt,omitempty"`
	SucceededAt      *time.Time                   `json:"succeededAt,omitempty" doc:"Last successful collection; the drift lists are from it."`
	MetricsAvailable bool                         `json:"metricsAvailable"`
	Notes            []string                     `json:"notes"`
	NodeCount        int                          `json:"nodeCount"`
	UnknownNodes     []string                     `json:"unknownNodes" doc:"Nodes without a device record."`
	VanishedDevices  []clustercred.VanishedDevice `json:"vanishedDevices" doc:"Devices of this cluster whose node is gone."`
}

func (f *Function) registerClusterCredentials(keeper *secrets.Keeper, ops ClusterOps) {
	admin := map[string]any{httpapi.MetaRole: auth.RoleAdmin}
	huma.Register(f.api, huma.Operation{
		OperationID: "put-cluster-credentials", Method: http.MethodPut, Path: httpapi.Prefix + "/clusters/{id}/credentials",
		Summary: "Store a cluster's credentials (write-only, encrypted)", Tags: []string{"clusters"}, Metadata: admin,
		Description: "A kubeconfig, or a token with caData. Stored encrypted with SECRETS_KEEPER_URL and never returned; " +
			"the cluster answers hasCredentials. A cluster without credentials works in manual mode.",
		Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusServiceUnavailable},
	}, func(ctx context.Context, in *struct {
		ID   int64 `path:"id" minimum:"1"`
		Body CredentialsInput
	}) (*clusterOutput, error) {
		if keeper == nil {
			return nil, huma.Error503ServiceUnavailable("no secrets keeper configured (SECRETS_KEEPER_URL)")
		}
		creds := clustercred.Credentials{Kubeconfig: in.Body.Kubeconfig, Token: in.Body.Token, CAData: in.Body.CAData}
		kind := "kubeconfig"
		if creds.Kubeconfig == "" {
			kind = "token"
		}
		return f.setCredentials(ctx, in.ID, func(endpoint string) ([]byte, error) {
			if err := creds.Validate(endpoint); err != nil {
				return nil, httpapi.Invalid(err.Error(), &httpapi.FieldError{Location: "body", Message: err.Error()})
			}
			return clustercred.Seal(ctx, keeper, creds)
		}, "cluster.credentials.set", kind)
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "delete-cluster-credentials", Method: http.MethodDelete, Path: httpapi.Prefix + "/clusters/{id}/credentials",
		Summary: "Forget a cluster's credentials (the cluster goes to manual mode)", Tags: []string{"clusters"}, Metadata: admin,
		Errors: []int{http.StatusForbidden, http.StatusNotFound},
	}, func(ctx context.Context, in *idPath) (*clusterOutput, error) {
		return f.setCredentials(ctx, in.ID, func(string) ([]byte, error) { return nil, nil }, "cluster.credentials.delete", "")
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "test-cluster-connection", Method: http.MethodPost, Path: httpapi.Prefix + "/clusters/{id}/test-connection",
		Summary: "Check that the stored credentials reach the cluster and may list nodes", Tags: []string{"clusters"},
		Metadata: admin, Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusServiceUnavailable},
	}, func(ctx context.Context, in *idPath) (*struct{ Body clustercred.ConnectionResult }, error) {
		if ops == nil {
			return nil, huma.Error503ServiceUnavailable("this deployment has no cluster connector")
		}
		r, err := ops.TestConnection(ctx, in.ID)
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("cluster %d", in.ID))
		}
		return &struct{ Body clustercred.ConnectionResult }{Body: r}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "collect-cluster", Method: http.MethodPost, Path: httpapi.Prefix + "/clusters/{id}/collect",
		Summary: "Collect a cluster's snapshot now", Tags: []string{"clusters"},
		Description: "Same as the hourly collection, for one cluster; the outcome (ok, error, manual) is also kept for the inventory-drift view.",
		Errors:      []int{http.StatusNotFound, http.StatusServiceUnavailable},
	}, func(ctx context.Context, in *idPath) (*struct{ Body clustercred.CollectResult }, error) {
		if ops == nil {
			return nil, huma.Error503ServiceUnavailable("this deployment has no cluster connector")
		}
		r, err := ops.CollectCluster(ctx, in.ID)
		if err != nil {
			return nil, httpapi.StoreError(err, fmt.Sprintf("cluster %d", in.ID))
		}
		return &struct{ Body clustercred.CollectResult }{Body: r}, nil
	})

	huma.Register(f.api, huma.Operation{
		OperationID: "get-cluster-inventory-drift", Method: http.MethodGet, Path: httpapi.Prefix + "/clusters/{id}/inventory-drift",
		Summary: "Nodes without a device record and devices whose node vanished (last collection)", Tags: []string{"clusters"},
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *idPath) (*struct{ Body InventoryDrift }, error) {
		d := InventoryDrift{ClusterID: in.ID, Status: "never", Notes: []string{}, UnknownNodes: []string{}, VanishedDevices: []clustercred.VanishedDevice{}}
		var notes, unknown, vanished []byte
		var status *string
		err := f.db.QueryRow(ctx, `SELECT cc.status, coalesce(cc.error, ''), cc.attempted_at, cc.succeeded_at, coalesce(cc.metrics_available, false),
				coalesce(cc.notes, '[]'), coalesce(cc.node_count, 0), coalesce(cc.unknown_nodes, '[]'), coalesce(cc.vanished_devices, '[]')
			FROM clusters c LEFT JOIN cluster_collections cc ON cc.cluster_id = c.id WHERE c.id = $1`, in.ID).
			Scan(&status, &d.Error, &d.AttemptedAt, &d.SucceededAt, &d.MetricsAvailable, &notes, &d.NodeCount, &unknown, &vanished)
		if err != nil {
			return nil, httpapi.StoreError(postgres.Translate(err), fmt.Sprintf("cluster %d", in.ID))
		}
		if status != nil {
			d.Status = *status
		}
		err = errors.Join(json.Unmarshal(notes, &d.Notes), json.Unmarshal(unknown, &d.UnknownNodes), json.Unmarshal(vanished, &d.VanishedDevices))
		if err != nil {
			return nil, httpapi.StoreError(err, "inventory drift")
		}
		return &struct{ Body InventoryDrift }{Body: d}, nil
	})
}

// setCredentials replaces clusters.credentials (seal returns nil to clear)
// and audits the change without the secret: only its kind.
func (f *Function) setCredentials(ctx context.Context, id int64, seal func(endpoint string) ([]byte, error), action, kind string) (*clusterOutput, error) {
	actor := httpapi.Actor(ctx)
	var after Cluster
	err := postgres.InTx(ctx, f.db, func(tx pgx.Tx) error {
		before, err := scanCluster(tx.QueryRow(ctx, "SELECT "+clusterColumns+" FROM clusters WHERE id = $1 FOR UPDATE", id))
		if err != nil {
			return err
		}
		sealed, err := seal(before.APIEndpoint)
		if err != nil {
			return err
		}
		after, err = scanCluster(tx.QueryRow(ctx, `UPDATE clusters SET credentials = $2, updated_by = $3, version = version + 1,
			updated_at = now() WHERE id = $1 RETURNING `+clusterColumns, id, sealed, actor))
		if err != nil {
			return err
		}
		return postgres.WriteAudit(ctx, tx, postgres.Audit{Actor: actor, Action: action, TargetType: "cluster", TargetID: id,
			Before: map[string]any{"hasCredentials": before.HasCredentials},
			After:  map[string]any{"hasCredentials": after.HasCredentials, "kind": kind}, RequestID: httpapi.RequestID(ctx)})
	})
	if err != nil {
		return nil, httpapi.StoreError(err, fmt.Sprintf("cluster %d", id))
	}
	return &clusterOutput{ETag: httpapi.ETag(after.Version), Body: after}, nil
}
