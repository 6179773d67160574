package sandbox

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
)

// TestStartBindsEveryPortBeforeRunning shows that the sandbox binds its ports itself, up
// front: a taken port fails Start at once, before any component runs, and with zero ports
// every service answers on the address the sandbox reports.
func TestStartBindsEveryPortBeforeRunning(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	if _, err := Start(context.Background(), Config{PaymentPort: port, Log: quiet}); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("Start with payment's port taken: %v, want EADDRINUSE", err)
	}

	sb, err := Start(context.Background(), Config{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Stop()
	for _, url := range []string{sb.OrderURL, sb.InventoryURL, sb.PaymentURL, sb.GatewayURL, sb.NotificationURL, sb.MailURL} {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s/readyz: %d", url, resp.StatusCode)
		}
	}
	if err := sb.RestartNotification(context.Background()); err != nil {
		t.Fatalf("notification-service restarted on its address: %v", err)
	}
}
