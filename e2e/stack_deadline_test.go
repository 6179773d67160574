package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/edmctl/dlt"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/nettest"
	"github.com/edmshop/edm-shop/stack"
)

// TestStackDeadlines runs the deadline behaviours of deadline_test.go on the stack: the
// services as processes on the shared servers, so that it is order-service's expiry sweeper on
// DynamoDB, inventory-service's release and tombstone in MySQL and the gateway process's
// refunds and voids that compensate. Each case runs a stack of its own, with its own deadline.
func TestStackDeadlines(t *testing.T) {
	needSharedServers(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := builtBinaries(t, root, "order-service", "inventory-service", "payment-service", "payment-gateway")
	t.Run("slow payment expires and compensates", func(t *testing.T) {
		t.Parallel()
		stackSlowPayment(t, root, bin)
	})
	t.Run("dead-letter replay completes before the deadline", func(t *testing.T) {
		t.Parallel()
		stackDeadLetterReplay(t, root, bin)
	})
}

// serviceAddrs are free addresses for the services and the gateway.
func serviceAddrs(t *testing.T) stack.Addrs {
	return stack.Addrs{Order: nettest.FreeAddr(t), Inventory: nettest.FreeAddr(t), Payment: nettest.FreeAddr(t), Gateway: nettest.FreeAddr(t)}
}

// stackSlowPayment slows the gateway process past a 3 s deadline: each POST waits 4.5 s,
// inside payment-service's 5 s request timeout, so the charge goes through after the order
// expired, and must be refunded.
func stackSlowPayment(t *testing.T, root, bin string) {
	st := startStackRun(t, root, bin, "stack-slow-payment", serviceAddrs(t), "ORDER_DEADLINE=3s")
	sku := "SLOW-" + st.run
	st.addProduct(t, sku, 1500, 10)
	st.setFaults(t, 4500, 0)
	id := st.placeOrder(t, orderRequest{CustomerID: "slow", Items: []item{{SKU: sku, Quantity: 2}}, PaymentMethod: "pm_card_visa"})
	st.expiredAndCompensated(t, id, sku, 10, 0)
}

// stackDeadLetterReplay is TestDeadLetterReplayCompletesBeforeTheDeadline on the stack. A
// process takes no Go options, so the switch is a deployment: payment-service starts as a
// faulty release (faultyPaymentRelease) that dead-letters ITEM_RESERVED, and the fix is the
// real build put in its place and restarted (SIGTERM, as a deploy does). Of two stuck orders,
// one is replayed with the edmctl binary and completes before its deadline; the other expires
// and is compensated.
func stackDeadLetterReplay(t *testing.T, root, bin string) {
	const deadline = 15 * time.Second
	own := t.TempDir() // this stack's binaries: its payment-service is replaced while it runs
	for _, name := range []string{"order-service", "inventory-service", "payment-gateway"} {
		if err := os.Link(filepath.Join(bin, name), filepath.Join(own, name)); err != nil {
			t.Fatal(err)
		}
	}
	faultyPaymentRelease(t, root, filepath.Join(own, "payment-service"))
	edmctl := filepath.Join(own, "edmctl")
	if err := goBuild(root, edmctl, "./edmctl"); err != nil {
		t.Fatal(err)
	}
	st := startStackRun(t, root, own, "stack-replay", serviceAddrs(t), "ORDER_DEADLINE="+deadline.String())
	sku := "DLT-" + st.run
	st.addProduct(t, sku, 2000, 10)
	replayed := st.placeOrder(t, orderRequest{CustomerID: "replayed", Items: []item{{SKU: sku, Quantity: 1}}, PaymentMethod: "pm_card_visa"})
	forgotten := st.placeOrder(t, orderRequest{CustomerID: "forgotten", Items: []item{{SKU: sku, Quantity: 3}}, PaymentMethod: "pm_card_visa"})

	letters := st.topics.Payment + ".dlt"
	eventually(t, 30*time.Second, "both ITEM_RESERVED in "+letters, func() bool {
		// The topic is new: until its partitions have leaders, listing fails and is tried again.
		out, err := runEdmctl(edmctl, "dlt", "list", "-topic", letters, "-json")
		var listed []dlt.Letter
		if err != nil || json.Unmarshal(out, &listed) != nil {
			return false
		}
		keys := []string{}
		for _, l := range listed {
			if l.Type == string(event.TypeItemReserved) {
				keys = append(keys, l.Key)
			}
		}
		return len(keys) == 2 && slices.Contains(keys, replayed) && slices.Contains(keys, forgotten)
	})
	for _, id := range []string{replayed, forgotten} {
		eventually(t, 30*time.Second, "order "+id+" RESERVED", func() bool { return st.order(t, id).Status == "RESERVED" })
	}
	if p := st.product(t, sku); p.Available != 6 || p.Reserved != 4 {
		t.Fatalf("available %d, reserved %d while both orders hold stock, want 6 and 4", p.Available, p.Reserved)
	}
	// The faulty release committed past the dead letters, so the fixed one starts after them:
	// only a replay can bring the order on.
	adm := newAdmin(t, st.brokers)
	ends := endOffsets(t, adm, st.topics.Payment)
	eventually(t, 30*time.Second, "payment-service to commit past the dead letters", func() bool {
		return caughtUp(adm, "payment-service", st.topics.Payment, ends)
	})

	// The fix is deployed: the real build renamed over the faulty one, which is asked to stop.
	next := filepath.Join(own, "payment-service.next")
	if err := os.Link(filepath.Join(bin, "payment-service"), next); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, filepath.Join(own, "payment-service")); err != nil {
		t.Fatal(err)
	}
	starts := st.sup.Starts("payment-service")
	if err := st.sup.Restart("payment-service"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "payment-service to be restarted", func() bool { return st.sup.Starts("payment-service") > starts })
	st.waitReady(t, 30*time.Second)
	if o := st.order(t, replayed); o.Status != "RESERVED" {
		t.Fatalf("order %s is %s before its letter was replayed, want RESERVED", replayed, o.Status)
	}

	if _, err := runEdmctl(edmctl, "dlt", "replay", "-topic", letters, "-id", event.IDFor(replayed, event.TypeItemReserved)); err != nil {
		t.Fatal(err)
	}
	took := st.replayedCompleted(t, replayed, deadline)
	t.Logf("replayed order completed %v after it was placed (deadline %v)", took.Round(100*time.Millisecond), deadline)

	st.expiredAndCompensated(t, forgotten, sku, 9, 1) // the completed order keeps its unit
	if cs := st.chargeStatus(t, forgotten); cs != "voided" {
		t.Errorf("forgotten order's key is %q at the gateway, want voided: it was never charged", cs)
	}
}

// faultyPaymentRelease builds payment-service into out as a release whose event routes lost
// ITEM_RESERVED (go build -overlay over payment-service/ports/events.go): it dead-letters
// every ITEM_RESERVED as an event it has no handler for.
func faultyPaymentRelease(t *testing.T, root, out string) {
	t.Helper()
	routes := filepath.Join(root, "payment-service", "ports", "events.go")
	src, err := os.ReadFile(routes)
	if err != nil {
		t.Fatal(err)
	}
	route := []byte("event.TypeItemReserved: a.OnItemReserved,")
	if !bytes.Contains(src, route) {
		t.Fatalf("%s has no route %q to remove: update faultyPaymentRelease", routes, route)
	}
	dir := t.TempDir()
	faulty, overlay := filepath.Join(dir, "events.go"), filepath.Join(dir, "overlay.json")
	replace, err := json.Marshal(map[string]map[string]string{"Replace": {routes: faulty}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(faulty, bytes.Replace(src, route, nil, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(overlay, replace, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := goBuild(root, out, stack.Binaries["payment-service"], "-overlay", overlay); err != nil {
		t.Fatal(err)
	}
}

// runEdmctl runs the edmctl binary at path (on $KAFKA_BROKERS) and returns what it printed.
func runEdmctl(path string, args ...string) ([]byte, error) {
	out, err := exec.Command(path, args...).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return out, fmt.Errorf("edmctl %v: %v\n%s", args, err, ee.Stderr)
	}
	return out, err
}
