// Package events defines the CloudEvent catalog of DESIGN.md §2 (types and
// their data), emits events to K_SINK after a transaction commits, and holds
// the local in-process broker. Type names are the contract: the version
// suffix bumps on an incompatible data change.
package events

import "time"

// Event types.
const (
	TypePing                  = "dev.knative.sources.ping"
	TypeStrategyEvaluate      = "io.elasticpool.strategy.evaluate.v1"
	TypePoolThresholdBreached = "io.elasticpool.pool.threshold.breached.v1"
	TypeOrderCreated          = "io.elasticpool.order.created.v1"
	TypeOrderStatusChanged    = "io.elasticpool.order.status.changed.v1"
	TypeInventoryShortage     = "io.elasticpool.inventory.shortage.v1"
	TypeMaintenanceRequested  = "io.elasticpool.maintenance.requested.v1"
	TypeMaintenanceConfirmed  = "io.elasticpool.maintenance.confirmed.v1"
	TypeMaintenanceCompleted  = "io.elasticpool.maintenance.completed.v1"
	TypeMaintenanceCancelled  = "io.elasticpool.maintenance.cancelled.v1"
	TypeOrderExecute          = "io.elasticpool.order.execute.v1"
)

// Sources: /elasticpool/<function>.
const (
	SourceEvaluate    = "/elasticpool/evaluate"
	SourceMatch       = "/elasticpool/match"
	SourceOrders      = "/elasticpool/orders"
	SourceMaintenance = "/elasticpool/maintenance"
	SourceNotify      = "/elasticpool/notify"
	SourceCollect     = "/elasticpool/collect"
	SourceNodeOps     = "/elasticpool/nodeops"
)

// StrategyEvaluate asks evaluate to evaluate one strategy at EvaluationTime (T).
type StrategyEvaluate struct {
	StrategyID     int64     `json:"strategyId"`
	EvaluationTime time.Time `json:"evaluationTime"`
	DryRun         bool      `json:"dryRun,omitempty"`
}

// ResourceReading is one resource's numbers at evaluation.
type ResourceReading struct {
	Type      string  `json:"type"`      // allocated | usage
	Value     int64   `json:"value"`     // millicores or bytes, latest snapshot
	Capacity  int64   `json:"capacity"`  // same unit
	Rate      float64 `json:"rate"`      // percent
	Threshold float64 `json:"threshold"` // percent
	Target    float64 `json:"target"`    // percent
}

// PoolThresholdBreached tells match that a cluster+pool met its strategy.
type PoolThresholdBreached struct {
	StrategyID     int64                      `json:"strategyId"`
	ClusterID      int64                      `json:"clusterId"`
	PoolID         int64                      `json:"poolId"`
	Action         string                     `json:"action"` // pool_entry | pool_exit
	EvaluationTime time.Time                  `json:"evaluationTime"`
	HistoryID      int64                      `json:"historyId"`
	Resources      map[string]ResourceReading `json:"resources"` // "cpu", "memory"
	StreakDays     int                        `json:"streakDays"`
}

// OrderCreated announces a new order.
type OrderCreated struct {
	OrderID     int64  `json:"orderId"`
	OrderNumber string `json:"orderNumber"`
	Action      string `json:"action"`
	ClusterID   *int64 `json:"clusterId,omitempty"`
	PoolID      *int64 `json:"poolId,omitempty"`
	DeviceCount int    `json:"deviceCount"`
	StrategyID  *int64 `json:"strategyId,omitempty"`
	CreatedBy   string `json:"createdBy,omitempty"`
}

// OrderStatusChanged announces a transition.
type OrderStatusChanged struct {
	OrderID     int64  `json:"orderId"`
	OrderNumber string `json:"orderNumber"`
	Action      string `json:"action"` // the order's action type
	From        string `json:"from"`
	To          string `json:"to"`
	Actor       string `json:"actor"`
	Reason      string `json:"reason,omitempty"`
}

// InventoryShortage says matching found fewer devices than needed.
type InventoryShortage struct {
	StrategyID int64  `json:"strategyId"`
	ClusterID  int64  `json:"clusterId"`
	PoolID     int64  `json:"poolId"`
	Action     string `json:"action"`
	Needed     int    `json:"needed"`
	Found      int    `json:"found"`
	OrderID    *int64 `json:"orderId,omitempty"` // set when an order was created with what there is
	Reason     string `json:"reason,omitempty"`
}

// Maintenance is the data of every maintenance.* event, in and out.
type Maintenance struct {
	DeviceID         int64      `json:"deviceId,omitempty"`
	Hostname         string     `json:"hostname,omitempty"`
	Serial           string     `json:"serial,omitempty"`
	ExternalSystem   string     `json:"externalSystem,omitempty"`
	ExternalTicketID string     `json:"externalTicketId"`
	Reason           string     `json:"reason,omitempty"`
	WindowStart      *time.Time `json:"windowStart,omitempty"`
	WindowEnd        *time.Time `json:"windowEnd,omitempty"`
	OrderID          int64      `json:"orderId,omitempty"`
	UncordonOrderID  int64      `json:"uncordonOrderId,omitempty"`
}

// OrderExecute asks nodeops to run an order's node operations (docs/clusters.md,
// "Executing orders"); emitted after the order entered processing, or on request.
type OrderExecute struct {
	OrderID     int64  `json:"orderId"`
	OrderNumber string `json:"orderNumber"`
	Action      string `json:"action"` // the order's action type
	RequestedBy string `json:"requestedBy,omitempty"`
}
