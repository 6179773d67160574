// Package service wires order-service together on the platform's bootstrap: topics, Kafka
// producer, outbox relay, consumer, HTTP server, metrics and tracing. cmd/order-service runs it
// with DynamoDB; the sandbox runs it in-process with SQLite.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"os"
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
	// AdmissionTarget is how long an accepted order should wait to become terminal: the
	// in-flight limit in force follows the rate at which orders settle times it, up to
	// MaxInFlight (app.AdaptInFlight). 0 means DefaultAdmissionTarget; less than 0 keeps the
	// limit at MaxInFlight.
	AdmissionTarget time.Duration
	// Deadline is how long after its creation an order still in flight expires
	// (domain.DefaultDeadline when zero).
	Deadline time.Duration
	// deadlineErr is why ORDER_DEADLINE could not be read; Run reports it.
	deadlineErr error
	// targetErr is why ORDER_ADMISSION_TARGET could not be read; Run reports it.
	targetErr error
}

// DefaultMaxInFlight bounds the in-flight limit unless ORDER_MAX_IN_FLIGHT says otherwise. The
// limit in force follows the rate at which orders settle (DefaultAdmissionTarget); this bound
// only keeps a burst of fast settles from opening the gate wide: at the goal of 5,000
// orders/s the target allows 2,000.
//
// Before the target, this fixed limit was the only one, and it had to be retuned for each
// machine and each faster saga: 400, then 650, tuned to keep the p99 of accepted orders under
// 1 s with twice the sustainable rate offered on the reference machine (README, Speed). On a
// slower day of the same machine 650 let that p99 reach 0.9-1.5 s (sagabench, Dec 2026).
const DefaultMaxInFlight = 2000

// DefaultAdmissionTarget is how long an accepted order should wait to become terminal, unless
// ORDER_ADMISSION_TARGET says otherwise. The p99 of place -> terminal under overload comes out
// at about 1.6 times it. Measured with sagabench -orders 20000 -flash-orders 0 -calm 0
// -overload 2 -overload-duration 20s (twice the closed loop's rate offered for 20 s), in two
// sittings of alternating runs on one slow day of the 2-core machine (6 Dec 2026), against the
// fixed limit of 650 it replaces: 400 ms kept that p99 at 610-720 ms where 650 gave 921-1,163
// ms, and the closed loop settled as many orders a second (medians 1,321 and 1,333/s); 500 ms
// gave 771-857 ms and 600 ms 939-1,147 ms, with no more orders settled.
const DefaultAdmissionTarget = 400 * time.Millisecond

// AdmissionFloor is the least the in-flight limit in force falls to. It admits a burst from a
// standstill, before the rate it follows has caught up: an order alone settles in ~6 ms in the
// sandbox and ~18 ms on the stack, so 100 in flight take thousands of orders a second there.
// On the stack, which settles ~100 orders/s, the floor rather than the target bounds the wait
// under overload, to about a second.
const AdmissionFloor = 100

// ConfigFromEnv reads HTTP_ADDR (default :8081), KAFKA_BROKERS, the KAFKA_TOPIC_* names and
// STOREFRONT_INVENTORY_URL (default http://localhost:8082), ORDER_MAX_IN_FLIGHT (default
// DefaultMaxInFlight; 0 or less switches the bound off), ORDER_ADMISSION_TARGET (a Go duration,
// default DefaultAdmissionTarget; 0 keeps the limit at ORDER_MAX_IN_FLIGHT, so both at 0 admit
// everything) and ORDER_DEADLINE (a Go duration, default 30s); the consumer group is
// "order-service".
func ConfigFromEnv() Config {
	limit, err := strconv.Atoi(config.String("ORDER_MAX_IN_FLIGHT", strconv.Itoa(DefaultMaxInFlight)))
	if err != nil {
		limit = DefaultMaxInFlight
	} else if limit <= 0 {
		limit = -1
	}
	deadline, deadlineErr := config.Duration("ORDER_DEADLINE", domain.DefaultDeadline)
	target, targetErr := admissionTarget()
	return Config{
		Service:         config.ServiceFromEnv(Name, ":8081"),
		InventoryURL:    config.String("STOREFRONT_INVENTORY_URL", "http://localhost:8082"),
		MaxInFlight:     limit,
		Deadline:        deadline,
		deadlineErr:     deadlineErr,
		AdmissionTarget: target,
		targetErr:       targetErr,
	}
}

// admissionTarget reads ORDER_ADMISSION_TARGET: a positive duration, or 0, which switches the
// limit that follows the settle rate off (-1).
func admissionTarget() (time.Duration, error) {
	if d, err := time.ParseDuration(os.Getenv("ORDER_ADMISSION_TARGET")); err == nil && d == 0 {
		return -1, nil
	}
	return config.Duration("ORDER_ADMISSION_TARGET", DefaultAdmissionTarget)
}

// Run runs order-service over repo until ctx is cancelled (then it returns nil once everything
// has stopped) or a part of it fails (then it stops the rest and returns the error).
func Run(ctx context.Context, cfg Config, repo app.Repository, log *slog.Logger, opts ...bootstrap.Option) error {
	switch {
	case cfg.deadlineErr != nil:
		return cfg.deadlineErr
	case cfg.targetErr != nil:
		return cfg.targetErr
	case cfg.Deadline < 0:
		return fmt.Errorf("order deadline %s is negative", cfg.Deadline)
	case cfg.Deadline == 0:
		cfg.Deadline = domain.DefaultDeadline
	}
	maxInFlight := cfg.MaxInFlight
	if maxInFlight == 0 {
		maxInFlight = DefaultMaxInFlight
	}
	target := cfg.AdmissionTarget
	switch {
	case target == 0:
		target = DefaultAdmissionTarget
	case target < 0:
		target = 0 // the limit stays at maxInFlight
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
			orders.AdaptInFlight(target, AdmissionFloor)
			orders.SettleShare(p.Share)
			p.Log.Info("order admission", "maxInFlight", orders.InFlightLimit(), "target", target, "inFlight", orders.InFlight())
			orders.PublishStatusTo(p.Config.Topics.OrderStatus)
			saga := newSagaMetrics(p.Metrics)
			orders.Observe(saga)
			registerInFlight(p.Metrics, func() float64 { return float64(orders.InFlight()) }, func() float64 { return float64(orders.InFlightLimitInForce()) }, orders.InFlightCorrections)
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
					// Replicas each settle other replicas' orders: their own counts drift.
					"in-flight recount": orders.RecountEvery(app.InFlightRecount, p.Log),
					"idempotency key purge": func(ctx context.Context) error {
						return purge.Loop(ctx, p.Log, "idempotency keys", p.Config.Retention(), repo.PurgeIdempotencyKeys)
					},
				},
			}, nil
		},
	}, opts...)
}
