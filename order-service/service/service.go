// Package service wires order-service together on the platform's bootstrap: topics, Kafka
// producer, outbox relay, consumer, HTTP server, metrics and tracing. cmd/order-service runs it
// with DynamoDB; the sandbox runs it in-process with SQLite.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/order-service/app"
	"github.com/edmshop/edm-shop/order-service/domain"
	"github.com/edmshop/edm-shop/order-service/ports"
	"github.com/edmshop/edm-shop/platform/bootstrap"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/lifecycle"
	"github.com/edmshop/edm-shop/platform/purge"
)

// Name is the service's name and its consumer group.
const Name = "order-service"

// Config is what Run needs besides its store.
type Config struct {
	config.Service
	// InventoryURL is inventory-service as a shopper's browser reaches it, for the storefront.
	InventoryURL string
	// MaxInFlight bounds the orders accepted and not yet terminal: past it POST /orders
	// answers 503 OVERLOADED. 0 means DefaultMaxInFlight; less than 0 means no limit.
	MaxInFlight int
	// Deadline is how long after its creation an order still in flight expires
	// (domain.DefaultDeadline when zero).
	Deadline time.Duration
	// deadlineErr is why ORDER_DEADLINE could not be read; Run reports it.
	deadlineErr error
}

// DefaultMaxInFlight is the in-flight limit unless ORDER_MAX_IN_FLIGHT says otherwise. By
// Little's law an accepted order waits about limit / (settled orders per second), and the
// measured p99 of place -> terminal is a few times that. On the 2-core reference machine
// (sagabench -orders 10000 -overload 2, Nov 2026, after the lanes and group commit) the sandbox
// gave: limit 200, 792 settled/s and p99 0.43 s at twice that rate offered; limit 400, 995/s
// and p99 0.83 s; limit 1000, 1018/s and p99 3.9 s. 400 is the largest that kept p99 under the
// 1 s budget. Retuned after the saga got faster (sagabench -orders 20000 -flash-orders 0 -calm 0
// -max-in-flight N, two runs each, 25 Nov 2026): limit 400 settled 1659/1854 orders/s in the
// closed loop and kept p99 at 0.56/0.57 s with twice that offered; 600, 1635/1659/s and
// 0.93/1.03 s; 800, 1568/2034/s and 1.55/1.68 s. 400 stayed. Retuned once payment-service
// took 32 events per partition at once (its service.Lanes), with whole sagabench runs (two each,
// one sitting): limit 400 settled 1,844/1,699 orders/s in the closed loop and kept p99 at
// 0.68/0.59 s with twice that offered; 500, 1,802/1,933/s and 0.64/0.96 s; 600, 2,030/1,935/s
// but 0.88/1.12 s, past the budget. Those runs left half the e-mails to be sent after each
// loop; once notification-service kept up (64 SMTP sessions), limit 500 settled 1,559/1,575/s
// with p99 0.53/0.58 s under twice that, and 650 1,714/1,680/s with 0.70/0.75 s: 650 it is.
// Retune it the same way when the saga gets faster.
const DefaultMaxInFlight = 650

// ConfigFromEnv reads HTTP_ADDR (default :8081), KAFKA_BROKERS, the KAFKA_TOPIC_* names and
// STOREFRONT_INVENTORY_URL (default http://localhost:8082), ORDER_MAX_IN_FLIGHT (default
// DefaultMaxInFlight; 0 or less switches the limit off) and ORDER_DEADLINE (a Go duration,
// default 30s); the consumer group is "order-service".
func ConfigFromEnv() Config {
	limit, err := strconv.Atoi(config.String("ORDER_MAX_IN_FLIGHT", strconv.Itoa(DefaultMaxInFlight)))
	if err != nil {
		limit = DefaultMaxInFlight
	} else if limit <= 0 {
		limit = -1
	}
	deadline, deadlineErr := config.Duration("ORDER_DEADLINE", domain.DefaultDeadline)
	return Config{
		Service:      config.ServiceFromEnv(Name, ":8081"),
		InventoryURL: config.String("STOREFRONT_INVENTORY_URL", "http://localhost:8082"),
		MaxInFlight:  limit,
		Deadline:     deadline,
		deadlineErr:  deadlineErr,
	}
}

// Run runs order-service over repo until ctx is cancelled (then it returns nil once everything
// has stopped) or a part of it fails (then it stops the rest and returns the error).
func Run(ctx context.Context, cfg Config, repo app.Repository, log *slog.Logger, opts ...bootstrap.Option) error {
	switch {
	case cfg.deadlineErr != nil:
		return cfg.deadlineErr
	case cfg.Deadline < 0:
		return fmt.Errorf("order deadline %s is negative", cfg.Deadline)
	case cfg.Deadline == 0:
		cfg.Deadline = domain.DefaultDeadline
	}
	maxInFlight := cfg.MaxInFlight
	if maxInFlight == 0 {
		maxInFlight = DefaultMaxInFlight
	}
	return bootstrap.Run(ctx, bootstrap.Service{
		Name:     Name,
		Config:   cfg.Service,
		Consumes: func(t config.Topics) string { return t.Order },
		Outbox:   repo,
		Log:      log,
		Build: func(p *bootstrap.Platform) (bootstrap.Parts, error) {
			orders := app.New(repo, p.Config.Topics.Inventory, p.Notify)
			if err := orders.LimitInFlight(ctx, maxInFlight); err != nil {
				return bootstrap.Parts{}, err
			}
			p.Log.Info("order admission", "maxInFlight", orders.InFlightLimit(), "inFlight", orders.InFlight())
			orders.PublishStatusTo(p.Config.Topics.OrderStatus)
			saga := newSagaMetrics(p.Metrics)
			orders.Observe(saga)
			registerInFlight(p.Metrics, func() float64 { return float64(orders.InFlight()) })
			return bootstrap.Parts{
				Handlers: ports.EventHandlers(orders),
				Routes: func(r gin.IRouter) {
					ports.RegisterHTTP(r, orders, p.Log)
					ports.RegisterStorefront(r, cfg.InventoryURL)
					ports.RegisterTopicViewer(r, viewedTopics(p.Config.Topics), tailTopics(p.Config.Brokers, viewedTopics(p.Config.Topics)), p.Log)
					ports.RegisterContracts(r)
				},
				Checks: map[string]httpx.Check{"store": repo.Ping},
				Extra: map[string]lifecycle.Part{
					// ORDER_EXPIRED goes to the services that compensate: inventory releases the
					// stock, payment refunds or voids the charge.
					"order expiry": orders.Expirer(cfg.Deadline, p.Log, p.Config.Topics.Inventory, p.Config.Topics.Payment).Run,
					"idempotency key purge": func(ctx context.Context) error {
						return purge.Loop(ctx, p.Log, "idempotency keys", p.Config.Retention(), repo.PurgeIdempotencyKeys)
					},
				},
			}, nil
		},
	}, opts...)
}
