// Command payment-service charges orders whose items are reserved and reports the outcome.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edmshop/edm-shop/payment-service/service"
)

func main() {
	base := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	log := base.With("service", service.Name)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := service.Run(ctx, service.ConfigFromEnv(), base); err != nil {
		log.Error("payment-service stopped", "error", err)
		os.Exit(1)
	}
}
