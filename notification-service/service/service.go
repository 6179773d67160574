// Package service wires notification-service together on the platform's bootstrap: it consumes
// the order-status topic in its own consumer group and e-mails each order's customer once.
// Nothing in the saga's services knows it exists.
package service

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edmshop/edm-shop/notification-service/adapters"
	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/notification-service/ports"
	"github.com/edmshop/edm-shop/platform/bootstrap"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/httpx"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// Name is the service's name and its consumer group.
const Name = "notification-service"

// Defaults of the settings.
const (
	DefaultHTTPAddr        = ":8085"
	DefaultSMTPAddr        = "127.0.0.1:1025"
	DefaultFrom            = "EDM Shop <orders@edm-shop.test>"
	DefaultRecipientDomain = "customers.edm-shop.test"
	DefaultDBPath          = ".data/notification/notifications.db" // .data is gitignored
)

// Config is what notification-service needs besides its store and mailer.
type Config struct {
	config.Service
	App app.Config
	// SMTPAddr is the SMTP server's host:port.
	SMTPAddr string
	// MailboxURL, when set, is a Mailpit-compatible API asked whether an e-mail whose sending
	// was interrupted got through (see app.Mailbox); empty means such an e-mail is sent again.
	MailboxURL string
	// DBPath is the SQLite file that records each order's e-mail.
	DBPath string
}

// ConfigFromEnv reads HTTP_ADDR (default :8085), KAFKA_BROKERS, the KAFKA_TOPIC_* names,
// SMTP_ADDR (127.0.0.1:1025), MAIL_FROM, MAIL_RECIPIENT_DOMAIN, MAILBOX_URL (none) and
// NOTIFICATION_DB_PATH (.data/notification/notifications.db); the consumer group is "notification-service".
func ConfigFromEnv() Config {
	return Config{
		Service: config.ServiceFromEnv(Name, DefaultHTTPAddr),
		App: app.Config{
			From:            config.String("MAIL_FROM", DefaultFrom),
			RecipientDomain: config.String("MAIL_RECIPIENT_DOMAIN", DefaultRecipientDomain),
		},
		SMTPAddr:   config.String("SMTP_ADDR", DefaultSMTPAddr),
		MailboxURL: config.String("MAILBOX_URL", ""),
		DBPath:     config.String("NOTIFICATION_DB_PATH", DefaultDBPath),
	}
}

// Parts are the adapters Run uses; nil fields get the production ones from Config. Tests and
// the sandbox pass their own (a mailer that dies after sending, say).
type Parts struct {
	Store   app.Store
	Mailer  app.Mailer
	Mailbox app.Mailbox
	// Wrap, when set, wraps the store and mailer Run ends up with (the sandbox's crash tests
	// stop the service between sending and recording).
	Wrap func(app.Store, app.Mailer) (app.Store, app.Mailer)
}

// Lanes is how many order-status events of one partition notification-service handles at once,
// four times kafka.DefaultLanes, as payment-service does: each waits on an SMTP server's round
// trips besides its store, and with the default 96 at once the e-mails fell behind the orders
// (see adapters.DefaultSMTPSessions for the numbers).
const Lanes = 4 * kafka.DefaultLanes

// Run consumes order-status and serves HTTP until ctx is cancelled (then it returns nil once
// everything stopped) or a part fails. It opens cfg.DBPath unless parts has a store.
func Run(ctx context.Context, cfg Config, parts Parts, log *slog.Logger, opts ...bootstrap.Option) error {
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = DefaultHTTPAddr
	}
	if cfg.App.From == "" {
		cfg.App.From = DefaultFrom
	}
	if cfg.App.RecipientDomain == "" {
		cfg.App.RecipientDomain = DefaultRecipientDomain
	}
	if parts.Store == nil {
		path := cfg.DBPath
		if path == "" {
			path = DefaultDBPath
		}
		store, err := adapters.NewSQLiteStore(path)
		if err != nil {
			return err
		}
		defer store.Close()
		parts.Store = store
	}
	if parts.Mailer == nil {
		addr := cfg.SMTPAddr
		if addr == "" {
			addr = DefaultSMTPAddr
		}
		mailer := adapters.NewSMTPMailer(addr)
		defer mailer.Close()
		parts.Mailer = mailer
	}
	if parts.Mailbox == nil && cfg.MailboxURL != "" {
		parts.Mailbox = adapters.NewMailpitMailbox(cfg.MailboxURL)
	}
	if parts.Wrap != nil {
		parts.Store, parts.Mailer = parts.Wrap(parts.Store, parts.Mailer)
	}
	return bootstrap.Run(ctx, bootstrap.Service{
		Name:     Name,
		Config:   cfg.Service,
		Consumes: func(t config.Topics) string { return t.OrderStatus },
		Lanes:    Lanes,
		Log:      log,
		Build: func(p *bootstrap.Platform) (bootstrap.Parts, error) {
			a := app.New(cfg.App, parts.Store, parts.Mailer, parts.Mailbox, p.Log)
			emails := prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "notification_emails_total",
				Help: "Order-status events handled, by outcome: sent, resent (an unfinished attempt sent again), recovered (an unfinished attempt found delivered), duplicate, undeliverable.",
			}, []string{"outcome"})
			if err := p.Metrics.Register(emails); err != nil {
				return bootstrap.Parts{}, err
			}
			a.Observe(func(o app.Outcome) { emails.WithLabelValues(string(o)).Inc() })
			return bootstrap.Parts{
				Handlers: ports.EventHandlers(a),
				Routes:   func(r gin.IRouter) { ports.RegisterHTTP(r, a, p.Log) },
				Checks:   map[string]httpx.Check{"store": parts.Store.Ping},
			}, nil
		},
	}, opts...)
}
