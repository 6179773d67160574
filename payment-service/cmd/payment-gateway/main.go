// Command payment-gateway runs the payment gateway simulator, a fake Stripe-like charges API
// (HTTP_ADDR, default :8084). Its ledger is journaled to GATEWAY_LEDGER_PATH when set, so a
// restarted gateway still charges each key once; unset, it keeps everything in memory.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edmshop/edm-shop/payment-service/gateway"
	"github.com/edmshop/edm-shop/platform/config"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("service", "payment-gateway")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := gateway.Run(ctx, config.String("HTTP_ADDR", ":8084"), config.String("GATEWAY_LEDGER_PATH", ""), log); err != nil {
		log.Error("payment-gateway stopped", "error", err)
		os.Exit(1)
	}
}
