package e2e

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestComposeNotifications checks the fan-out's wiring in docker-compose.yml: Mailpit pinned
// and probed, notification-service built from its Dockerfile, started after the topics exist
// and Mailpit answers, sending to Mailpit, asking its API, keeping its record on a volume, and
// kafka-init creating the order-status topic it consumes.
func TestComposeNotifications(t *testing.T) {
	p := loadCompose(t)

	mailpit := service(t, p, "mailpit")
	if !regexp.MustCompile(`^axllent/mailpit:v1\.\d+\.\d+$`).MatchString(mailpit.Image) {
		t.Errorf("mailpit image %q, want axllent/mailpit:v1.x.y", mailpit.Image)
	}
	if hc := mailpit.HealthCheck; hc == nil || !slices.Equal(hc.Test, types.HealthCheckTest{"CMD", "/mailpit", "readyz"}) {
		t.Errorf("mailpit healthcheck %+v, want the image's own readyz", hc)
	}
	ports := map[string]uint32{}
	for _, port := range mailpit.Ports {
		ports[port.Published] = port.Target
	}
	if want := map[string]uint32{"1025": 1025, "8025": 8025}; !maps.Equal(ports, want) {
		t.Errorf("mailpit ports %v, want %v (SMTP, UI)", ports, want)
	}

	s := service(t, p, "notification-service")
	if len(s.Ports) != 1 || s.Ports[0].Published != "8085" || s.Ports[0].Target != 8085 {
		t.Errorf("ports %+v, want 8085:8085", s.Ports)
	}
	if s.HealthCheck == nil || !slices.Contains(s.HealthCheck.Test, "http://localhost:8085/readyz") {
		t.Errorf("healthcheck %+v does not probe /readyz", s.HealthCheck)
	}
	deps := map[string]string{}
	for dep, d := range s.DependsOn {
		deps[dep] = d.Condition
	}
	if want := map[string]string{"kafka": healthy, "kafka-init": completed, "mailpit": healthy}; !maps.Equal(deps, want) {
		t.Errorf("depends_on %v, want %v", deps, want)
	}
	for k, want := range map[string]string{
		"HTTP_ADDR": ":8085", "KAFKA_BROKERS": "kafka:19092", "KAFKA_TOPIC_ORDER_STATUS": "order-status",
		"SMTP_ADDR": "mailpit:1025", "MAILBOX_URL": "http://mailpit:8025", "NOTIFICATION_DB_PATH": "/data/notifications.db",
		"OTEL_SERVICE_NAME": "notification-service", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318",
	} {
		if got := env(s, k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	// SMTP_ADDR and MAILBOX_URL point at what Mailpit listens on.
	if !strings.HasSuffix(env(s, "SMTP_ADDR"), ":"+strconv.Itoa(int(ports["1025"]))) || !strings.HasSuffix(env(s, "MAILBOX_URL"), ":"+strconv.Itoa(int(ports["8025"]))) {
		t.Errorf("SMTP_ADDR %q or MAILBOX_URL %q is not Mailpit's port", env(s, "SMTP_ADDR"), env(s, "MAILBOX_URL"))
	}
	// The record of sent e-mails outlives the container: a named volume at the database's directory.
	onVolume := false
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeVolume && v.Target == "/data" {
			if _, declared := p.Volumes[v.Source]; declared {
				onVolume = true
			}
		}
	}
	if !onVolume {
		t.Errorf("volumes %+v: want a named volume at /data", s.Volumes)
	}
	if env(service(t, p, "kafka-init"), "KAFKA_TOPIC_ORDER_STATUS") != "order-status" {
		t.Error("kafka-init is not told to create order-status")
	}
	script, err := os.ReadFile(filepath.Join(hostPath(t, p, "kafka-init", "/opt/edm"), "create-topics.sh"))
	if err != nil || !strings.Contains(string(script), "${KAFKA_TOPIC_ORDER_STATUS:-order-status}") {
		t.Errorf("create-topics.sh does not create the order-status topic (%v)", err)
	}

	if s.Build == nil {
		t.Fatal("notification-service has no build section")
	}
	body, err := os.ReadFile(s.Build.Context + "/" + s.Build.Dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	froms := fromImages(string(body))
	if len(froms) != 2 || !strings.HasPrefix(froms[0], "golang:") || !strings.HasSuffix(froms[0], "-bookworm") || froms[1] != "debian:bookworm-slim" {
		t.Errorf("Dockerfile stages %v", froms)
	}
	for _, want := range []string{"./notification-service/cmd/notification-service", "curl", "chown nobody"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if restart := s.Restart; restart != types.RestartPolicyUnlessStopped {
		t.Errorf("restart %q", restart)
	}
}
