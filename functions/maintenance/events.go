package maintenance

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/orderflow"
	"github.com/elasticpool/elasticpool/shared/postgres"
)

// ownSources is the prefix of the sources elasticpool's functions emit
// with (/elasticpool/<function>). Events we emit carry
// /elasticpool/maintenance; an incoming event must come from elsewhere.
const ownSources = "/elasticpool/"

// Handle handles one maintenance.* CloudEvent from an external system that
// Events authenticated (its Caller is in ctx):
//
//   - maintenance.requested: data names the device, ticket, reason and window;
//   - maintenance.confirmed, .completed, .cancelled: data names the order by
//     orderId or externalTicketId.
//
// The answer is the retry policy (DESIGN §2): 200 handled or already
// handled; 400 unreadable; 422 refused for good; 404 (order not there yet)
// and 409 (step not possible yet, e.g. completed before confirmed) only
// when a redelivery may succeed; 503 for a database fault.
//
// An event from one of our own sources without a caller (our own emitted
// event routed back by a misconfigured Trigger) is acknowledged and ignored,
// so the function can never loop on what it emits.
func (f *Function) Handle(ctx context.Context, e cloudevents.Event) error {
	c, authenticated := CallerFrom(ctx)
	if strings.HasPrefix(e.Source(), ownSources) {
		if !authenticated {
			slog.DebugContext(ctx, "maintenance: ignoring an elasticpool event", "id", e.ID(), "type", e.Type(), "source", e.Source())
			return nil
		}
		return events.Malformed(fmt.Errorf("source %s is reserved for elasticpool's own events; use your system's URI, e.g. /external/%s",
			e.Source(), c.System))
	}
	if !authenticated {
		return cloudevents.NewHTTPResult(http.StatusUnauthorized, "maintenance events must come through the authenticated ingress %s", EventsPath)
	}
	if c.System == "" {
		return cloudevents.NewHTTPResult(http.StatusForbidden, "the CloudEvents ingress is for external systems")
	}
	var action orderflow.Action
	switch e.Type() {
	case events.TypeMaintenanceRequested:
		return f.handleRequested(ctx, c, e)
	case events.TypeMaintenanceConfirmed:
		action = orderflow.ActionConfirm
	case events.TypeMaintenanceCompleted:
		action = orderflow.ActionComplete
	case events.TypeMaintenanceCancelled:
		action = orderflow.ActionCancel
	default:
		return events.Malformed(fmt.Errorf("event type %q is not one this ingress takes (%s, %s, %s, %s)", e.Type(),
			events.TypeMaintenanceRequested, events.TypeMaintenanceConfirmed, events.TypeMaintenanceCompleted, events.TypeMaintenanceCancelled))
	}
	var d events.Maintenance
	if err := events.Decode(e, &d); err != nil {
		return err
	}
	ctx = postgres.WithRequestID(ctx, "ce:"+e.ID())
	v, _, err := f.transition(ctx, c, orderRef{id: d.OrderID, ticket: strings.TrimSpace(d.ExternalTicketID)}, action, 0, d.Reason, true)
	if err != nil {
		return ceError(err)
	}
	f.announce(ctx, v, actionEvents[action])
	return nil
}

// handleRequested opens (or finds again) the order of a maintenance.requested event.
func (f *Function) handleRequested(ctx context.Context, c Caller, e cloudevents.Event) error {
	var d events.Maintenance
	if err := events.Decode(e, &d); err != nil {
		return err
	}
	ctx = postgres.WithRequestID(ctx, "ce:"+e.ID())
	v, _, err := f.request(ctx, c, d)
	if err != nil {
		return ceError(err)
	}
	f.announce(ctx, v, events.TypeMaintenanceRequested)
	return nil
}
