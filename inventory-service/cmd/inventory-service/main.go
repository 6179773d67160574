// Command inventory-service reserves stock for the EDM Shop saga, over MySQL and Kafka.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/service"
	"github.com/edmshop/edm-shop/platform/config"
)

const defaultDSN = "inventory:inventory@tcp(127.0.0.1:3306)/inventory?parseTime=true"

func main() {
	base := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	log := base.With("service", service.Name)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, base, log); err != nil {
		log.Error("inventory-service stopped", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, base, log *slog.Logger) error {
	dsn := config.String("MYSQL_DSN", defaultDSN)
	// MySQL may still be starting: keep trying for a minute before giving up.
	deadline := time.Now().Add(time.Minute)
	repo, err := adapters.NewMySQLRepository(ctx, dsn)
	for wait := time.Second; err != nil; wait = min(2*wait, 10*time.Second) {
		if time.Now().Add(wait).After(deadline) {
			return err
		}
		log.Warn("mysql not ready, retrying", "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		repo, err = adapters.NewMySQLRepository(ctx, dsn)
	}
	defer repo.Close()
	return service.Run(ctx, service.ConfigFromEnv(), repo, base)
}
