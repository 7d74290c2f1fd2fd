package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5"

	"github.com/elasticpool/elasticpool/shared/events"
	"github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/route"
)

// subject is what an event is about, enriched from the database with names
// people recognise, plus the routing facts.
type subject struct {
	id, ceType string
	at         time.Time
	facts      route.Facts
	severity   string
	title      string
	summary    string
	details    []notify.Fact
	link       string
	data       any
}

// orderRow is an order with the names of what it refers to.
type orderRow struct {
	Number, Action, Status, Reason, CreatedBy, Ticket string
	DeviceCount                                       int
	Cluster, ClusterDisplay, Pool, PoolType, Strategy string
	Hostname                                          string
	StrategyID                                        *int64
}

// describe decodes a consumed event. It returns nil for types notify does
// not handle (a Trigger misconfiguration, not an error worth a retry).
func (f *Function) describe(ctx context.Context, e cloudevents.Event) (*subject, error) {
	s := &subject{id: e.ID(), ceType: e.Type(), at: e.Time()}
	if s.at.IsZero() {
		s.at = f.now()
	}
	s.facts.Event = route.ShortEvent(e.Type())
	switch e.Type() {
	case events.TypeOrderCreated:
		var d events.OrderCreated
		if err := events.Decode(e, &d); err != nil {
			return nil, err
		}
		s.data = d
		return s, f.orderCreated(ctx, s, d)
	case events.TypeOrderStatusChanged:
		var d events.OrderStatusChanged
		if err := events.Decode(e, &d); err != nil {
			return nil, err
		}
		s.data = d
		return s, f.orderStatusChanged(ctx, s, d)
	case events.TypeInventoryShortage:
		var d events.InventoryShortage
		if err := events.Decode(e, &d); err != nil {
			return nil, err
		}
		s.data = d
		return s, f.inventoryShortage(ctx, s, d)
	case events.TypeMaintenanceRequested, events.TypeMaintenanceConfirmed, events.TypeMaintenanceCompleted, events.TypeMaintenanceCancelled:
		var d events.Maintenance
		if err := events.Decode(e, &d); err != nil {
			return nil, err
		}
		s.data = d
		return s, f.maintenance(ctx, s, d)
	}
	return nil, nil
}

// order reads an order with its names; ok is false when it does not exist
// (the message then says what the event says).
func (f *Function) order(ctx context.Context, id int64) (o orderRow, ok bool, err error) {
	if id <= 0 {
		return o, false, nil
	}
	err = f.db.QueryRow(ctx, `SELECT o.order_number, o.action_type, o.status, o.reason, o.created_by, o.external_ticket_id,
			o.device_count, coalesce(c.name, ''), coalesce(c.display_name, ''), coalesce(p.name, ''), coalesce(p.pool_type, ''),
			coalesce(s.name, ''), coalesce(d.hostname, ''), o.strategy_id
		FROM elastic_scaling_orders o
		LEFT JOIN clusters c ON c.id = o.cluster_id
		LEFT JOIN resource_pools p ON p.id = o.pool_id
		LEFT JOIN elastic_scaling_strategies s ON s.id = o.strategy_id
		LEFT JOIN devices d ON d.id = o.device_id
		WHERE o.id = $1`, id).Scan(&o.Number, &o.Action, &o.Status, &o.Reason, &o.CreatedBy, &o.Ticket,
		&o.DeviceCount, &o.Cluster, &o.ClusterDisplay, &o.Pool, &o.PoolType, &o.Strategy, &o.Hostname, &o.StrategyID)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("read order %d: %w", id, err)
	}
	return o, true, nil
}

// place names a cluster, a pool and a strategy by id (empty when unknown).
func (f *Function) place(ctx context.Context, clusterID, poolID, strategyID int64) (cluster, pool, poolType, strategy string, err error) {
	err = f.db.QueryRow(ctx, `SELECT
			coalesce((SELECT name FROM clusters WHERE id = $1), ''),
			coalesce((SELECT name FROM resource_pools WHERE id = $2), ''),
			coalesce((SELECT pool_type FROM resource_pools WHERE id = $2), ''),
			coalesce((SELECT name FROM elastic_scaling_strategies WHERE id = $3), '')`,
		clusterID, poolID, strategyID).Scan(&cluster, &pool, &poolType, &strategy)
	if err != nil {
		err = fmt.Errorf("read names: %w", err)
	}
	return
}

func (f *Function) orderLink(id int64) string {
	if id <= 0 {
		return ""
	}
	return f.uiBase + "/orders/" + strconv.FormatInt(id, 10)
}

func actionLabel(a string) string {
	switch a {
	case "pool_entry":
		return "pool entry"
	case "pool_exit":
		return "pool exit"
	case "":
		return "scaling"
	}
	return a
}

func orNumber(number string, id int64) string {
	if number != "" {
		return number
	}
	return "#" + strconv.FormatInt(id, 10)
}

// where is "cluster/pool", "cluster", a host name, or "".
func where(cluster, pool, host string) string {
	switch {
	case cluster != "" && pool != "":
		return cluster + "/" + pool
	case cluster != "":
		return cluster
	}
	return host
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + one + "s"
}

func (s *subject) add(name, value string) {
	if value != "" {
		s.details = append(s.details, notify.Fact{Name: name, Value: value})
	}
}

func (f *Function) orderCreated(ctx context.Context, s *subject, d events.OrderCreated) error {
	o, ok, err := f.order(ctx, d.OrderID)
	if err != nil {
		return err
	}
	if !ok {
		o = orderRow{Number: d.OrderNumber, Action: d.Action, Status: "pending", DeviceCount: d.DeviceCount, CreatedBy: d.CreatedBy}
		var cid, pid, sid int64
		if d.ClusterID != nil {
			cid = *d.ClusterID
		}
		if d.PoolID != nil {
			pid = *d.PoolID
		}
		if d.StrategyID != nil {
			sid = *d.StrategyID
		}
		if o.Cluster, o.Pool, o.PoolType, o.Strategy, err = f.place(ctx, cid, pid, sid); err != nil {
			return err
		}
	}
	num := orNumber(o.Number, d.OrderID)
	s.facts.Action, s.facts.Cluster, s.facts.Pool, s.facts.PoolType, s.facts.Status = o.Action, o.Cluster, o.Pool, o.PoolType, o.Status
	s.severity = "info"
	s.title = fmt.Sprintf("[elasticpool] New %s order %s: %s", actionLabel(o.Action), num, plural(o.DeviceCount, "device"))
	if w := where(o.Cluster, o.Pool, o.Hostname); w != "" {
		s.title += " for " + w
	}
	if o.Strategy != "" {
		s.summary = fmt.Sprintf("Strategy %q opened a %s order; it waits for the on-duty engineer in the workbench.", o.Strategy, actionLabel(o.Action))
	} else {
		s.summary = fmt.Sprintf("A %s order was created; it waits for the on-duty engineer in the workbench.", actionLabel(o.Action))
	}
	s.add("Order", num)
	s.add("Action", o.Action)
	s.add("Cluster", o.Cluster)
	s.add("Pool", poolFact(o.Pool, o.PoolType))
	s.add("Devices", strconv.Itoa(o.DeviceCount))
	s.add("Device", o.Hostname)
	s.add("Strategy", o.Strategy)
	s.add("Created by", o.CreatedBy)
	s.add("Reason", o.Reason)
	s.link = f.orderLink(d.OrderID)
	return nil
}

func poolFact(pool, poolType string) string {
	if pool != "" && poolType != "" && pool != poolType {
		return pool + " (" + poolType + ")"
	}
	return pool
}

func (f *Function) orderStatusChanged(ctx context.Context, s *subject, d events.OrderStatusChanged) error {
	o, _, err := f.order(ctx, d.OrderID)
	if err != nil {
		return err
	}
	if o.Action == "" {
		o.Action = d.Action
	}
	num := orNumber(firstNonEmpty(d.OrderNumber, o.Number), d.OrderID)
	s.facts.Action, s.facts.Cluster, s.facts.Pool, s.facts.PoolType, s.facts.Status = o.Action, o.Cluster, o.Pool, o.PoolType, d.To
	s.severity = "info"
	if d.To == "failed" {
		s.severity = "warning"
	}
	s.title = fmt.Sprintf("[elasticpool] Order %s %s → %s", num, d.From, d.To)
	if w := where(o.Cluster, o.Pool, o.Hostname); w != "" {
		s.title += " (" + w + ")"
	}
	by := d.Actor
	if by == "" {
		by = "the system"
	}
	s.summary = fmt.Sprintf("%s moved %s order %s from %s to %s.", by, actionLabel(o.Action), num, d.From, d.To)
	s.add("Order", num)
	s.add("Action", o.Action)
	s.add("Status", d.From+" → "+d.To)
	s.add("By", d.Actor)
	s.add("Reason", d.Reason)
	s.add("Cluster", o.Cluster)
	s.add("Pool", poolFact(o.Pool, o.PoolType))
	s.add("Device", o.Hostname)
	s.link = f.orderLink(d.OrderID)
	return nil
}

func (f *Function) inventoryShortage(ctx context.Context, s *subject, d events.InventoryShortage) error {
	cluster, pool, poolType, strategy, err := f.place(ctx, d.ClusterID, d.PoolID, d.StrategyID)
	if err != nil {
		return err
	}
	if cluster == "" {
		cluster = "cluster #" + strconv.FormatInt(d.ClusterID, 10)
	}
	if pool == "" {
		pool = "pool #" + strconv.FormatInt(d.PoolID, 10)
	}
	s.facts.Action, s.facts.Cluster, s.facts.Pool, s.facts.PoolType = d.Action, cluster, pool, poolType
	s.severity = "warning"
	s.title = fmt.Sprintf("[elasticpool] Inventory shortage: %s/%s needs %s, %d available", cluster, pool, plural(d.Needed, "device"), d.Found)
	var next string
	if d.OrderID != nil {
		o, _, err := f.order(ctx, *d.OrderID)
		if err != nil {
			return err
		}
		next = fmt.Sprintf("Order %s was created with the %d found.", orNumber(o.Number, *d.OrderID), d.Found)
		s.link = f.orderLink(*d.OrderID)
		s.add("Order", orNumber(o.Number, *d.OrderID))
	} else {
		next = "No order was created."
		if d.StrategyID > 0 {
			s.link = f.uiBase + "/strategies/" + strconv.FormatInt(d.StrategyID, 10)
		}
	}
	s.summary = fmt.Sprintf("A %s for %s/%s needs %d devices but matching found %d. %s Add idle devices or review the matching policy.",
		actionLabel(d.Action), cluster, pool, d.Needed, d.Found, next)
	s.add("Cluster", cluster)
	s.add("Pool", poolFact(pool, poolType))
	s.add("Action", d.Action)
	s.add("Needed", strconv.Itoa(d.Needed))
	s.add("Found", strconv.Itoa(d.Found))
	s.add("Strategy", strategy)
	s.add("Reason", d.Reason)
	return nil
}

func (f *Function) maintenance(ctx context.Context, s *subject, d events.Maintenance) error {
	o, _, err := f.order(ctx, d.OrderID)
	if err != nil {
		return err
	}
	host := firstNonEmpty(d.Hostname, o.Hostname)
	if host == "" && d.DeviceID > 0 {
		err := f.db.QueryRow(ctx, `SELECT hostname FROM devices WHERE id = $1`, d.DeviceID).Scan(&host)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read device %d: %w", d.DeviceID, err)
		}
	}
	if host == "" {
		host = firstNonEmpty(d.Serial, "device #"+strconv.FormatInt(d.DeviceID, 10))
	}
	verb := strings.TrimPrefix(s.facts.Event, "maintenance.")
	s.facts.Action, s.facts.Cluster, s.facts.Pool, s.facts.PoolType, s.facts.Status = "maintenance", o.Cluster, o.Pool, o.PoolType, o.Status
	s.severity = "info"
	s.title = fmt.Sprintf("[elasticpool] Maintenance %s: %s", verb, host)
	if d.ExternalTicketID != "" {
		s.title += " (ticket " + d.ExternalTicketID + ")"
	}
	switch verb {
	case "requested":
		s.summary = fmt.Sprintf("%s asked to take %s out for maintenance; confirm the order to cordon it.", firstNonEmpty(d.ExternalSystem, "An external system"), host)
	case "confirmed":
		s.summary = fmt.Sprintf("Maintenance of %s was confirmed; the node is cordoned.", host)
	case "completed":
		s.summary = fmt.Sprintf("Maintenance of %s is complete; an uncordon order brings it back.", host)
	case "cancelled":
		s.summary = fmt.Sprintf("Maintenance of %s was cancelled.", host)
	default:
		s.summary = fmt.Sprintf("Maintenance of %s: %s.", host, verb)
	}
	s.add("Device", host)
	s.add("Ticket", d.ExternalTicketID)
	s.add("System", d.ExternalSystem)
	s.add("Reason", d.Reason)
	if d.WindowStart != nil && d.WindowEnd != nil {
		s.add("Window", d.WindowStart.In(f.loc).Format("2006-01-02 15:04")+" – "+d.WindowEnd.In(f.loc).Format("2006-01-02 15:04 MST"))
	}
	if d.OrderID > 0 {
		s.add("Order", orNumber(o.Number, d.OrderID))
	}
	if d.UncordonOrderID > 0 {
		s.add("Uncordon order", "#"+strconv.FormatInt(d.UncordonOrderID, 10))
	}
	s.link = f.orderLink(d.OrderID)
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
