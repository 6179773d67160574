package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/google/uuid"

	inventoryadapters "github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/nettest"
	"github.com/edmshop/edm-shop/stack"
)

// The four service principals of kafka/create-acls.sh.
var kafkaPrincipals = []string{"order-service", "inventory-service", "payment-service", "notification-service"}

// TestKafkaAuth starts a private Apache Kafka with SASL/SCRAM-SHA-512 and ACLs on free ports
// (the configuration and provisioning of scripts/kafka-auth.sh, as `KAFKA_AUTH=1
// scripts/infra.sh up` uses them) and checks that the unauthenticated and the unauthorized are
// refused, then runs the saga on it with every service logged in as itself. It needs the Kafka
// jars (KAFKA_LIBS, else .data/tools/kafka/libs, which scripts/infra.sh up fetches); the saga
// also needs MariaDB and DynamoDB Local (`eval "$(scripts/infra.sh env)"`).
func TestKafkaAuth(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	libs := kafkaLibsDir(t, root)

	passwords := map[string]string{"admin": secret(t)}
	env := []string{"KAFKA_LIBS=" + libs, "KAFKA_ADMIN_PASSWORD=" + passwords["admin"]}
	for _, p := range kafkaPrincipals {
		passwords[p] = secret(t)
		env = append(env, kafkaPasswordVar(p)+"="+passwords[p])
	}
	dir := t.TempDir()
	port, controllerPort := freePort(t), freePort(t)
	script := func(args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "scripts", "kafka-auth.sh"), args...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kafka-auth.sh %s: %v\n%s", args[0], err, out)
		}
	}
	script("configure", dir, port, controllerPort)
	broker := exec.Command("java", "-Xms256m", "-Xmx512m", "-XX:+UseG1GC",
		"-Dlog4j2.configurationFile="+filepath.Join(root, "infra", "kafka", "log4j2.properties"),
		"-Dkafka.logs.dir="+dir, "-cp", filepath.Join(libs, "*"), "kafka.Kafka", filepath.Join(dir, "server.properties"))
	out, err := os.Create(filepath.Join(dir, "kafka.out.log"))
	if err != nil {
		t.Fatal(err)
	}
	broker.Stdout, broker.Stderr = out, out
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		broker.Process.Kill()
		broker.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Logf("end of the private broker's log:\n%s", tail(string(log), 40))
		}
	})
	brokers := "127.0.0.1:" + port
	eventually(t, 3*time.Minute, "the private broker's port", func() bool {
		c, err := net.Dial("tcp", brokers)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	// Topics, credentials and ACLs, as admin; TopicCommand waits for the broker to be up.
	script("provision", dir, brokers)

	login := func(user string) kafka.Security {
		return kafka.Security{Protocol: "SASL_PLAINTEXT", Mechanism: "SCRAM-SHA-512", Username: user, Password: passwords[user]}
	}
	t.Run("an unauthenticated producer is refused", func(t *testing.T) {
		if err := produceOnce(brokers, kafka.Security{}, "inventory"); err == nil {
			t.Fatal("a producer without credentials wrote to inventory")
		}
	})
	t.Run("a wrong password is refused", func(t *testing.T) {
		s := login("order-service")
		s.Password += "x"
		if err := produceOnce(brokers, s, "inventory"); err == nil {
			t.Fatal("order-service with a wrong password wrote to inventory")
		}
	})
	t.Run("a principal may write only where it publishes", func(t *testing.T) {
		cases := []struct {
			user, topic string
			allowed     bool
		}{
			{"order-service", "inventory", true},
			{"order-service", "order.dlt", true},
			{"order-service", "payment", true}, // ORDER_EXPIRED
			{"order-service", "order-status", true},
			{"order-service", "order", false},
			{"inventory-service", "payment", true},
			{"inventory-service", "inventory", false},
			{"payment-service", "order", true},
			{"payment-service", "payment", false},
			{"payment-service", "order-status", false},
			{"notification-service", "order-status.dlt", true},
			{"notification-service", "order", false},
		}
		for _, c := range cases {
			err := produceOnce(brokers, login(c.user), c.topic)
			var kerr ckafka.Error
			switch {
			case c.allowed && err != nil:
				t.Errorf("%s writing to %s: %v, want it allowed", c.user, c.topic, err)
			case !c.allowed && !(errors.As(err, &kerr) && kerr.Code() == ckafka.ErrTopicAuthorizationFailed):
				t.Errorf("%s writing to %s: %v, want %v", c.user, c.topic, err, ckafka.ErrTopicAuthorizationFailed)
			}
		}
	})
	t.Run("a principal may read only its own topic in its own group", func(t *testing.T) {
		cases := []struct {
			user, topic, group string
			want               ckafka.ErrorCode
		}{
			{"payment-service", "order", "payment-service", ckafka.ErrTopicAuthorizationFailed},
			{"notification-service", "inventory", "notification-service", ckafka.ErrTopicAuthorizationFailed},
			{"order-service", "order", "payment-service", ckafka.ErrGroupAuthorizationFailed},
		}
		for _, c := range cases {
			if err := consumeRefusal(brokers, login(c.user), c.topic, c.group); err == nil || err.Code() != c.want {
				t.Errorf("%s reading %s in group %s: %v, want %v", c.user, c.topic, c.group, err, c.want)
			}
		}
	})
	t.Run("an event from the wrong producer goes to the dead-letter topic", func(t *testing.T) {
		forgedSourceDeadLettered(t, brokers, login("inventory-service"), login("admin"))
	})
	t.Run("the saga works with every service logged in as itself", func(t *testing.T) {
		sagaWithAuth(t, root, brokers, env)
	})
}

// sagaWithAuth runs the services as processes on the authenticated broker and checks that an
// order completes and a declined one is cancelled.
func sagaWithAuth(t *testing.T, root, brokers string, env []string) {
	for _, name := range []string{"MYSQL_ADMIN_DSN", "DYNAMODB_ENDPOINT"} {
		if os.Getenv(name) == "" {
			t.Skipf("%s is not set: run `eval \"$(scripts/infra.sh env)\"` to run the saga on the real stores", name)
		}
	}
	bin := builtBinaries(t, root)
	run := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	dsn := freshDatabase(t, "inventory_auth_"+run)
	addrs := stack.Addrs{Order: nettest.FreeAddr(t), Inventory: nettest.FreeAddr(t), Payment: nettest.FreeAddr(t), Gateway: nettest.FreeAddr(t),
		Notification: nettest.FreeAddr(t), SMTP: nettest.FreeAddr(t), Mail: nettest.FreeAddr(t)}
	logs, err := os.Create(filepath.Join(t.TempDir(), "services.log"))
	if err != nil {
		t.Fatal(err)
	}
	// Only passwords travel in env; stack.Services turns each into its service's login.
	sup := stack.Start(stack.Services(bin, addrs, append(env,
		"KAFKA_BROKERS="+brokers, "KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM=SCRAM-SHA-512",
		"MYSQL_DSN="+dsn, "NOTIFICATION_DB_PATH="+filepath.Join(t.TempDir(), "notifications.db"),
		"ORDERS_TABLE=orders-"+run, "IDEMPOTENCY_TABLE=order-idempotency-"+run, "OUTBOX_TABLE=order-outbox-"+run,
	)...), logs)
	t.Cleanup(func() {
		sup.Stop()
		if t.Failed() {
			out, _ := os.ReadFile(logs.Name())
			t.Logf("last service output:\n%s", tail(string(out), 60))
		}
	})
	repo, err := inventoryadapters.NewMySQLRepository(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	tg := &target{orderURL: "http://" + addrs.Order, inventoryURL: "http://" + addrs.Inventory, paymentURL: "http://" + addrs.Payment,
		gatewayURL: "http://" + addrs.Gateway, brokers: brokers}
	tg.waitReady(t, 2*time.Minute)
	sku := "AUTH-" + run
	if err := repo.UpsertProduct(context.Background(), domain.Product{SKU: sku, Name: sku, Price: 250, Currency: "EUR", Available: 10}); err != nil {
		t.Fatal(err)
	}
	paid := tg.placeOrder(t, orderRequest{CustomerID: "auth-1", Items: []item{{sku, 2}}, PaymentMethod: "pm_card_visa"})
	declined := tg.placeOrder(t, orderRequest{CustomerID: "auth-2", Items: []item{{sku, 1}}, PaymentMethod: "pm_card_declined"})
	if o := tg.settled(t, paid); o.Status != "COMPLETED" {
		t.Errorf("paid order %s: %s %s, want COMPLETED", paid, o.Status, o.Reason)
	}
	if o := tg.settled(t, declined); o.Status != "CANCELLED" || o.Reason != "PAYMENT_DECLINED" {
		t.Errorf("declined order %s: %s %s, want CANCELLED PAYMENT_DECLINED", declined, o.Status, o.Reason)
	}
	eventually(t, time.Minute, "stock back to 8 after the release", func() bool { return tg.product(t, sku).Available == 8 })
}

// consumeRefusal subscribes to topic in group as the given client and returns the first error
// the broker answers with, or nil when none came within 15 s.
func consumeRefusal(brokers string, s kafka.Security, topic, group string) *ckafka.Error {
	cm := &ckafka.ConfigMap{"bootstrap.servers": brokers, "group.id": group, "auto.offset.reset": "earliest", "log_level": 0}
	s.Apply(cm)
	c, err := ckafka.NewConsumer(cm)
	if err != nil {
		return nil
	}
	defer c.Close()
	if err := c.Subscribe(topic, nil); err != nil {
		return nil
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if e, ok := c.Poll(200).(ckafka.Error); ok {
			return &e
		}
	}
	return nil
}

// forgedSourceDeadLettered runs order-service's consumer loop (the bootstrap's middleware, the
// real broker) against events inventory-service may write to order: a PAYMENT_COMPLETE that
// says it comes from inventory-service must land in order.dlt with the reason, as admin reads.
func forgedSourceDeadLettered(t *testing.T, brokers string, writer, admin kafka.Security) {
	forged, err := event.New(event.TypePaymentComplete, "/inventory-service", "forged-"+uuid.NewString(), map[string]string{"transactionId": "x"})
	if err != nil {
		t.Fatal(err)
	}
	cm := &ckafka.ConfigMap{"bootstrap.servers": brokers, "enable.idempotence": true, "acks": "all", "log_level": 0}
	writer.Apply(cm)
	p, err := ckafka.NewProducer(cm)
	if err != nil {
		t.Fatal(err)
	}
	topic := "order"
	reports := make(chan ckafka.Event, 1)
	if err := p.Produce(&ckafka.Message{TopicPartition: ckafka.TopicPartition{Topic: &topic, Partition: ckafka.PartitionAny},
		Key: []byte(forged.Key), Value: forged.Data, Headers: []ckafka.Header{
			{Key: "ce_specversion", Value: []byte("1.0")}, {Key: "ce_id", Value: []byte(forged.ID)},
			{Key: "ce_type", Value: []byte(forged.Type)}, {Key: "ce_source", Value: []byte(forged.Source)},
			{Key: "content-type", Value: []byte("application/json")}}}, reports); err != nil {
		t.Fatal(err)
	}
	if m := (<-reports).(*ckafka.Message); m.TopicPartition.Error != nil {
		t.Fatalf("inventory-service writing to order: %v", m.TopicPartition.Error)
	}
	p.Close()

	// The services of the saga subtest are not running yet: run order-service's consumer loop
	// as order-service would, with SourceCheck, on this broker.
	t.Setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
	t.Setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
	t.Setenv("KAFKA_SASL_USERNAME", admin.Username)
	t.Setenv("KAFKA_SASL_PASSWORD", admin.Password)
	dlt, err := kafka.NewProducer(brokers, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer dlt.Close()
	handled := make(chan string, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- kafka.NewConsumer(kafka.ConsumerConfig{Brokers: brokers, GroupID: "forgery-check", Topic: "order",
			Middleware: []kafka.Middleware{kafka.SourceCheck()}},
			kafka.Handlers{event.TypePaymentComplete: func(_ context.Context, e event.Event) error { handled <- e.ID; return nil }},
			dlt, slog.New(slog.DiscardHandler)).Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	reader := &ckafka.ConfigMap{"bootstrap.servers": brokers, "group.id": "forgery-reader", "auto.offset.reset": "earliest", "log_level": 0}
	admin.Apply(reader)
	c, err := ckafka.NewConsumer(reader)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe("order.dlt", nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		select {
		case id := <-handled:
			if id == forged.ID {
				t.Fatal("the forged PAYMENT_COMPLETE reached the handler")
			}
		default:
		}
		m, ok := c.Poll(200).(*ckafka.Message)
		if !ok {
			continue
		}
		h := map[string]string{}
		for _, hd := range m.Headers {
			h[hd.Key] = string(hd.Value)
		}
		if h["ce_id"] == forged.ID {
			if !strings.Contains(h[kafka.HeaderDLTReason], "/inventory-service") {
				t.Errorf("dead letter reason %q does not name the source", h[kafka.HeaderDLTReason])
			}
			return
		}
	}
	t.Fatal("the forged PAYMENT_COMPLETE never reached order.dlt")
}

// produceOnce writes one message to topic as the given client, with the settings the services
// use (idempotent producer) and a short timeout, and returns the delivery error.
func produceOnce(brokers string, s kafka.Security, topic string) error {
	cm := &ckafka.ConfigMap{"bootstrap.servers": brokers, "enable.idempotence": true, "acks": "all",
		"message.timeout.ms": 8000, "log_level": 0}
	s.Apply(cm)
	p, err := ckafka.NewProducer(cm)
	if err != nil {
		return err
	}
	defer p.Close()
	go func() {
		for range p.Events() { // drain logs and errors so the producer never blocks
		}
	}()
	reports := make(chan ckafka.Event, 1)
	if err := p.Produce(&ckafka.Message{TopicPartition: ckafka.TopicPartition{Topic: &topic, Partition: ckafka.PartitionAny},
		Value: []byte("probe")}, reports); err != nil {
		return err
	}
	m, ok := (<-reports).(*ckafka.Message)
	if !ok {
		return fmt.Errorf("unexpected delivery report")
	}
	return m.TopicPartition.Error
}

func kafkaPasswordVar(service string) string {
	return "KAFKA_PASSWORD_" + strings.ToUpper(strings.ReplaceAll(service, "-", "_"))
}

func secret(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func freePort(t *testing.T) string {
	_, port, err := net.SplitHostPort(nettest.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}
