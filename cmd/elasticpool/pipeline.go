package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/robfig/cron/v3"
	_ "gocloud.dev/pubsub/mempubsub" // EVENTS_URL mem:// (the local default)

	"github.com/elasticpool/elasticpool/shared/events"
)

// PipelineConfig is the local stand-in for the PingSource.
type PipelineConfig struct {
	// Schedule is the daily evaluation's cron (standard 5 fields), read in TIMEZONE,
	// like the PingSource's schedule and timezone in infra/.
	Schedule string `env:"EVALUATE_SCHEDULE, default=0 6 * * *"`
}

// Local mode's event paths: the broker ingress (K_SINK) and one path per
// CloudEvent function, /events/<function>.
const (
	brokerPath = "/events/broker"
	eventsPath = "/events/"
)

// localSink is K_SINK in local mode when none is set: the in-process broker.
func localSink(port string) string { return "http://127.0.0.1:" + port + brokerPath }

// eventSide is the event half of local mode: the CloudEvent functions
// mounted at /events/<name>, the broker that routes to them by
// events.Triggers over HTTP with Knative's retry rules, and the cron that
// sends the daily ping as PingSource would.
type eventSide struct {
	broker *events.Broker
	cron   *cron.Cron
}

// startEvents mounts fns and the broker on mux and starts delivering and
// the cron. sink is where the cron sends the ping (the broker's ingress).
func startEvents(ctx context.Context, mux *http.ServeMux, port, busURL, schedule string, loc *time.Location,
	sink events.Emitter, fns map[string]events.HandlerFunc) (*eventSide, error) {
	subs := map[string]string{}
	names := make([]string, 0, len(fns))
	for name := range fns {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		h, err := events.Handler(ctx, fns[name])
		if err != nil {
			return nil, err
		}
		mux.Handle(eventsPath+name, h)
		subs[name] = "http://127.0.0.1:" + port + eventsPath + name
	}
	b, err := events.NewBroker(ctx, events.BrokerOptions{URL: busURL, Subscribers: subs})
	if err != nil {
		return nil, err
	}
	mux.Handle(brokerPath, b)
	go func() {
		if err := b.Run(context.WithoutCancel(ctx)); err != nil {
			slog.Error("local broker stopped", "err", err)
		}
	}()

	c := cron.New(cron.WithLocation(loc))
	if _, err := c.AddFunc(schedule, func() { ping(sink, time.Now().In(loc).Truncate(time.Minute)) }); err != nil {
		_ = b.Shutdown(ctx)
		return nil, fmt.Errorf("EVALUATE_SCHEDULE %q: %w", schedule, err)
	}
	c.Start()
	next := c.Entries()[0].Next
	slog.Info("local pipeline: broker and cron started", "functions", names, "bus", busURL,
		"schedule", schedule, "timezone", loc.String(), "next_tick", next.Format(time.RFC3339))
	return &eventSide{broker: b, cron: c}, nil
}

// ping sends the tick's dev.knative.sources.ping, timed at the tick, as the
// PingSource does; evaluate fans out from it.
func ping(sink events.Emitter, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := sink.Emit(ctx, events.Outgoing{
		ID: "ping:" + at.UTC().Format(time.RFC3339), Type: events.TypePing, Source: "/elasticpool/cron", Time: at,
	})
	if err != nil {
		slog.Error("local cron: ping not sent", "tick", at, "err", err)
		return
	}
	slog.Info("local cron: daily ping sent", "tick", at)
}

// stop ends the cron (waiting for a running tick), then drains the broker
// while the HTTP server still answers its deliveries.
func (s *eventSide) stop(ctx context.Context) {
	<-s.cron.Stop().Done()
	if err := s.broker.Shutdown(ctx); err != nil {
		slog.Warn("local broker shutdown", "err", err)
	}
}
