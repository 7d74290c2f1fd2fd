// Package nodeplan is what running (or previewing) an order's node
// operations reports, and the errors that say an order cannot run. It has no
// Kubernetes dependency, so the API can carry a preview without linking
// client-go; shared/nodeexec produces it.
package nodeplan

import "errors"

// ErrNotExecutable: the order is not in a status whose node operations run
// (processing, or maintenance_in_progress for maintenance; a preview takes
// any open order). Nothing was done.
var ErrNotExecutable = errors.New("order is not in an executable status")

// ErrBusy: another execution of the same order holds its lock.
var ErrBusy = errors.New("another execution of this order is running")

// NodeStep is one change an operation made to a node (or, dry run, would make).
type NodeStep struct {
	Node   string `json:"node"`
	Action string `json:"action" enum:"label,unlabel,untaint,cordon,uncordon,evict,skip"`
	Detail string `json:"detail,omitempty"`
}

// DeviceOperations is one device's part of the run.
type DeviceOperations struct {
	DeviceID  int64  `json:"deviceId"`
	Hostname  string `json:"hostname"`
	Node      string `json:"node" doc:"The Kubernetes node: the device's nodeName, else its hostname."`
	ClusterID *int64 `json:"clusterId"`
	Operation string `json:"operation" enum:"pool_entry,pool_exit,maintain,uncordon" doc:"What is done to the node."`
	// Status is the order_devices status the run recorded (dry run: would record).
	Status string     `json:"status" enum:"pending,processing,done,failed,skipped" doc:"pending: the node has not joined yet (pool_entry) or the cluster is in manual mode; done earlier runs are not repeated."`
	Error  string     `json:"error" doc:"Why the device failed, waits or was skipped."`
	Steps  []NodeStep `json:"steps" doc:"Changes made (dry run: that the API server accepted without persisting)."`
}

// NodeOperations is one run (or preview) of an order's node operations.
type NodeOperations struct {
	OrderID     int64  `json:"orderId"`
	OrderNumber string `json:"orderNumber"`
	ActionType  string `json:"actionType" enum:"pool_entry,pool_exit,maintenance,uncordon"`
	OrderStatus string `json:"orderStatus" enum:"pending,processing,completed,failed,cancelled,ignored,maintenance_in_progress" doc:"The order's status after the run."`
	DryRun      bool   `json:"dryRun" doc:"Every write was sent with dryRun=All: nothing changed in the cluster or the database."`
	Manual      bool   `json:"manual" doc:"The cluster has no credentials (manual mode): nothing is done in it; people act and complete the order."`
	// Notes say what the run decided (waiting nodes, why the order was left alone, ...).
	Notes   []string           `json:"notes"`
	Devices []DeviceOperations `json:"devices"`
}

// PreviewPath is the nodeops Service's internal route that answers a
// preview (POST PreviewRequest → NodeOperations): the API calls it in
// Knative mode, where its own container does not link client-go. 404: no
// such order; 409: the order is closed.
const PreviewPath = "/internal/preview"

// PreviewRequest asks PreviewPath for one order's plan.
type PreviewRequest struct {
	OrderID int64 `json:"orderId"`
}
