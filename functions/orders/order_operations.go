package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/httpapi"
	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// NodeOps previews an order's node operations with server-side dry run
// (shared/nodeexec implements it). The interface keeps client-go out of this
// package; a deployment that wires none answers 503 to a preview.
type NodeOps interface {
	Preview(ctx context.Context, orderID int64) (nodeplan.NodeOperations, error)
}

// RemoteNodeOps previews through the nodeops Service's internal route
// (nodeplan.PreviewPath): the API's container in Knative mode, which does
// not link client-go. URL is NODEOPS_URL, e.g. http://nodeops (the
// cluster-local Service in the same namespace).
type RemoteNodeOps struct {
	URL    string
	Client *http.Client // nil: a client with a 2 minute timeout
}

var _ NodeOps = RemoteNodeOps{}

// Preview asks nodeops for order id's plan.
func (r RemoteNodeOps) Preview(ctx context.Context, id int64) (nodeplan.NodeOperations, error) {
	var out nodeplan.NodeOperations
	body, err := json.Marshal(nodeplan.PreviewRequest{OrderID: id})
	if err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(r.URL, "/")+nodeplan.PreviewPath, bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	c := r.Client
	if c == nil {
		c = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := c.Do(req)
	if err != nil {
		return out, huma.Error502BadGateway("nodeops preview: " + err.Error())
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return out, huma.Error502BadGateway("nodeops preview: decode: " + err.Error())
		}
		return out, nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	text := strings.TrimSpace(string(msg))
	switch resp.StatusCode {
	case http.StatusNotFound:
		return out, fmt.Errorf("%s: %w", text, postgres.ErrNotFound)
	case http.StatusConflict:
		return out, fmt.Errorf("%w: %s", nodeplan.ErrNotExecutable, text)
	}
	return out, huma.Error502BadGateway(fmt.Sprintf("nodeops preview: %d %s", resp.StatusCode, text))
}

// OperationsInput asks for a preview or an execution.
type OperationsInput struct {
	DryRun bool `json:"dryRun" doc:"true: answer the planned per-device operations, computed with server-side dry run (nothing is written anywhere). false: queue an execution of a processing order (maintenance: maintenance_in_progress); it continues where an earlier run stopped."`
}

// OrderOperations answers a preview (200: the plan) or a queued execution
// (202: follow it on the order's devices).
type OrderOperations struct {
	nodeplan.NodeOperations
	Queued  bool   `json:"queued" doc:"An execution was queued (202)."`
	EventID string `json:"eventId,omitempty" doc:"Id of the io.elasticpool.order.execute.v1 event sent."`
}

type operationsOutput struct {
	Status int
	Body   OrderOperations
}

// executableStatus is the status in which an order's node operations run.
func executableStatus(actionType string) orderflow.Status {
	if orderflow.ActionType(actionType) == orderflow.TypeMaintenance {
		return orderflow.StatusMaintenanceInProgress
	}
	return orderflow.StatusProcessing
}

func (f *Function) registerOrderOperations(ops NodeOps) {
	schema := f.api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[OrderOperations](), true, "OrderOperations")
	huma.Register(f.api, huma.Operation{
		OperationID: "order-operations", Method: http.MethodPost, Path: httpapi.Prefix + "/elastic-scaling/orders/{id}/operations",
		Summary: "Preview (dry run) or queue an order's node operations", Tags: []string{"orders"},
		Description: "pool_entry: the pool's labels, the not-ready taint removed, uncordon; pool_exit: cordon, drain (Eviction API, " +
			"PDBs honoured), the pool's labels removed; maintenance: cordon, drain; uncordon: uncordon. " +
			"Executing an order (PUT …/status processing) queues a run by itself; this queues another one, e.g. once a " +
			"waiting node has joined. Per-device progress is on …/devices. See docs/clusters.md, \"Executing orders\".",
		Responses: map[string]*huma.Response{"202": {Description: "Execution queued",
			Content: map[string]*huma.MediaType{"application/json": {Schema: schema}}}},
		Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusBadGateway, http.StatusServiceUnavailable},
	}, func(ctx context.Context, in *struct {
		ID   int64 `path:"id" minimum:"1"`
		Body OperationsInput
	}) (*operationsOutput, error) {
		what := fmt.Sprintf("order %d", in.ID)
		if in.Body.DryRun {
			if ops == nil {
				return nil, huma.Error503ServiceUnavailable("this deployment cannot reach the clusters from the API (no node operations wired)")
			}
			r, err := ops.Preview(ctx, in.ID)
			if errors.Is(err, nodeplan.ErrNotExecutable) {
				return nil, huma.Error409Conflict(strings.TrimPrefix(err.Error(), nodeplan.ErrNotExecutable.Error()+": "))
			}
			if err != nil {
				return nil, httpapi.StoreError(err, what)
			}
			return &operationsOutput{Status: http.StatusOK, Body: OrderOperations{NodeOperations: r}}, nil
		}
		o, err := postgres.GetOrder(ctx, f.db, in.ID)
		if err != nil {
			return nil, httpapi.StoreError(err, what)
		}
		if want := executableStatus(o.ActionType); orderflow.Status(o.Status) != want {
			return nil, huma.Error409Conflict(fmt.Sprintf("order %s is %s; its node operations run while it is %s (execute or retry it first)",
				o.OrderNumber, o.Status, want), &httpapi.FieldError{Location: "path.id", Message: "order is " + o.Status, Value: in.ID})
		}
		if f.emitter == nil {
			return nil, huma.Error503ServiceUnavailable("no event sink configured (K_SINK): executions cannot be queued")
		}
		ev := executeEvent(o, fmt.Sprintf("order-%d-execute-%s", o.ID, httpapi.RequestID(ctx)), httpapi.Actor(ctx))
		ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := f.emitter.Emit(ectx, ev); err != nil {
			// Nothing was written: the caller may simply try again.
			return nil, huma.Error503ServiceUnavailable("could not queue the execution: " + err.Error())
		}
		return &operationsOutput{Status: http.StatusAccepted, Body: OrderOperations{Queued: true, EventID: ev.ID,
			NodeOperations: nodeplan.NodeOperations{OrderID: o.ID, OrderNumber: o.OrderNumber, ActionType: o.ActionType, OrderStatus: o.Status,
				Notes: []string{"execution queued: per-device progress shows on the order's devices"}, Devices: []nodeplan.DeviceOperations{}}}}, nil
	})
}

func executeEvent(o postgres.Order, id, actor string) events.Outgoing {
	return events.Outgoing{ID: id, Type: events.TypeOrderExecute, Source: events.SourceOrders, Subject: fmt.Sprintf("order/%d", o.ID),
		Data: events.OrderExecute{OrderID: o.ID, OrderNumber: o.OrderNumber, Action: o.ActionType, RequestedBy: actor}}
}

// emitExecuteAfterTransition queues the node operations of an order that a
// transition has just moved into its executable status (execute, retry,
// confirm). The id is per version, so a repeated emit is one execution.
func (f *Function) emitExecuteAfterTransition(ctx context.Context, before string, v OrderView) {
	if v.Status == before || orderflow.Status(v.Status) != executableStatus(v.ActionType) {
		return
	}
	f.emitOrderEvent(ctx, executeEvent(v.Order, fmt.Sprintf("order-%d-v%d-execute", v.ID, v.Version), httpapi.Actor(ctx)))
}
