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
	// w writes this message's texts in NOTIFY_LANGUAGE.
	w *words
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
	s, err := f.decode(ctx, e)
	if err == nil && s != nil && s.w.err != nil {
		// A text missing from the catalog: a build defect the tests catch.
		err = s.w.err
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (f *Function) decode(ctx context.Context, e cloudevents.Event) (*subject, error) {
	s := &subject{id: e.ID(), ceType: e.Type(), at: e.Time(), w: &words{c: f.cat}}
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

func (s *subject) add(name, value string) {
	if value != "" {
		s.details = append(s.details, notify.Fact{Name: name, Value: value})
	}
}

// fact adds a detail named by the catalog key fact.<key>.
func (s *subject) fact(key, value string) {
	if value != "" {
		s.add(s.w.t("fact."+key, nil), value)
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
	w := s.w
	data := map[string]any{"Action": w.action(o.Action), "Number": num, "Devices": o.DeviceCount,
		"Where": where(o.Cluster, o.Pool, o.Hostname), "Strategy": o.Strategy}
	s.title = w.t("orderCreated.title", data)
	s.summary = w.t("orderCreated.summary", data)
	s.fact("order", num)
	s.fact("action", w.enum("action", o.Action))
	s.fact("cluster", o.Cluster)
	s.fact("pool", poolFact(o.Pool, o.PoolType))
	s.fact("devices", strconv.Itoa(o.DeviceCount))
	s.fact("device", o.Hostname)
	s.fact("strategy", o.Strategy)
	s.fact("createdBy", o.CreatedBy)
	s.fact("reason", o.Reason)
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
	failed := d.To == "failed"
	if failed {
		s.severity = "warning"
	}
	w := s.w
	from, to := w.enum("status", d.From), w.enum("status", d.To)
	by := d.Actor
	if by == "" {
		by = w.t("name.system", nil)
	}
	data := map[string]any{"By": by, "Action": w.action(o.Action), "Number": num, "From": from, "To": to,
		"Where": where(o.Cluster, o.Pool, o.Hostname), "Reason": d.Reason, "Failed": failed}
	s.title = w.t("orderStatus.title", data)
	s.summary = w.t("orderStatus.summary", data)
	s.fact("order", num)
	s.fact("action", w.enum("action", o.Action))
	s.fact("status", from+" → "+to)
	s.fact("by", d.Actor)
	if failed {
		s.fact("failureReason", d.Reason)
	} else {
		s.fact("reason", d.Reason)
	}
	s.fact("cluster", o.Cluster)
	s.fact("pool", poolFact(o.Pool, o.PoolType))
	s.fact("device", o.Hostname)
	s.link = f.orderLink(d.OrderID)
	return nil
}

func (f *Function) inventoryShortage(ctx context.Context, s *subject, d events.InventoryShortage) error {
	cluster, pool, poolType, strategy, err := f.place(ctx, d.ClusterID, d.PoolID, d.StrategyID)
	if err != nil {
		return err
	}
	w := s.w
	// Routing sees the same stand-in in every language, so a routes file
	// does not depend on NOTIFY_LANGUAGE.
	s.facts.Action, s.facts.Cluster, s.facts.Pool, s.facts.PoolType = d.Action, cluster, pool, poolType
	if cluster == "" {
		s.facts.Cluster = "cluster #" + strconv.FormatInt(d.ClusterID, 10)
		cluster = w.t("name.cluster", map[string]any{"ID": d.ClusterID})
	}
	if pool == "" {
		s.facts.Pool = "pool #" + strconv.FormatInt(d.PoolID, 10)
		pool = w.t("name.pool", map[string]any{"ID": d.PoolID})
	}
	s.severity = "warning"
	var number string
	if d.OrderID != nil {
		o, _, err := f.order(ctx, *d.OrderID)
		if err != nil {
			return err
		}
		number = orNumber(o.Number, *d.OrderID)
		s.link = f.orderLink(*d.OrderID)
		s.fact("order", number)
	} else if d.StrategyID > 0 {
		s.link = f.uiBase + "/strategies/" + strconv.FormatInt(d.StrategyID, 10)
	}
	data := map[string]any{"Action": w.action(d.Action), "Cluster": cluster, "Pool": pool, "Needed": d.Needed, "Found": d.Found, "Number": number}
	s.title = w.t("shortage.title", data)
	s.summary = w.t("shortage.summary", data)
	s.fact("cluster", cluster)
	s.fact("pool", poolFact(pool, poolType))
	s.fact("action", w.enum("action", d.Action))
	s.fact("needed", strconv.Itoa(d.Needed))
	s.fact("found", strconv.Itoa(d.Found))
	s.fact("strategy", strategy)
	s.fact("reason", d.Reason)
	return nil
}

func (f *Function) maintenance(ctx context.Context, s *subject, d events.Maintenance) error {
	o, _, err := f.order(ctx, d.OrderID)
	if err != nil {
		return err
	}
	w := s.w
	host := firstNonEmpty(d.Hostname, o.Hostname)
	if host == "" && d.DeviceID > 0 {
		err := f.db.QueryRow(ctx, `SELECT hostname FROM devices WHERE id = $1`, d.DeviceID).Scan(&host)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read device %d: %w", d.DeviceID, err)
		}
	}
	if host == "" {
		host = firstNonEmpty(d.Serial, w.t("name.device", map[string]any{"ID": d.DeviceID}))
	}
	// describe only lets the four maintenance types through, each with its texts.
	verb := strings.TrimPrefix(s.facts.Event, "maintenance.")
	s.facts.Action, s.facts.Cluster, s.facts.Pool, s.facts.PoolType, s.facts.Status = "maintenance", o.Cluster, o.Pool, o.PoolType, o.Status
	s.severity = "info"
	data := map[string]any{"Host": host, "Ticket": d.ExternalTicketID,
		"System": firstNonEmpty(d.ExternalSystem, w.t("name.externalSystem", nil))}
	s.title = w.t("maintenance."+verb+".title", data)
	s.summary = w.t("maintenance."+verb+".summary", data)
	s.fact("device", host)
	s.fact("ticket", d.ExternalTicketID)
	s.fact("system", d.ExternalSystem)
	s.fact("reason", d.Reason)
	if d.WindowStart != nil && d.WindowEnd != nil {
		s.fact("window", d.WindowStart.In(f.loc).Format("2006-01-02 15:04")+" – "+d.WindowEnd.In(f.loc).Format("2006-01-02 15:04 MST"))
	}
	if d.OrderID > 0 {
		s.fact("order", orNumber(o.Number, d.OrderID))
	}
	if d.UncordonOrderID > 0 {
		s.fact("uncordonOrder", "#"+strconv.FormatInt(d.UncordonOrderID, 10))
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
