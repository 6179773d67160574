// Command sandbox runs all of EDM Shop in one process (`make run`): Kafka on 127.0.0.1:9092,
// order-service :8081, inventory-service :8082, payment-service :8083, payment gateway :8084,
// notification-service :8085 and the SMTP sink (SMTP :1025, e-mails on :8025/messages).
// Ctrl-C stops it. Set SANDBOX_DATA_DIR to keep the broker's log and the stores across runs.
// The operator API of inventory-service takes ADMIN_TOKEN as its bearer token, or
// "sandbox-admin" when that is unset; the banner prints it. ORDER_ADMISSION_TARGET and
// ORDER_MAX_IN_FLIGHT set order-service's admission as they do for order-service.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	order "github.com/edmshop/edm-shop/order-service/service"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := sandbox.DefaultConfig()
	cfg.DataDir = config.String("SANDBOX_DATA_DIR", "")
	cfg.Log = log
	cfg.AdminToken = config.String("ADMIN_TOKEN", "sandbox-admin")
	orderCfg := order.ConfigFromEnv()
	cfg.MaxInFlight = orderCfg.MaxInFlight                // ORDER_MAX_IN_FLIGHT
	cfg.AdmissionTarget = orderCfg.AdmissionTarget        // ORDER_ADMISSION_TARGET
	deadline, err := config.Duration("ORDER_DEADLINE", 0) // 0: order-service's default
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	cfg.OrderDeadline = deadline
	sb, err := sandbox.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
	fmt.Printf(`EDM Shop sandbox is up.
  kafka              %s   (kcat -C -b %s -t inventory -o beginning -f '%%k %%h %%s\n')
  order-service      %s   (POST /orders, GET /orders/{transactionId})
  inventory-service  %s   (GET /products; operator API: Authorization: Bearer %s)
  payment-service    %s
  payment gateway    %s   (POST /v1/charges)
  notification-svc   %s   (GET /notifications/{transactionId})
  e-mails            %s/messages   (the SMTP sink on %s)
Every service and the gateway serve GET /metrics (Prometheus).
Ctrl-C stops everything.
`, sb.Brokers, sb.Brokers, sb.OrderURL, sb.InventoryURL, cfg.AdminToken, sb.PaymentURL, sb.GatewayURL, sb.NotificationURL, sb.MailURL, sb.SMTPAddr)
	<-ctx.Done()
	fmt.Println("stopping...")
	sb.Stop()
	if err := sb.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}
