package e2e

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/sandbox"
)

// TestSandbox checks the whole contract against the in-process sandbox of `make run`, on free
// ports so it can run beside a developer's own sandbox.
func TestSandbox(t *testing.T) {
	// E2E_LOG=1 shows what the services log.
	var logOut io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logOut = os.Stderr
	}
	sb, err := sandbox.Start(context.Background(), sandbox.Config{Log: slog.New(slog.NewTextHandler(logOut, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb.Stop()
		if err := sb.Wait(); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	tg := &target{
		orderURL: sb.OrderURL, inventoryURL: sb.InventoryURL, paymentURL: sb.PaymentURL, gatewayURL: sb.GatewayURL,
		brokers: sb.Brokers, topics: sb.Topics,
		addProduct: func(t *testing.T, sku string, price int64, available int) {
			if err := sb.Inventory.UpsertProduct(context.Background(), domain.Product{SKU: sku, Name: sku, Price: price, Currency: "EUR", Available: available}); err != nil {
				t.Fatal(err)
			}
		},
	}
	registerServices(tg)
	runContract(t, tg)
}
