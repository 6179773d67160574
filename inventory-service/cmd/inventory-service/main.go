// Command inventory-service reserves stock for the EDM Shop saga, over MySQL and Kafka.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/service"
	"github.com/edmshop/edm-shop/platform/config"
)

// defaultDSN holds no password: MYSQL_PASSWORD supplies it (compose's .env, a Kubernetes
// Secret); `scripts/infra.sh env` sets a whole MYSQL_DSN for the local sandbox servers.
const defaultDSN = "inventory@tcp(127.0.0.1:3306)/inventory?parseTime=true"

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
	dsn, err := mysqlDSN(config.String("MYSQL_DSN", defaultDSN), os.Getenv("MYSQL_PASSWORD"))
	if err != nil {
		return err
	}
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

// mysqlDSN is dsn with password filled in when dsn carries none, so the DSN (a ConfigMap, compose
// settings) and the password (a Secret, .env) can come from different places.
func mysqlDSN(dsn, password string) (string, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("MYSQL_DSN: %w", err)
	}
	if cfg.Passwd == "" {
		cfg.Passwd = password
	}
	return cfg.FormatDSN(), nil
}
