// Package service wires inventory-service together on the platform's bootstrap: topics,
// producer, outbox relay, consumer, HTTP server, metrics and tracing. The sandbox runs it
// in-process with a SQLite repository; cmd/inventory-service runs it with MySQL.
package service

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/edmshop/edm-shop/inventory-service/app"
	"github.com/edmshop/edm-shop/inventory-service/ports"
	"github.com/edmshop/edm-shop/platform/bootstrap"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/lifecycle"
	"github.com/edmshop/edm-shop/platform/purge"
)

// Name is the service's name and its consumer group.
const Name = "inventory-service"

// Config is what Run needs besides the repository.
type Config struct {
	config.Service
	// AdminToken is the bearer token of the operator API; empty switches that API off.
	AdminToken string
}

// ConfigFromEnv reads HTTP_ADDR (default :8082), KAFKA_BROKERS, KAFKA_TOPIC_* and ADMIN_TOKEN;
// the consumer group is "inventory-service".
func ConfigFromEnv() Config {
	return Config{Service: config.ServiceFromEnv(Name, ":8082"), AdminToken: config.String("ADMIN_TOKEN", "")}
}

// Run runs the outbox relay, the inventory-topic consumer and the HTTP server until ctx is
// cancelled (it returns nil) or one of them fails (it stops the others and returns that error).
// It does not close repo.
func Run(ctx context.Context, cfg Config, repo app.Repository, log *slog.Logger, opts ...bootstrap.Option) error {
	return bootstrap.Run(ctx, bootstrap.Service{
		Name:     Name,
		Config:   cfg.Service,
		Consumes: func(t config.Topics) string { return t.Inventory },
		Outbox:   repo,
		Log:      log,
		Build: func(p *bootstrap.Platform) (bootstrap.Parts, error) {
			application := app.New(repo, p.Config.Topics, p.Notify)
			return bootstrap.Parts{
				Handlers: ports.EventHandlers(application),
				Routes: func(r gin.IRouter) {
					ports.RegisterHTTP(r, application)
					ports.RegisterAdminHTTP(r, application, cfg.AdminToken)
				},
				Checks: map[string]httpx.Check{"store": repo.Ping},
				Extra: map[string]lifecycle.Part{"dedup purge": func(ctx context.Context) error {
					return purge.Loop(ctx, p.Log, "processed events", p.Config.Retention(), repo.PurgeProcessed)
				}},
			}, nil
		},
	}, opts...)
}
