package stack

import (
	"os"
	"path/filepath"
	"strings"
)

// Addrs are the listen addresses of the programs.
type Addrs struct {
	Order, Inventory, Payment, Gateway string
	// Notification is notification-service's HTTP address; SMTP and Mail are the SMTP sink's
	// SMTP and HTTP addresses. Left empty, neither runs.
	Notification, SMTP, Mail string
}

// DefaultAddrs are the contract's ports, on loopback.
var DefaultAddrs = Addrs{Order: "127.0.0.1:8081", Inventory: "127.0.0.1:8082", Payment: "127.0.0.1:8083", Gateway: "127.0.0.1:8084",
	Notification: "127.0.0.1:8085", SMTP: "127.0.0.1:1025", Mail: "127.0.0.1:8025"}

// Services describes the three services and the payment gateway simulator, built into binDir,
// listening on addrs. Broker and store settings (KAFKA_BROKERS, MYSQL_DSN, DYNAMODB_ENDPOINT, ...)
// come from the environment, plus env.
func Services(binDir string, addrs Addrs, env ...string) []Process {
	proc := func(name, addr string, extra ...string) Process {
		extra = append(extra, KafkaLogin(name, env)...)
		return Process{
			Name: name,
			Path: filepath.Join(binDir, name),
			Env:  append(append([]string{"HTTP_ADDR=" + addr}, env...), extra...),
		}
	}
	procs := []Process{
		proc("payment-gateway", addrs.Gateway),
		proc("order-service", addrs.Order, "STOREFRONT_INVENTORY_URL=http://"+addrs.Inventory),
		proc("inventory-service", addrs.Inventory),
		proc("payment-service", addrs.Payment, "PAYMENT_GATEWAY_URL=http://"+addrs.Gateway),
	}
	if addrs.Notification != "" && addrs.SMTP != "" && addrs.Mail != "" {
		// The sink stands where compose runs Mailpit. NOTIFICATION_DB_PATH (default
		// .data/notification/notifications.db) keeps what was sent across restarts; env may
		// override it, since later settings win.
		procs = append(procs,
			proc("smtp-sink", addrs.Mail, "SMTP_ADDR="+addrs.SMTP),
			Process{Name: "notification-service", Path: filepath.Join(binDir, "notification-service"), Env: append([]string{
				"HTTP_ADDR=" + addrs.Notification, "SMTP_ADDR=" + addrs.SMTP, "MAILBOX_URL=http://" + addrs.Mail,
				"NOTIFICATION_DB_PATH=" + filepath.Join(".data", "notification", "notifications.db"),
			}, append(env, KafkaLogin("notification-service", env)...)...)},
		)
	}
	return procs
}

// Binaries lists the main packages Services runs, relative to the repository root, by binary name.
var Binaries = map[string]string{
	"order-service":        "./order-service/cmd/order-service",
	"inventory-service":    "./inventory-service/cmd/inventory-service",
	"payment-service":      "./payment-service/cmd/payment-service",
	"payment-gateway":      "./payment-service/cmd/payment-gateway",
	"notification-service": "./notification-service/cmd/notification-service",
	"smtp-sink":            "./notification-service/cmd/smtp-sink",
}

// KafkaLogin is service name's KAFKA_SASL_USERNAME (its name) and KAFKA_SASL_PASSWORD, taken
// from KAFKA_PASSWORD_<NAME> (KAFKA_PASSWORD_ORDER_SERVICE, ...) in env or else the
// supervisor's environment, so that on an authenticated Kafka each service logs in as itself
// (docs/kafka-auth.md). Without such a password it is empty, and the program inherits
// whatever KAFKA_SASL_* the environment holds. A program that does not use Kafka gets nothing.
func KafkaLogin(name string, env []string) []string {
	key := "KAFKA_PASSWORD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	password := os.Getenv(key)
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			password = v
		}
	}
	if password == "" {
		return nil
	}
	return []string{"KAFKA_SASL_USERNAME=" + name, "KAFKA_SASL_PASSWORD=" + password}
}
