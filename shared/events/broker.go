package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"gocloud.dev/pubsub"
)

// Function names: the Knative Services of infra/ and, locally, the
// /events/<name> paths the all-in-one process mounts.
const (
	FunctionEvaluate    = "evaluate"
	FunctionMatch       = "match"
	FunctionNotify      = "notify"
	FunctionMaintenance = "maintenance"
	FunctionNodeOps     = "nodeops"
)

// Trigger routes every event of one type to one subscriber, like a Knative
// Trigger with `filter.attributes.type` and `subscriber.ref` a Service.
type Trigger struct {
	Name       string // metadata.name of the Knative Trigger
	EventType  string // spec.filter.attributes.type
	Subscriber string // spec.subscriber.ref.name: the function (Knative Service) name
	Path       string // spec.subscriber.uri: path on the subscriber, "" for its root
}

// Triggers is the routing table of the whole system. infra/ declares the
// same Knative Triggers (a test keeps the two equal) and the local broker
// routes by it, so local and Knative routing cannot drift. Keep it a plain
// data table: one row per (type, subscriber).
var Triggers = []Trigger{
	{Name: "evaluate-ping", EventType: TypePing, Subscriber: FunctionEvaluate},
	{Name: "evaluate-strategy", EventType: TypeStrategyEvaluate, Subscriber: FunctionEvaluate},
	{Name: "match-threshold-breached", EventType: TypePoolThresholdBreached, Subscriber: FunctionMatch},
	{Name: "notify-order-created", EventType: TypeOrderCreated, Subscriber: FunctionNotify},
	{Name: "notify-order-status-changed", EventType: TypeOrderStatusChanged, Subscriber: FunctionNotify},
	{Name: "notify-inventory-shortage", EventType: TypeInventoryShortage, Subscriber: FunctionNotify},
	{Name: "notify-maintenance-requested", EventType: TypeMaintenanceRequested, Subscriber: FunctionNotify},
	{Name: "notify-maintenance-confirmed", EventType: TypeMaintenanceConfirmed, Subscriber: FunctionNotify},
	{Name: "notify-maintenance-completed", EventType: TypeMaintenanceCompleted, Subscriber: FunctionNotify},
	{Name: "notify-maintenance-cancelled", EventType: TypeMaintenanceCancelled, Subscriber: FunctionNotify},
	{Name: "nodeops-order-execute", EventType: TypeOrderExecute, Subscriber: FunctionNodeOps},
	{Name: "nodeops-maintenance-confirmed", EventType: TypeMaintenanceConfirmed, Subscriber: FunctionNodeOps},
}

// DeadLetter is an event the broker gave up on for one trigger.
type DeadLetter struct {
	Trigger  string
	Event    cloudevents.Event
	Attempts int
	Status   int // last HTTP status; 0 for a network error
	Err      error
}

// BrokerOptions configure the local broker; zero values take the defaults.
type BrokerOptions struct {
	// URL is the gocloud.dev pubsub URL of the queue (EVENTS_URL), e.g.
	// mem://elasticpool or nats://elasticpool. The driver is blank-imported
	// by the main package.
	URL string
	// Triggers default to the package's Triggers.
	Triggers []Trigger
	// Subscribers maps a function name to its base URL, e.g.
	// "evaluate" → "http://127.0.0.1:8080/events/evaluate". A trigger whose
	// subscriber is not listed is skipped (logged once at start).
	Subscribers map[string]string
	// Client sends deliveries; default: a client with a 2 minute timeout.
	Client *http.Client
	// Retry is the number of redeliveries after the first attempt (Knative
	// delivery.retry), default 10 as infra/base/trigger-delivery.yaml.
	Retry int
	// BackoffDelay is the first retry delay, doubled each retry (Knative
	// backoffPolicy exponential, backoffDelay), default 500ms as infra/.
	BackoffDelay time.Duration
	// Workers is how many messages are delivered at once, default 16.
	Workers int
	// OnDeadLetter is called for every event given up on; default logs it.
	OnDeadLetter func(DeadLetter)
	// Now is the clock for knativearrivaltime; default time.Now.
	Now func() time.Time
}

// Broker is the local stand-in for the Knative Broker: its ingress accepts
// CloudEvents over HTTP (K_SINK points at it), queues them on a gocloud.dev
// topic, and delivers each to every matching trigger's subscriber over HTTP
// in binary mode, retrying the statuses Knative retries with exponential
// backoff and dead-lettering after Retry redeliveries.
type Broker struct {
	opts     BrokerOptions
	triggers []Trigger
	topic    *pubsub.Topic
	sub      *pubsub.Subscription
	sender   cloudevents.Client

	life     context.Context // cancelled by Shutdown
	stop     context.CancelFunc
	running  chan struct{} // closed when Run starts
	done     chan struct{} // closed when Run returns
	inflight sync.WaitGroup
}

// NewBroker opens the queue. Call Run to start delivering and Shutdown to stop.
func NewBroker(ctx context.Context, opts BrokerOptions) (*Broker, error) {
	if opts.URL == "" {
		opts.URL = "mem://elasticpool"
	}
	if opts.Triggers == nil {
		opts.Triggers = Triggers
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 2 * time.Minute}
	}
	if opts.Retry == 0 {
		opts.Retry = 10
	}
	if opts.Retry < 0 {
		opts.Retry = 0
	}
	if opts.BackoffDelay <= 0 {
		opts.BackoffDelay = 500 * time.Millisecond
	}
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnDeadLetter == nil {
		opts.OnDeadLetter = logDeadLetter
	}
	b := &Broker{opts: opts, running: make(chan struct{}), done: make(chan struct{})}
	b.life, b.stop = context.WithCancel(context.Background())
	for _, t := range opts.Triggers {
		if _, ok := opts.Subscribers[t.Subscriber]; !ok {
			slog.Warn("broker: trigger skipped, its subscriber is not served here", "trigger", t.Name, "type", t.EventType, "subscriber", t.Subscriber)
			continue
		}
		b.triggers = append(b.triggers, t)
	}
	topicURL, subURL, err := queueURLs(opts.URL)
	if err != nil {
		return nil, err
	}
	if b.topic, err = pubsub.OpenTopic(ctx, topicURL); err != nil {
		return nil, fmt.Errorf("events: open topic %s: %w", topicURL, err)
	}
	if b.sub, err = pubsub.OpenSubscription(ctx, subURL); err != nil {
		_ = b.topic.Shutdown(ctx)
		return nil, fmt.Errorf("events: open subscription %s: %w", subURL, err)
	}
	p, err := cloudevents.NewHTTP(cehttp.WithClient(*opts.Client))
	if err != nil {
		return nil, fmt.Errorf("events: http protocol: %w", err)
	}
	if b.sender, err = cloudevents.NewClient(p); err != nil {
		return nil, fmt.Errorf("events: client: %w", err)
	}
	return b, nil
}

// queueURLs derives the topic and subscription URLs. mem:// topics take no
// query parameters, and its subscription's ack deadline must outlast a
// delivery with all its retries, or the queue itself would redeliver.
func queueURLs(raw string) (topic, sub string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("events: EVENTS_URL %q: %w", raw, err)
	}
	if u.Scheme != "mem" {
		return raw, raw, nil
	}
	q := u.Query()
	if q.Get("ackdeadline") == "" {
		q.Set("ackdeadline", "1h") // > 11 attempts × 2 min + ~8.5 min of backoff
	}
	t := *u
	t.RawQuery = ""
	s := *u
	s.RawQuery = q.Encode()
	return t.String(), s.String(), nil
}

// Routes returns the triggers an event type is delivered to.
func (b *Broker) Routes(eventType string) []Trigger {
	var out []Trigger
	for _, t := range b.triggers {
		if t.EventType == eventType {
			out = append(out, t)
		}
	}
	return out
}

// ServeHTTP is the ingress: POST a CloudEvent (binary or structured), get
// 202 once it is queued, 400 if it is not a valid event, 503 if the queue
// refused it.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a CloudEvent", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	e, err := cehttp.NewEventFromHTTPRequest(r)
	if err != nil {
		http.Error(w, "not a CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := e.Validate(); err != nil {
		http.Error(w, "invalid CloudEvent: "+err.Error(), http.StatusBadRequest)
		return
	}
	e.SetExtension("knativearrivaltime", b.opts.Now().UTC().Format(time.RFC3339Nano))
	if err := b.Publish(r.Context(), *e); err != nil {
		slog.ErrorContext(r.Context(), "broker: queue refused an event", "id", e.ID(), "type", e.Type(), "err", err)
		http.Error(w, "queue unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// Publish queues e for delivery.
func (b *Broker) Publish(ctx context.Context, e cloudevents.Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("events: encode %s: %w", e.ID(), err)
	}
	return b.topic.Send(ctx, &pubsub.Message{Body: body, Metadata: map[string]string{"ce-type": e.Type(), "ce-id": e.ID()}})
}

// Run receives and delivers until ctx is done or Shutdown is called.
func (b *Broker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-b.life.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	close(b.running)
	defer close(b.done)
	slots := make(chan struct{}, b.opts.Workers)
	for {
		msg, err := b.sub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("events: receive: %w", err)
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			if msg.Nackable() {
				msg.Nack()
			}
			return nil
		}
		b.inflight.Add(1)
		go func() {
			defer func() { <-slots; b.inflight.Done() }()
			b.handle(msg)
		}()
	}
}

// Shutdown stops receiving, waits (bounded by ctx) for deliveries in flight,
// then closes the queue. Events still queued on mem:// are lost, as they
// would be on any crash of the local process.
func (b *Broker) Shutdown(ctx context.Context) error {
	b.stop()
	select {
	case <-b.running:
		select {
		case <-b.done:
		case <-ctx.Done():
		}
	default: // Run never started
	}
	waited := make(chan struct{})
	go func() { b.inflight.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		slog.Warn("broker: shutdown with deliveries still in flight")
	}
	return errors.Join(b.sub.Shutdown(ctx), b.topic.Shutdown(ctx))
}

func (b *Broker) handle(msg *pubsub.Message) {
	var e cloudevents.Event
	if err := json.Unmarshal(msg.Body, &e); err != nil {
		slog.Error("broker: dropped an undecodable message", "err", err)
		msg.Ack()
		return
	}
	var wg sync.WaitGroup
	for _, t := range b.Routes(e.Type()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.deliver(t, e)
		}()
	}
	wg.Wait()
	msg.Ack()
}

// deliver sends e to one trigger's subscriber until it is acknowledged,
// answered with a status Knative does not retry, or Retry redeliveries
// failed. Deliveries run on their own context so a shutdown lets them end.
func (b *Broker) deliver(t Trigger, e cloudevents.Event) {
	target := strings.TrimSuffix(b.opts.Subscribers[t.Subscriber], "/") + t.Path
	ctx := context.Background()
	if tr, ok := TraceOf(e); ok {
		ctx = ContextWithTrace(ctx, tr)
	}
	delay := b.opts.BackoffDelay
	for attempt := 1; ; attempt++ {
		status, err := b.send(ctx, target, e)
		if err == nil {
			return
		}
		retry := status == 0 || RetryableStatus(status)
		if !retry || attempt > b.opts.Retry {
			b.opts.OnDeadLetter(DeadLetter{Trigger: t.Name, Event: e, Attempts: attempt, Status: status, Err: err})
			return
		}
		slog.Debug("broker: redelivering", "trigger", t.Name, "id", e.ID(), "status", status, "attempt", attempt, "in", delay)
		time.Sleep(delay)
		delay *= 2
	}
}

// send posts e in binary mode; status is the answer's, 0 when none came.
func (b *Broker) send(ctx context.Context, target string, e cloudevents.Event) (int, error) {
	res := b.sender.Send(cloudevents.ContextWithTarget(binding.WithForceBinary(ctx), target), e)
	if cloudevents.IsACK(res) {
		return 0, nil
	}
	var hr *cehttp.Result
	if errors.As(res, &hr) {
		return hr.StatusCode, res
	}
	return 0, res
}

func logDeadLetter(d DeadLetter) {
	slog.Error("broker: event dead-lettered", "trigger", d.Trigger, "id", d.Event.ID(), "type", d.Event.Type(),
		"attempts", d.Attempts, "status", d.Status, "err", d.Err)
}
