package nodeexec

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/elasticpool/elasticpool/shared/nodeexec/nodeplan"
	"github.com/elasticpool/elasticpool/shared/orderflow"
)

// PoolLabels are the labels a node carries in a pool: the equality terms of
// the pool's node selector (k=v, k==v, k in (v)) — without them the node
// would not match its own pool and the collector would not count it — plus
// the pool's node_labels. A node_labels value that contradicts the selector
// is an error: the node would leave the pool the moment it entered.
func PoolLabels(selector string, nodeLabels map[string]string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(selector) != "" {
		sel, err := labels.Parse(selector)
		if err != nil {
			return nil, fmt.Errorf("pool node selector %q: %w", selector, err)
		}
		reqs, _ := sel.Requirements()
		for _, r := range reqs {
			vals := r.Values().UnsortedList()
			switch r.Operator() {
			case selection.Equals, selection.DoubleEquals, selection.In:
				if len(vals) == 1 {
					out[r.Key()] = vals[0]
				}
			}
		}
	}
	keys := make([]string, 0, len(nodeLabels))
	for k := range nodeLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := out[k]; ok && v != nodeLabels[k] {
			return nil, fmt.Errorf("the pool's nodeLabels set %s=%s but its nodeSelector %q requires %s=%s", k, nodeLabels[k], selector, k, v)
		}
		out[k] = nodeLabels[k]
	}
	return out, nil
}

// Decision is what a finished run does to its order.
type Decision struct {
	// Target is the status to move the order to: "failed", "completed", or
	// "" to leave it where it is.
	Target string
	// Reason is the failure reason (Target "failed") or the audit reason.
	Reason string
	Notes  []string
}

// maxReason bounds the failure reason kept on the order; every device's full
// error stays on its order_devices row.
const maxReason = 2000

// Decide turns the devices' outcomes into the order's next step: any failed
// device fails the order with the reasons; every device done or skipped
// completes it; devices still pending (a node not joined yet, a cluster in
// manual mode) leave it processing. Maintenance has no failed status and is
// completed by its external system after the work, so a maintenance order
// is never moved: its devices carry the outcome.
func Decide(actionType string, devs []nodeplan.DeviceOperations) Decision {
	var failed, waiting []nodeplan.DeviceOperations
	for _, d := range devs {
		switch d.Status {
		case "failed":
			failed = append(failed, d)
		case "pending", "processing":
			waiting = append(waiting, d)
		}
	}
	maintenance := orderflow.ActionType(actionType) == orderflow.TypeMaintenance
	switch {
	case len(devs) == 0:
		return Decision{Notes: []string{"the order holds no devices: nothing to execute; add devices or process it by hand"}}
	case len(failed) > 0:
		parts := make([]string, len(failed))
		for i, d := range failed {
			parts[i] = fmt.Sprintf("%s (node %s): %s", d.Hostname, d.Node, d.Error)
		}
		reason := fmt.Sprintf("node operations failed on %d of %d devices: %s", len(failed), len(devs), strings.Join(parts, "; "))
		if len(reason) > maxReason {
			reason = strings.ToValidUTF8(reason[:maxReason-len(" …")], "") + " …"
		}
		if maintenance {
			return Decision{Reason: reason, Notes: []string{reason,
				"a maintenance order has no failed status: it stays maintenance_in_progress; fix the cause and re-execute"}}
		}
		return Decision{Target: string(orderflow.StatusFailed), Reason: reason, Notes: []string{reason}}
	case len(waiting) > 0:
		names := make([]string, len(waiting))
		for i, d := range waiting {
			names[i] = d.Hostname
		}
		return Decision{Notes: []string{fmt.Sprintf("%d of %d devices wait (%s): the order stays open; re-execute once their nodes have joined",
			len(waiting), len(devs), strings.Join(names, ", "))}}
	case maintenance:
		return Decision{Notes: []string{"every node is cordoned and drained: the maintenance can start; its external system completes the order"}}
	}
	return Decision{Target: string(orderflow.StatusCompleted), Reason: fmt.Sprintf("node operations done on %d devices", len(devs))}
}
