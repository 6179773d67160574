// Command notification-service e-mails each order's customer once when the order completes or
// is cancelled; see service.ConfigFromEnv and telemetry.New (OTEL_*) for its environment.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edmshop/edm-shop/notification-service/service"
)

func main() {
	base := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := service.Run(ctx, service.ConfigFromEnv(), service.Parts{}, base); err != nil {
		base.Error("notification-service stopped", "service", service.Name, "error", err)
		os.Exit(1)
	}
}
