// Command smtp-sink runs the SMTP sink (smtpsink): SMTP on SMTP_ADDR (default :1025), the
// message list on HTTP_ADDR (default :8025). make stack runs it where compose runs Mailpit.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/edmshop/edm-shop/notification-service/smtpsink"
	"github.com/edmshop/edm-shop/platform/config"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("service", "smtp-sink")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := smtpsink.New(log).Run(ctx, config.String("SMTP_ADDR", ":1025"), config.String("HTTP_ADDR", ":8025")); err != nil {
		log.Error("smtp-sink stopped", "error", err)
		os.Exit(1)
	}
}
