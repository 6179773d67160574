package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/sandbox"
)

// artifactDir keeps the browser tests' screenshots (gitignored, like all of .data).
const artifactDir = "../.data/artifacts"

// TestStorefrontInBrowser drives the storefront page in headless Chromium against an
// in-process sandbox: each saga path, watched on the order's timeline, then the topic viewer.
func TestStorefrontInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install -y chromium); the browser tests need Debian's chromium")
	}
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
	run := fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000)
	skuA, skuB, skuLow := "SKU-BRW-A"+run, "SKU-BRW-B"+run, "SKU-BRW-LOW"+run
	for _, p := range []domain.Product{
		{SKU: skuA, Name: "Browser headphones", Price: 4999, Currency: "EUR", Available: 50},
		{SKU: skuB, Name: "Browser cable", Price: 799, Currency: "EUR", Available: 50},
		{SKU: skuLow, Name: "Last one", Price: 100, Currency: "EUR", Available: 1},
	} {
		if err := sb.Inventory.UpsertProduct(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	customer := "browser-" + run
	if err := os.MkdirAll(artifactDir, 0o755); err != nil {
		t.Fatal(err)
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1100, 1400),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// Each step below waits for what it needs; this only bounds a test that went wrong.
	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	defer cancel()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(sb.OrderURL+"/"),
		chromedp.WaitVisible(css("#add-"+skuLow)),
		chromedp.SetValue(css("#customer"), customer),
	); err != nil {
		t.Fatalf("open the storefront: %v", err)
	}

	// checkout places the cart with a payment method and returns the order id once the
	// timeline ended, with the history types drawn on it.
	checkout := func(t *testing.T, method string) (string, []string) {
		t.Helper()
		before := evaluate[string](t, ctx, `document.getElementById("order-id").textContent`)
		if err := chromedp.Do(ctx,
			chromedp.Click(css(`input[name=paymentMethod][value=`+method+`]`)),
			// A double click: the page sends one order.
			discard(chromedp.Evaluate[bool](`(() => { const f = document.getElementById("checkout"); f.requestSubmit(); f.requestSubmit(); return true; })()`)),
		); err != nil {
			t.Fatalf("check out with %s: %v", method, err)
		}
		// The new order's id, once its timeline ended.
		id, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
			const id = document.getElementById("order-id").textContent;
			return id !== `+strconv.Quote(before)+` && document.getElementById("order-section").dataset.final ? id : null;
		})()`, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(90*time.Second)))
		if err != nil {
			t.Fatalf("the timeline of the order paid with %s did not end: %v", method, err)
		}
		return id, evaluate[[]string](t, ctx, `[...document.querySelectorAll("#timeline > li")].map((li) => li.dataset.type)`)
	}
	screenshot := func(t *testing.T, name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(artifactDir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	wantTimeline := func(t *testing.T, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("timeline = %v, want %v", got, want)
		}
	}

	t.Run("two SKUs, approved: COMPLETED on three lanes", func(t *testing.T) {
		if err := chromedp.Do(ctx,
			chromedp.Click(css("#add-"+skuA)), chromedp.Click(css("#add-"+skuB)),
			chromedp.WaitVisible(css(`#cart li[data-sku="`+skuB+`"]`)),
		); err != nil {
			t.Fatal(err)
		}
		id, types := checkout(t, "pm_card_visa")
		// ITEM_RESERVED (from inventory's outbox) and PAYMENT_COMPLETE (from payment-service)
		// reach the order topic from two producers, so either may come first; the page draws
		// them as they arrived.
		if len(types) == 4 && types[1] == "PAYMENT_COMPLETE" {
			types[1], types[2] = types[2], types[1]
		}
		wantTimeline(t, types, "ORDER_CREATE", "ITEM_RESERVED", "PAYMENT_COMPLETE", "COMPLETED")
		lanes := evaluate[[]string](t, ctx, `[...document.querySelectorAll(".lanes > div")].map((d) => d.textContent)`)
		status := evaluate[string](t, ctx, `document.getElementById("order-status").textContent`)
		if err := chromedp.Do(ctx, chromedp.WaitVisible(css(`#my-orders li[data-id="`+id+`"]`))); err != nil {
			t.Fatalf("the order is not in My orders: %v", err)
		}
		if !slices.Equal(lanes, []string{"order", "inventory", "payment"}) || status != "COMPLETED" {
			t.Errorf("lanes %v, status %q; want order, inventory, payment and COMPLETED", lanes, status)
		}
		if n := countOrders(t, sb.OrderURL, customer); n != 1 {
			t.Errorf("%s has %d orders after a double click on checkout, want 1", customer, n)
		}
		screenshot(t, "storefront-completed")
	})

	t.Run("declined: PAYMENT_FAILED, ITEM_RELEASED, CANCELLED", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(css("#add-"+skuA)), chromedp.WaitVisible(css(`#cart li[data-sku="`+skuA+`"]`))); err != nil {
			t.Fatal(err)
		}
		_, types := checkout(t, "pm_card_declined")
		wantTimeline(t, types, "ORDER_CREATE", "ITEM_RESERVED", "PAYMENT_FAILED", "ITEM_RELEASED", "CANCELLED")
		screenshot(t, "storefront-declined")
	})

	var outOfStock string
	t.Run("more than the stock: OUT_OF_STOCK", func(t *testing.T) {
		if err := chromedp.Do(ctx,
			chromedp.SetValue(css("#qty-"+skuLow), "3"),
			chromedp.Click(css("#add-"+skuLow)),
			chromedp.WaitVisible(css(`#cart li[data-sku="`+skuLow+`"]`)),
		); err != nil {
			t.Fatal(err)
		}
		var types []string
		outOfStock, types = checkout(t, "pm_card_visa")
		wantTimeline(t, types, "ORDER_CREATE", "OUT_OF_STOCK", "CANCELLED")
		if status := evaluate[string](t, ctx, `document.getElementById("order-status").textContent`); status != "CANCELLED (OUT_OF_STOCK)" {
			t.Errorf("status = %q, want CANCELLED (OUT_OF_STOCK)", status)
		}
		screenshot(t, "storefront-out-of-stock")
	})

	t.Run("topic viewer shows the order's events", func(t *testing.T) {
		if outOfStock == "" {
			t.Skip("no order to look for")
		}
		if err := chromedp.Do(ctx,
			chromedp.Click(css("#view-topics")),
			chromedp.WaitVisible(css(`#records tr[data-type="ORDER_CREATE"]`)),
			chromedp.WaitVisible(css(`#records tr[data-type="OUT_OF_STOCK"]`)),
		); err != nil {
			t.Fatal(err)
		}
		filter := evaluate[string](t, ctx, `document.getElementById("topics-filter").value`)
		keys := evaluate[[]string](t, ctx, `[...document.querySelectorAll("#records tr")].map((tr) => tr.cells[2].textContent)`)
		if filter != outOfStock || len(keys) == 0 || slices.ContainsFunc(keys, func(k string) bool { return k != outOfStock }) {
			t.Errorf("viewer filtered by %q shows keys %v, want only %s", filter, keys, outOfStock)
		}
		screenshot(t, "storefront-topic-viewer")
	})

	t.Run("readable on a phone-sized window", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Do(ctx, chromedp.ResetViewport())
		// Nothing wider than the screen: wide tables scroll inside their own box.
		if w := evaluate[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
			t.Errorf("the page is %d px wide on a %d px screen", w[0], w[1])
		}
		screenshot(t, "storefront-phone")
	})
}

// css is a CSS selector (a plain string would be a DOM search, which also matches text).
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// discard runs a with its value thrown away, for chromedp.Do.
func discard[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// evaluate runs js in the page and returns its value.
func evaluate[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// countOrders counts the customer's orders through GET /orders.
func countOrders(t *testing.T, orderURL, customer string) int {
	t.Helper()
	res, err := http.Get(orderURL + "/orders?" + url.Values{"customerId": {customer}, "limit": {"100"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Orders []json.RawMessage }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /orders = %d, %v", res.StatusCode, err)
	}
	return len(body.Orders)
}
