package e2e

// Static checks of docker-compose.yml and the files it points at. No Docker engine or image
// registry is reachable where the tests run, so this is what keeps the compose wiring honest:
// pinned images, health checks, start order, ports, the env names the Go services read, and
// the scripts and Dockerfiles the compose file refers to.

import (
	"context"
	"go/version"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

const (
	healthy   = types.ServiceConditionHealthy
	completed = types.ServiceConditionCompletedSuccessfully
)

// appServices are the Go programs built from this repository, with their HTTP port.
var appServices = map[string]int{
	"order-service":        8081,
	"inventory-service":    8082,
	"payment-service":      8083,
	"payment-gateway":      8084,
	"notification-service": 8085,
}

// loadCompose parses ../docker-compose.yml the way `docker compose` does, with the variables of
// ../.env.example as the only environment (a user copies it to .env), so variables take those
// values whatever the caller's shell holds.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadComposeWith(envExample(t))
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

// envExample reads ../.env.example as KEY=VALUE lines.
func envExample(t *testing.T) []string {
	t.Helper()
	body, err := os.ReadFile("../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, line := range strings.Split(string(body), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			env = append(env, line)
		}
	}
	return env
}

func loadComposeWith(env []string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithWorkingDirectory(".."), cli.WithName("edmshop"), cli.WithEnv(env))
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// No secret has a default in docker-compose.yml: without .env compose refuses to start, naming
// each missing variable, and every one of them is in .env.example.
func TestComposeSecretsComeFromEnv(t *testing.T) {
	_, err := loadComposeWith(nil)
	if err == nil {
		t.Fatal("docker-compose.yml loads without any variable: a secret has a default")
	}
	example := strings.Join(envExample(t), "\n")
	for _, name := range []string{"MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD", "KAFKA_ADMIN_PASSWORD", "KAFKA_PASSWORD_ORDER_SERVICE",
		"KAFKA_PASSWORD_INVENTORY_SERVICE", "KAFKA_PASSWORD_PAYMENT_SERVICE", "KAFKA_PASSWORD_NOTIFICATION_SERVICE"} {
		if !strings.Contains(err.Error(), "required variable "+name+" ") {
			t.Errorf("compose does not require %s: %v", name, err)
		}
		if !strings.Contains(example, "\n"+name+"=") && !strings.HasPrefix(example, name+"=") {
			t.Errorf(".env.example does not document %s", name)
		}
	}
	// The DSN carries no password; inventory-service adds MYSQL_PASSWORD.
	if dsn := env(service(t, loadCompose(t), "inventory-service"), "MYSQL_DSN"); strings.Contains(strings.SplitN(dsn, "@", 2)[0], ":") {
		t.Errorf("MYSQL_DSN %q holds a password", dsn)
	}
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %q: %v", name, err)
	}
	return s
}

func env(s types.ServiceConfig, key string) string {
	if v := s.Environment[key]; v != nil {
		return *v
	}
	return ""
}

func TestComposeImagesPinned(t *testing.T) {
	p := loadCompose(t)
	want := map[string]*regexp.Regexp{
		"kafka":      regexp.MustCompile(`^apache/kafka:4\.\d+\.\d+$`),
		"kafka-init": regexp.MustCompile(`^apache/kafka:4\.\d+\.\d+$`),
		"localstack": regexp.MustCompile(`^localstack/localstack:4\.14\.0$`), // later tags need a token
		"mysql":      regexp.MustCompile(`^mysql:8\.\d+(\.\d+)?$`),
		"prometheus": regexp.MustCompile(`^prom/prometheus:v3\.\d+\.\d+$`),
		"grafana":    regexp.MustCompile(`^grafana/grafana:12\.\d+\.\d+$`),
		// v2 is the all-in-one; the v1 jaegertracing/all-in-one image is end of life.
		"jaeger": regexp.MustCompile(`^jaegertracing/jaeger:2\.\d+\.\d+$`),
	}
	for name, re := range want {
		t.Run(name, func(t *testing.T) {
			if img := service(t, p, name).Image; !re.MatchString(img) {
				t.Errorf("image %q, want %s", img, re)
			}
		})
	}
	if k, i := service(t, p, "kafka").Image, service(t, p, "kafka-init").Image; k != i {
		t.Errorf("kafka-init image %q differs from kafka %q", i, k)
	}
	for name, s := range p.Services {
		t.Run("pinned/"+name, func(t *testing.T) {
			switch {
			case s.Image == "" && s.Build == nil:
				t.Error("neither image nor build")
			case s.Image == "":
				return // built here
			case !strings.Contains(s.Image, ":") || strings.HasSuffix(s.Image, ":latest"):
				t.Errorf("image %q is not pinned to a tag", s.Image)
			}
		})
	}
}

// observerProbes are the health probes of the observability images: the tool each image has
// (prom/prometheus and jaegertracing/jaeger are busybox/Alpine with wget and no curl; the
// grafana/grafana Dockerfile installs curl) and the URL it asks.
var observerProbes = map[string]struct{ tool, url string }{
	"prometheus": {"wget", "http://localhost:9090/-/ready"},
	"grafana":    {"curl", "http://localhost:3000/api/health"},
	"jaeger":     {"wget", "http://localhost:13133/status"},
}

func TestComposeHealthchecks(t *testing.T) {
	p := loadCompose(t)
	for name := range observerProbes {
		service(t, p, name) // each probe above belongs to a service that exists
	}
	for name, s := range p.Services {
		if name == "kafka-init" { // one-shot: its exit code is its health
			continue
		}
		t.Run(name, func(t *testing.T) {
			if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
				t.Fatal("no healthcheck")
			}
			if port, ok := appServices[name]; ok {
				url := "http://localhost:" + strconv.Itoa(port) + "/readyz"
				if !slices.Contains(s.HealthCheck.Test, url) {
					t.Errorf("healthcheck %q does not probe %s", s.HealthCheck.Test, url)
				}
			}
			if probe, ok := observerProbes[name]; ok {
				test := s.HealthCheck.Test
				if len(test) < 3 || test[0] != "CMD" || test[1] != probe.tool || !slices.Contains(test, probe.url) {
					t.Errorf("healthcheck %q, want CMD %s ... %s", test, probe.tool, probe.url)
				}
			}
		})
	}
}

func TestComposeStartOrder(t *testing.T) {
	p := loadCompose(t)
	tests := map[string]map[string]string{
		"kafka-init":        {"kafka": healthy},
		"order-service":     {"kafka": healthy, "kafka-init": completed, "localstack": healthy},
		"inventory-service": {"kafka": healthy, "kafka-init": completed, "mysql": healthy},
		"payment-service":   {"kafka": healthy, "kafka-init": completed, "payment-gateway": healthy},
		"payment-gateway":   {},
		// Prometheus and Jaeger wait for nothing: a target or a span exporter that is not up
		// yet is retried, and the shop never waits for them either.
		"prometheus": {},
		"grafana":    {"prometheus": healthy},
		"jaeger":     {},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			got := map[string]string{}
			for dep, d := range s.DependsOn {
				got[dep] = d.Condition
			}
			if !maps.Equal(got, want) {
				t.Errorf("depends_on %v, want %v", got, want)
			}
			wantRestart := types.RestartPolicyUnlessStopped
			if name == "kafka-init" {
				wantRestart = types.RestartPolicyNo
			}
			if s.Restart != wantRestart {
				t.Errorf("restart %q, want %q", s.Restart, wantRestart)
			}
		})
	}
}

func TestComposePorts(t *testing.T) {
	p := loadCompose(t)
	// Published on the host's loopback only: LocalStack takes any credentials, Kafka's host
	// listener and Mailpit hold every order, the gateway refunds on request.
	for _, svc := range p.Services {
		for _, port := range svc.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %s on %q, want 127.0.0.1 only", svc.Name, port.Published, port.HostIP)
			}
		}
	}
	tests := map[string]int{"kafka": 9092, "localstack": 4566, "prometheus": 9090, "grafana": 3000}
	for name, port := range appServices {
		tests[name] = port
	}
	for name, port := range tests {
		t.Run(name, func(t *testing.T) {
			ports := service(t, p, name).Ports
			if len(ports) != 1 || ports[0].Published != strconv.Itoa(port) || ports[0].Target != uint32(port) {
				t.Errorf("ports %+v, want %d:%d only", ports, port, port)
			}
		})
	}
	// Jaeger: the UI, and OTLP gRPC and HTTP so that services run on the host can export too.
	got := map[string]uint32{}
	for _, port := range service(t, p, "jaeger").Ports {
		got[port.Published] = port.Target
	}
	if want := map[string]uint32{"16686": 16686, "4317": 4317, "4318": 4318}; !maps.Equal(got, want) {
		t.Errorf("jaeger ports %v, want %v", got, want)
	}
}

func TestComposeEnvironment(t *testing.T) {
	p := loadCompose(t)
	topics := map[string]string{
		"KAFKA_TOPIC_INVENTORY": "inventory", "KAFKA_TOPIC_PAYMENT": "payment", "KAFKA_TOPIC_ORDER": "order",
		"KAFKA_TOPIC_ORDER_STATUS": "order-status",
	}
	kafkaApp := func(addr string, extra map[string]string) map[string]string {
		m := map[string]string{"KAFKA_BROKERS": "kafka:19092", "HTTP_ADDR": addr,
			"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}
		for k, v := range topics {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := map[string]map[string]string{
		"order-service": kafkaApp(":8081", map[string]string{
			"DYNAMODB_ENDPOINT": "http://localstack:4566", "AWS_REGION": "us-east-1",
			"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
			"ORDERS_TABLE": "orders", "IDEMPOTENCY_TABLE": "order-idempotency", "OUTBOX_TABLE": "order-outbox",
		}),
		"inventory-service": kafkaApp(":8082", map[string]string{
			"MYSQL_DSN": "inventory@tcp(mysql:3306)/inventory?parseTime=true", "MYSQL_PASSWORD": "change-me-inventory",
		}),
		"payment-service": kafkaApp(":8083", map[string]string{"PAYMENT_GATEWAY_URL": "http://payment-gateway:8084"}),
		"payment-gateway": {"HTTP_ADDR": ":8084"},
		"notification-service": kafkaApp(":8085", map[string]string{
			"SMTP_ADDR": "mailpit:1025", "MAILBOX_URL": "http://mailpit:8025", "NOTIFICATION_DB_PATH": "/data/notifications.db",
		}),
		"localstack": {"SERVICES": "dynamodb",
			"ORDERS_TABLE": "orders", "IDEMPOTENCY_TABLE": "order-idempotency", "OUTBOX_TABLE": "order-outbox"},
		"mysql": {"MYSQL_DATABASE": "inventory", "MYSQL_USER": "inventory", "MYSQL_PASSWORD": "change-me-inventory"},
	}
	// Each service logs in to Kafka as itself, with its own password from .env.
	for name, password := range map[string]string{"order-service": "change-me-order", "inventory-service": "change-me-inventory-kafka",
		"payment-service": "change-me-payment", "notification-service": "change-me-notification"} {
		tests[name]["KAFKA_SASL_USERNAME"], tests[name]["KAFKA_SASL_PASSWORD"] = name, password
	}
	// Every Go service exports its spans to Jaeger's OTLP/HTTP receiver under its own name.
	for name := range appServices {
		tests[name]["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://jaeger:4318"
		tests[name]["OTEL_SERVICE_NAME"] = name
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			for k, v := range want {
				if got := env(s, k); got != v {
					t.Errorf("%s=%q, want %q", k, got, v)
				}
			}
			// payment-gateway talks to no broker: a KAFKA_BROKERS there would be a copy-paste slip.
			if _, has := s.Environment["KAFKA_BROKERS"]; has && want["KAFKA_BROKERS"] == "" {
				t.Errorf("unexpected KAFKA_BROKERS")
			}
		})
	}
}

// The containers' broker address must be one the kafka service both listens on and advertises.
func TestComposeKafkaListeners(t *testing.T) {
	p := loadCompose(t)
	kafka := service(t, p, "kafka")
	advertised := strings.Split(env(kafka, "KAFKA_ADVERTISED_LISTENERS"), ",")
	listeners := env(kafka, "KAFKA_LISTENERS")
	users := map[string]string{"kafka-init": "KAFKA_BOOTSTRAP"}
	for name := range appServices {
		if name != "payment-gateway" {
			users[name] = "KAFKA_BROKERS"
		}
	}
	for name, key := range users {
		t.Run(name, func(t *testing.T) {
			addr := env(service(t, p, name), key)
			for _, l := range advertised {
				listener, hostPort, _ := strings.Cut(l, "://")
				if hostPort != addr {
					continue
				}
				_, port, _ := strings.Cut(hostPort, ":")
				if !strings.Contains(listeners, listener+"://:"+port) {
					t.Errorf("%s listener on port %s not in KAFKA_LISTENERS %q", listener, port, listeners)
				}
				return
			}
			t.Errorf("%s=%q is not in KAFKA_ADVERTISED_LISTENERS %q", key, addr, advertised)
		})
	}
	// The broker does not start unless its KRaft settings agree with one another.
	protocols := env(kafka, "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP")
	for _, l := range strings.Split(listeners, ",") {
		name, hostPort, _ := strings.Cut(l, "://")
		if !strings.Contains(","+protocols, ","+name+":") {
			t.Errorf("listener %s has no entry in KAFKA_LISTENER_SECURITY_PROTOCOL_MAP %q", name, protocols)
		}
		if name == env(kafka, "KAFKA_CONTROLLER_LISTENER_NAMES") {
			_, port, _ := strings.Cut(hostPort, ":")
			if voters := env(kafka, "KAFKA_CONTROLLER_QUORUM_VOTERS"); !strings.HasSuffix(voters, ":"+port) {
				t.Errorf("KAFKA_CONTROLLER_QUORUM_VOTERS %q does not point at the controller port %s", voters, port)
			}
		}
	}
	for _, key := range []string{"KAFKA_INTER_BROKER_LISTENER_NAME", "KAFKA_CONTROLLER_LISTENER_NAMES"} {
		if name := env(kafka, key); name == "" || !strings.Contains(listeners, name+"://") {
			t.Errorf("%s=%q is not a listener in KAFKA_LISTENERS %q", key, name, listeners)
		}
	}
	if id := env(kafka, "CLUSTER_ID"); len(id) != 22 {
		t.Errorf("CLUSTER_ID %q is not a 22-character KRaft cluster id", id)
	}
	// The image's configure script exits when an advertised listener's name contains SASL_ and
	// KAFKA_OPTS is unset (it expects a JAAS file there); ours are INTERNAL and HOST, with the
	// JAAS settings as listener properties.
	if strings.Contains(env(kafka, "KAFKA_ADVERTISED_LISTENERS"), "SASL_") && env(kafka, "KAFKA_OPTS") == "" {
		t.Error("a SASL_ listener name without KAFKA_OPTS: the apache/kafka image will not start")
	}
	if strings.Contains(env(kafka, "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"), "SASL_") {
		if env(kafka, "KAFKA_AUTHORIZER_CLASS_NAME") != "org.apache.kafka.metadata.authorizer.StandardAuthorizer" || env(kafka, "KAFKA_SUPER_USERS") != "User:admin" {
			t.Error("Kafka with SASL but without the StandardAuthorizer and admin as the only super user")
		}
	}
	if got := env(kafka, "KAFKA_AUTO_CREATE_TOPICS_ENABLE"); got != "false" {
		t.Errorf("KAFKA_AUTO_CREATE_TOPICS_ENABLE=%q, want false (topics come from kafka-init)", got)
	}
}

func TestComposeBindMounts(t *testing.T) {
	p := loadCompose(t)
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			t.Run(name+v.Target, func(t *testing.T) {
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("host path of %s: %v", v.Target, err)
				}
			})
		}
	}
}

// hostPath is the host side of the bind mount of service name at target.
func hostPath(t *testing.T, p *types.Project, name, target string) string {
	t.Helper()
	for _, v := range service(t, p, name).Volumes {
		if v.Type == types.VolumeTypeBind && v.Target == target {
			return v.Source
		}
	}
	t.Fatalf("%s has no bind mount at %s", name, target)
	return ""
}

func TestComposeLocalstackInitScripts(t *testing.T) {
	dir := hostPath(t, loadCompose(t), "localstack", "/etc/localstack/init/ready.d")
	scripts, _ := filepath.Glob(filepath.Join(dir, "*.sh"))
	if len(scripts) == 0 {
		t.Fatalf("no *.sh in %s", dir)
	}
	for _, path := range scripts {
		t.Run(filepath.Base(path), func(t *testing.T) {
			// LocalStack skips scripts that are not executable or lack a shebang; a CRLF breaks
			// the shebang line inside the Linux container.
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm()&0o111 == 0 {
				t.Error("not executable")
			}
			body, _ := os.ReadFile(path)
			if !strings.HasPrefix(string(body), "#!") {
				t.Error("no shebang")
			}
			if strings.Contains(string(body), "\r") {
				t.Error("CRLF line endings")
			}
			for _, table := range []string{"ORDERS_TABLE", "IDEMPOTENCY_TABLE", "OUTBOX_TABLE"} {
				if !strings.Contains(string(body), table) {
					t.Errorf("does not read %s", table)
				}
			}
		})
	}
}

func TestComposeMysqlInitdb(t *testing.T) {
	dir := hostPath(t, loadCompose(t), "mysql", "/docker-entrypoint-initdb.d")
	for _, f := range []string{"001_schema.sql", "002_seed.sql"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestComposeKafkaInit(t *testing.T) {
	p := loadCompose(t)
	s := service(t, p, "kafka-init")
	dir := hostPath(t, p, "kafka-init", "/opt/edm")
	if filepath.Base(dir) != "kafka" {
		t.Errorf("mounted folder %s, want kafka/", dir)
	}
	run := strings.Join(append(slices.Clone(s.Entrypoint), s.Command...), " ")
	if run != "sh /opt/edm/init.sh" {
		t.Errorf("kafka-init runs %q, want the mounted init.sh under sh", run)
	}
	// init.sh runs these as admin; a CRLF would reach the container as part of every command
	// (.gitattributes keeps LF).
	for _, name := range []string{"init.sh", "admin-properties.sh", "create-topics.sh", "create-acls.sh"} {
		if body, err := os.ReadFile(filepath.Join(dir, name)); err != nil || strings.Contains(string(body), "\r") {
			t.Errorf("%s is unreadable or has CRLF line endings (%v)", name, err)
		}
	}
	for _, name := range []string{"KAFKA_ADMIN_PASSWORD", "KAFKA_PASSWORD_ORDER_SERVICE", "KAFKA_PASSWORD_INVENTORY_SERVICE",
		"KAFKA_PASSWORD_PAYMENT_SERVICE", "KAFKA_PASSWORD_NOTIFICATION_SERVICE"} {
		if env(s, name) == "" {
			t.Errorf("kafka-init has no %s: create-acls.sh needs it", name)
		}
	}
}

func TestComposeDockerfiles(t *testing.T) {
	p := loadCompose(t)
	builder := regexp.MustCompile(`^golang:(\d+\.\d+)(\.\d+)?-bookworm$`)
	// Debian 12 with a shell and curl: compose's healthcheck curls /readyz.
	runtime := regexp.MustCompile(`^debian:bookworm(-slim)?$`)
	goVersion := goWorkVersion(t)
	wantBuild := map[string]string{
		"order-service":     "./order-service/cmd/order-service",
		"inventory-service": "./inventory-service/cmd/inventory-service",
		"payment-service":   "./payment-service/cmd/${BINARY}",
		"payment-gateway":   "./payment-service/cmd/${BINARY}",
	}
	for name, pkg := range wantBuild {
		t.Run(name, func(t *testing.T) {
			b := service(t, p, name).Build
			if b == nil {
				t.Fatal("no build section")
			}
			path := b.Dockerfile
			if !filepath.IsAbs(path) {
				path = filepath.Join(b.Context, path)
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			froms := fromImages(string(body))
			if len(froms) < 2 {
				t.Fatalf("want a builder and a runtime stage, got FROM %v", froms)
			}
			m := builder.FindStringSubmatch(froms[0])
			if m == nil {
				t.Errorf("builder %q is not a golang bookworm image", froms[0])
			} else if version.Compare("go"+m[1], "go"+goVersion) < 0 {
				t.Errorf("builder Go %s older than go.work's go %s", m[1], goVersion)
			}
			if last := froms[len(froms)-1]; !runtime.MatchString(last) {
				t.Errorf("runtime %q is not Debian 12 based", last)
			}
			if !strings.Contains(string(body), "go build") || !strings.Contains(string(body), pkg) {
				t.Errorf("Dockerfile does not build %s", pkg)
			}
			if strings.Contains(pkg, "${BINARY}") {
				if bin := b.Args["BINARY"]; bin == nil || *bin != name {
					t.Errorf("build arg BINARY=%v, want %s", bin, name)
				}
			}
			// The compose healthcheck runs curl inside the runtime image, the last stage.
			runtimeStage := body[strings.LastIndex(string(body), "\nFROM "):]
			if !regexp.MustCompile(`apt-get install[^\n]*curl`).Match(runtimeStage) {
				t.Error("runtime stage does not install curl for the healthcheck")
			}
		})
	}
}

// fromImages lists the image of each FROM line, in order.
func fromImages(dockerfile string) []string {
	var images []string
	for _, line := range strings.Split(dockerfile, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], "FROM") {
			images = append(images, f[1])
		}
	}
	return images
}

// goWorkVersion is the major.minor of the go directive in ../go.work.
func goWorkVersion(t *testing.T) string {
	body, err := os.ReadFile("../go.work")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatal("no go directive in go.work")
	}
	return m[1]
}
