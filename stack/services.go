package stack

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
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
	return Replicas(binDir, addrs, 1, env...)
}

// ReplicaPortStep is how far apart the HTTP ports of a service's replicas are: replica n (from
// 1) of a service whose address has port P listens on P + ReplicaPortStep·(n−1), so with the
// default addresses order-service's replicas are on 8081, 8091, 8101, ... and inventory-service's
// on 8082, 8092, ...
const ReplicaPortStep = 10

// ReplicaAddr is the address of replica n (from 1) of a service whose first replica listens on
// addr (see ReplicaPortStep).
func ReplicaAddr(addr string, n int) string {
	if n <= 1 {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	p, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		panic(fmt.Sprintf("stack: address %q has no numeric port", addr))
	}
	return net.JoinHostPort(host, strconv.Itoa(p+ReplicaPortStep*(n-1)))
}

// ReplicaName names replica n (from 1) of a service: the service's name when it runs alone,
// else name-n, which the Supervisor's Kill takes.
func ReplicaName(name string, n, replicas int) string {
	if replicas <= 1 {
		return name
	}
	return name + "-" + strconv.Itoa(n)
}

// Replicas is Services with replicas processes of each service (order, inventory, payment and
// notification); the payment gateway simulator and the SMTP sink run once, since they stand
// for third parties. Replica n listens on ReplicaAddr(addr, n) and is named ReplicaName. The
// replicas of a service share its consumer group and store, as replicas of a Deployment do.
func Replicas(binDir string, addrs Addrs, replicas int, env ...string) []Process {
	replicas = max(replicas, 1)
	proc := func(name, addr string, extra ...string) Process {
		extra = append(extra, KafkaLogin(name, env)...)
		return Process{
			Name: name,
			Path: filepath.Join(binDir, name),
			Env:  append(append([]string{"HTTP_ADDR=" + addr}, env...), extra...),
		}
	}
	procs := []Process{proc("payment-gateway", addrs.Gateway)}
	for n := 1; n <= replicas; n++ {
		// Replica n of order-service asks replica n of inventory-service for the catalogue:
		// any replica answers the same.
		for _, p := range []Process{
			proc("order-service", ReplicaAddr(addrs.Order, n), "STOREFRONT_INVENTORY_URL=http://"+ReplicaAddr(addrs.Inventory, n)),
			proc("inventory-service", ReplicaAddr(addrs.Inventory, n)),
			proc("payment-service", ReplicaAddr(addrs.Payment, n), "PAYMENT_GATEWAY_URL=http://"+addrs.Gateway),
		} {
			p.Name = ReplicaName(p.Name, n, replicas)
			procs = append(procs, p)
		}
	}
	if addrs.Notification != "" && addrs.SMTP != "" && addrs.Mail != "" {
		// The sink stands where compose runs Mailpit. NOTIFICATION_DB_PATH (default
		// .data/notification/notifications.db) keeps what was sent across restarts; env may
		// override it, since later settings win. Replicas share the file: SQLite locks it
		// across processes, and the dedup must hold whichever replica owns a partition.
		procs = append(procs, proc("smtp-sink", addrs.Mail, "SMTP_ADDR="+addrs.SMTP))
		for n := 1; n <= replicas; n++ {
			procs = append(procs, Process{Name: ReplicaName("notification-service", n, replicas), Path: filepath.Join(binDir, "notification-service"), Env: append([]string{
				"HTTP_ADDR=" + ReplicaAddr(addrs.Notification, n), "SMTP_ADDR=" + addrs.SMTP, "MAILBOX_URL=http://" + addrs.Mail,
				"NOTIFICATION_DB_PATH=" + filepath.Join(".data", "notification", "notifications.db"),
			}, append(env, KafkaLogin("notification-service", env)...)...)})
		}
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
