package clustercred

import "time"

// Collection statuses (cluster_collections.status).
const (
	StatusOK     = "ok"
	StatusError  = "error"
	StatusManual = "manual" // no credentials: people act, the system records
)

// VanishedDevice is a device of a cluster whose node is no longer there.
type VanishedDevice struct {
	ID       int64  `json:"id"`
	Hostname string `json:"hostname"`
	NodeName string `json:"nodeName"`
}

// CollectResult is one cluster's collection outcome. It lives here, not next
// to the collector, so the API can carry it without linking client-go.
type CollectResult struct {
	ClusterID        int64            `json:"clusterId"`
	ClusterName      string           `json:"clusterName"`
	Status           string           `json:"status" enum:"ok,error,manual"`
	Error            string           `json:"error,omitempty"`
	AttemptedAt      time.Time        `json:"attemptedAt"`
	MetricsAvailable bool             `json:"metricsAvailable"`
	Notes            []string         `json:"notes"`
	Nodes            int              `json:"nodes"`
	Pods             int              `json:"pods"`
	Snapshots        int              `json:"snapshots"`
	DevicesUpdated   int              `json:"devicesUpdated"`
	UnknownNodes     []string         `json:"unknownNodes" doc:"Nodes without a device record."`
	VanishedDevices  []VanishedDevice `json:"vanishedDevices" doc:"Devices of this cluster whose node is gone."`
}

// ConnectionResult is the answer of a connection test.
type ConnectionResult struct {
	OK            bool   `json:"ok"`
	ServerVersion string `json:"serverVersion,omitempty"`
	Nodes         int    `json:"nodes" doc:"Nodes visible with these credentials (first page)."`
	Error         string `json:"error,omitempty"`
}
