package e2e

import (
	"testing"

	inventory "github.com/edmshop/edm-shop/inventory-service/service"
	notification "github.com/edmshop/edm-shop/notification-service/service"
	orderadapters "github.com/edmshop/edm-shop/order-service/adapters"
	orderservice "github.com/edmshop/edm-shop/order-service/service"
	payment "github.com/edmshop/edm-shop/payment-service/service"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// TestComposeEnvironmentIsWhatTheServicesRead sets every variable compose gives a service to a
// marked value and checks that the service's own configuration reader picks each one up: a
// variable renamed on one side only fails here instead of silently falling back to a default.
func TestComposeEnvironmentIsWhatTheServicesRead(t *testing.T) {
	readers, readElsewhere := serviceEnvReaders(), envReadElsewhere
	p := loadCompose(t)
	for name, read := range readers {
		t.Run(name, func(t *testing.T) {
			set := map[string]string{}
			for k, v := range service(t, p, name).Environment {
				if v != nil {
					set[k] = *v
				}
			}
			checkEnvRead(t, name, set, read, readElsewhere)
		})
	}
}

// serviceEnvReaders returns, for each Go service, a func that reads its configuration the way
// its main does and reports the value it took for each environment variable.
func serviceEnvReaders() map[string]func() map[string]string {
	common := func(addr, brokers string, topics config.Topics) map[string]string {
		m := map[string]string{
			"HTTP_ADDR": addr, "KAFKA_BROKERS": brokers,
			"KAFKA_TOPIC_INVENTORY": topics.Inventory, "KAFKA_TOPIC_PAYMENT": topics.Payment, "KAFKA_TOPIC_ORDER": topics.Order,
			"KAFKA_TOPIC_ORDER_STATUS": topics.OrderStatus,
		}
		// Every service logs in to Kafka through platform/kafka's one reader. Logging in is
		// optional (an open broker needs none), so only what is set counts as read.
		sec := kafka.SecurityFromEnv()
		for k, v := range map[string]string{"KAFKA_SECURITY_PROTOCOL": sec.Protocol, "KAFKA_SASL_MECHANISM": sec.Mechanism,
			"KAFKA_SASL_USERNAME": sec.Username, "KAFKA_SASL_PASSWORD": sec.Password} {
			if v != "" {
				m[k] = v
			}
		}
		return m
	}
	return map[string]func() map[string]string{
		"order-service": func() map[string]string {
			c, d := orderservice.ConfigFromEnv(), orderadapters.DynamoDBConfigFromEnv()
			m := common(c.HTTPAddr, c.Brokers, c.Topics)
			m["DYNAMODB_ENDPOINT"], m["AWS_REGION"] = d.Endpoint, d.Region
			m["ORDERS_TABLE"], m["IDEMPOTENCY_TABLE"], m["OUTBOX_TABLE"] = d.OrdersTable, d.IdempotencyTable, d.OutboxTable
			return m
		},
		"inventory-service": func() map[string]string {
			c := inventory.ConfigFromEnv()
			m := common(c.HTTPAddr, c.Brokers, c.Topics)
			m["ADMIN_TOKEN"] = c.AdminToken
			return m
		},
		"payment-service": func() map[string]string {
			c := payment.ConfigFromEnv()
			m := common(c.HTTPAddr, c.Brokers, c.Topics)
			m["PAYMENT_GATEWAY_URL"] = c.GatewayURL
			return m
		},
		"notification-service": func() map[string]string {
			c := notification.ConfigFromEnv()
			m := common(c.HTTPAddr, c.Brokers, c.Topics)
			m["SMTP_ADDR"], m["MAILBOX_URL"], m["NOTIFICATION_DB_PATH"] = c.SMTPAddr, c.MailboxURL, c.DBPath
			m["MAIL_FROM"], m["MAIL_RECIPIENT_DOMAIN"] = c.App.From, c.App.RecipientDomain
			return m
		},
	}
}

// envReadElsewhere are variables read outside the services' configuration readers: by the AWS
// SDK's default chain, inventory-service's main, and the OpenTelemetry SDK.
var envReadElsewhere = map[string]bool{"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "MYSQL_DSN": true, "MYSQL_PASSWORD": true,
	"OTEL_EXPORTER_OTLP_ENDPOINT": true, "OTEL_SERVICE_NAME": true}

// checkEnvRead sets each variable of env to a marked value and checks that read picks every one
// up (but those of readElsewhere) and reads nothing that set leaves out: a variable renamed on
// one side only fails here instead of silently falling back to a default.
func checkEnvRead(t *testing.T, name string, env map[string]string, read func() map[string]string, readElsewhere map[string]bool) {
	t.Helper()
	const mark = "~probe"
	set := map[string]string{}
	for k, v := range env {
		t.Setenv(k, v+mark)
		set[k] = v + mark
	}
	got := read()
	for k, want := range set {
		if readElsewhere[k] {
			continue
		}
		v, reads := got[k]
		switch {
		case !reads:
			t.Errorf("%s is set, but %s does not read it", k, name)
		case v != want:
			t.Errorf("%s is set to %q but %s read %q", k, want, name, v)
		}
	}
	for k := range got {
		if _, ok := set[k]; !ok {
			t.Errorf("%s reads %s, which is not set", name, k)
		}
	}
}
