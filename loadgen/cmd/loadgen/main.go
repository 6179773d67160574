// Command loadgen drives the EDM Shop saga through its public APIs and checks its invariants,
// against any running platform (make run, make stack, docker compose):
//
//	loadgen -mode closed -orders 20000 -clients 64 -declined 0.1 -skus 4
//	loadgen -mode open -rate 2000 -duration 30s
//	loadgen -mode flash -orders 20000 -stock 1000
//
// It creates its own SKUs through inventory-service's operator API (-admin-token, default
// $ADMIN_TOKEN, else sandbox-admin as make run uses). It exits 1 when an invariant broke (an
// order not terminal after -settle-timeout, more COMPLETED than stock, a declined card
// COMPLETED) and 2 when it could not run. -json writes the result as JSON on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/edmshop/edm-shop/loadgen"
	"github.com/edmshop/edm-shop/platform/config"
)

func main() {
	var (
		orderURL     = flag.String("order-url", "http://127.0.0.1:8081", "order-service base URL")
		inventoryURL = flag.String("inventory-url", "http://127.0.0.1:8082", "inventory-service base URL")
		token        = flag.String("admin-token", config.String("ADMIN_TOKEN", "sandbox-admin"), "inventory-service operator token")
		mode         = flag.String("mode", "closed", "closed, open or flash")
		orders       = flag.Int("orders", 2000, "orders to place (closed, flash)")
		clients      = flag.Int("clients", 64, "concurrent clients (closed, flash)")
		skus         = flag.Int("skus", 4, "SKUs to spread orders over (closed, open)")
		declined     = flag.Float64("declined", 0.1, "share of orders paid with the declining card (closed, open)")
		rate         = flag.Float64("rate", 500, "offered orders per second (open)")
		duration     = flag.Duration("duration", 30*time.Second, "how long to offer orders (open)")
		outstanding  = flag.Int("max-outstanding", 4096, "requests in flight at most (open)")
		stock        = flag.Int("stock", 1000, "units of the flash-sale SKU")
		settle       = flag.Duration("settle-timeout", 2*time.Minute, "how long orders may take to become terminal after placing ended")
		asJSON       = flag.Bool("json", false, "write the result as JSON")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := loadgen.NewClient(*orderURL, *inventoryURL, *token, max(*clients, 256))
	defer c.Close()

	var r loadgen.Result
	var err error
	switch *mode {
	case "closed":
		r, err = c.RunClosedLoop(ctx, loadgen.ClosedLoop{Orders: *orders, Clients: *clients, SKUs: *skus, DeclinedShare: *declined, SettleTimeout: *settle})
	case "open":
		r, err = c.RunOpenLoop(ctx, loadgen.OpenLoop{Rate: *rate, Duration: *duration, SKUs: *skus, DeclinedShare: *declined, MaxOutstanding: *outstanding, SettleTimeout: *settle})
	case "flash":
		r, err = c.RunFlashSale(ctx, loadgen.FlashSale{Orders: *orders, Clients: *clients, Stock: *stock, SettleTimeout: *settle})
	default:
		err = fmt.Errorf("unknown -mode %q: closed, open or flash", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(r)
	} else {
		r.WriteText(os.Stdout)
	}
	if !r.OK() {
		os.Exit(1)
	}
}
