// Package bootstrap runs a service: it is the one place where topics, producer, outbox relay,
// consumer, HTTP server, metrics, tracing and logging are wired, the same way for every
// service. A service hands Run its name, settings, outbox and a Build func that turns the
// platform's pieces into its handlers and routes.
package bootstrap

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/lifecycle"
	"github.com/edmshop/edm-shop/platform/outbox"
	"github.com/edmshop/edm-shop/platform/telemetry"
)

// TopicTimeout bounds topic creation at start: a broker that does not answer within it stops
// the service instead of leaving it half started.
const TopicTimeout = 30 * time.Second

// Service is what a service brings.
type Service struct {
	// Name names the service: the `service` log attribute, the default consumer group and
	// the trace resource's service.name.
	Name   string
	Config config.Service
	// Consumes is the topic the service's consumer reads (one of Config.Topics).
	Consumes func(config.Topics) string
	// Outbox is the service's outbox, relayed to Kafka; nil for a service without a store.
	// When it also implements outbox.StatsStore, the outbox gauges are served.
	Outbox outbox.Store
	// Lanes is how many events of one partition the consumer applies at once (see
	// kafka.ConsumerConfig.Lanes); 0 means kafka.DefaultLanes.
	Lanes int
	Log   *slog.Logger
	// Build makes the service's parts from the platform's.
	Build func(p *Platform) (Parts, error)
}

// Platform is what the bootstrap gives a service to build its parts with.
type Platform struct {
	// Config is the service's settings with the defaults filled in.
	Config config.Service
	// Log carries the `service` attribute and the context's event, request and trace ids.
	Log *slog.Logger
	// Publisher publishes directly (payment-service), counted and traced.
	Publisher kafka.Publisher
	// Notify wakes the outbox relay after outbox records were committed; a no-op without one.
	Notify func()
	// Metrics is the service's own registry, served on GET /metrics.
	Metrics prometheus.Registerer
	// Tracer is the service's own tracer provider.
	Tracer trace.TracerProvider
	// Share returns the part of the consumed topic's partitions this process owns now, from 0
	// to 1; 0 while it is not known (before the first statistics) or the process owns none.
	// With replicas each consumes only the events of its partitions.
	Share func() float64
}

// Parts are what a service runs on the platform.
type Parts struct {
	// Handlers handle the events of the consumed topic.
	Handlers kafka.Handlers
	// Routes adds the service's HTTP routes.
	Routes func(r gin.IRouter)
	// Checks join the Kafka check in GET /readyz.
	Checks map[string]httpx.Check
	// Extra parts run beside the consumer, relay and HTTP server, and stop with them.
	Extra map[string]lifecycle.Part
}

// Option changes how Run wires a service.
type Option func(*options)

type options struct {
	telemetry   *telemetry.Telemetry
	telOpts     telemetry.Options
	lagInterval time.Duration
	consumerMws []kafka.Middleware
}

// WithConsumerMiddleware adds mws inside the platform's consumer middleware, around every
// handler (tests inject failures with it).
func WithConsumerMiddleware(mws ...kafka.Middleware) Option {
	return func(o *options) { o.consumerMws = append(o.consumerMws, mws...) }
}

// WithTelemetry uses tel instead of building the service's telemetry; Run does not shut it
// down. A main that needs the tracer provider before Run (for a store client) builds it first.
func WithTelemetry(tel *telemetry.Telemetry) Option { return func(o *options) { o.telemetry = tel } }

// WithTelemetryOptions passes opts to telemetry.New (span recorders in tests, the sandbox's
// service names).
func WithTelemetryOptions(opts telemetry.Options) Option {
	return func(o *options) { o.telOpts = opts }
}

// WithLagInterval sets how often the consumer lag gauge is refreshed (telemetry.LagInterval).
func WithLagInterval(d time.Duration) Option { return func(o *options) { o.lagInterval = d } }

// withDefaults fills in what cfg leaves empty.
func withDefaults(name string, cfg config.Service) config.Service {
	if cfg.GroupID == "" {
		cfg.GroupID = name
	}
	if cfg.Brokers == "" {
		cfg.Brokers = config.Brokers()
	}
	if cfg.Topics.Inventory == "" {
		cfg.Topics.Inventory = config.DefaultTopics.Inventory
	}
	if cfg.Topics.Payment == "" {
		cfg.Topics.Payment = config.DefaultTopics.Payment
	}
	if cfg.Topics.Order == "" {
		cfg.Topics.Order = config.DefaultTopics.Order
	}
	if cfg.Topics.OrderStatus == "" {
		cfg.Topics.OrderStatus = config.DefaultTopics.OrderStatus
	}
	return cfg
}

// Run runs the service until ctx is cancelled (then it returns nil once every part stopped) or
// a part fails (then it stops the others and returns the error). It creates every saga topic
// and its dead-letter twin, then runs the consumer (which also reports its lag), the outbox
// relay (with an outbox) and the HTTP server (the service's routes, /healthz, /readyz, /metrics).
// Unless GOGC is set, it sets the garbage collector's target to DefaultGCPercent (gc.go), and
// unless GOMAXPROCS is set, it runs ProcsPerCPU Go processors per CPU (procs.go).
func Run(ctx context.Context, svc Service, opts ...Option) error {
	tuneRuntime()
	o := options{lagInterval: telemetry.LagInterval}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := withDefaults(svc.Name, svc.Config)
	base := svc.Log
	if base == nil {
		base = slog.Default()
	}
	log := slog.New(telemetry.ContextHandler(base.Handler())).With("service", svc.Name)

	tel := o.telemetry
	if tel == nil {
		var err error
		if tel, err = telemetry.New(ctx, svc.Name, o.telOpts); err != nil {
			return fmt.Errorf("telemetry: %w", err)
		}
		defer func() {
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := tel.Shutdown(shutdownCtx); err != nil {
				log.Warn("flush traces", "error", err)
			}
		}()
	}

	if err := kafka.SecurityFromEnv().Validate(); err != nil {
		return err
	}
	partitions, err := config.Partitions(kafka.DefaultPartitions)
	if err != nil {
		return err
	}
	ensureCtx, cancel := context.WithTimeout(ctx, TopicTimeout)
	err = kafka.EnsureTopics(ensureCtx, cfg.Brokers, partitions, cfg.Topics.All()...)
	cancel()
	if err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	producer, err := kafka.NewProducer(cfg.Brokers, log)
	if err != nil {
		return err
	}
	defer producer.Close()
	publisher := kafka.ChainPublisher(producer, telemetry.PublishMetrics(tel.Registry), telemetry.PublishTracing(tel.Tracer))

	parts := map[string]lifecycle.Part{}
	notify := func() {}
	if svc.Outbox != nil {
		relay := outbox.NewRelay(svc.Outbox, publisher, log)
		notify = relay.Notify
		parts["outbox relay"] = relay.Run
		if stats, ok := svc.Outbox.(outbox.StatsStore); ok {
			telemetry.RegisterOutboxMetrics(tel.Registry, stats, log)
		}
	}
	var share atomic.Uint64 // math.Float64bits of the consumer's share
	built, err := svc.Build(&Platform{Config: cfg, Log: log, Publisher: publisher, Notify: notify, Metrics: tel.Registry, Tracer: tel.Tracer,
		Share: func() float64 { return math.Float64frombits(share.Load()) }})
	if err != nil {
		return err
	}

	topic := svc.Consumes(cfg.Topics)
	consumerMetrics := telemetry.NewConsumerMetrics(tel.Registry)
	consumer := kafka.NewConsumer(kafka.ConsumerConfig{
		Brokers: cfg.Brokers, GroupID: cfg.GroupID, Topic: topic,
		// SourceCheck after metrics and tracing: a forged event is counted and traced as
		// dead-lettered.
		Middleware: append([]kafka.Middleware{consumerMetrics.Middleware(), telemetry.ConsumerTracing(tel.Tracer), kafka.SourceCheck()},
			o.consumerMws...),
		OnDeadLetter: consumerMetrics.DeadLettered,
		// The consumer reports its own lag: an AdminClient asking the group coordinator for
		// it crashed the service when the broker restarted (issue #9).
		OnLag:       telemetry.NewConsumerLag(tel.Registry, topic).Observe,
		LagInterval: o.lagInterval,
		OnShare:     func(s kafka.Share) { share.Store(math.Float64bits(s.Fraction())) },
		Lanes:       svc.Lanes,
	}, built.Handlers, producer, log)
	parts["kafka consumer"] = consumer.Run

	checks := map[string]httpx.Check{"kafka": producer.Ping}
	for name, check := range built.Checks {
		checks[name] = check
	}
	engine := httpx.NewEngine(checks,
		telemetry.RequestID(),
		telemetry.HTTPMetrics(tel.Registry),
		telemetry.HTTPTracing(svc.Name, tel.Tracer),
		telemetry.AccessLog(log))
	engine.GET("/metrics", gin.WrapH(promhttp.HandlerFor(tel.Registry, promhttp.HandlerOpts{Registry: tel.Registry})))
	if built.Routes != nil {
		built.Routes(engine)
	}
	parts["http server"] = func(ctx context.Context) error {
		l, err := cfg.Listen()
		if err != nil {
			return err
		}
		return httpx.ServeListener(ctx, l, engine)
	}
	for name, part := range built.Extra {
		parts[name] = part
	}
	if addr := config.String("PPROF_ADDR", ""); addr != "" {
		parts["pprof server"] = pprofServer(addr)
	}

	log.Info(svc.Name+" running", "http", cfg.HTTPAddr, "consumes", topic, "group", cfg.GroupID)
	return lifecycle.Run(ctx, parts)
}
