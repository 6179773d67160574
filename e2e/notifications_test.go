package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	inventorydomain "github.com/edmshop/edm-shop/inventory-service/domain"
	notificationapp "github.com/edmshop/edm-shop/notification-service/app"
	notificationdomain "github.com/edmshop/edm-shop/notification-service/domain"
	"github.com/edmshop/edm-shop/notification-service/smtpsink"
	"github.com/edmshop/edm-shop/platform/kafkatest"
	"github.com/edmshop/edm-shop/sandbox"
)

// crashes stops notification-service once, for an armed customer, at one of two points: right
// after the SMTP server accepted the e-mail (before the store records SENT) or right after the
// store recorded SENT (before the offset is committed).
type crashes struct {
	mu          sync.Mutex
	afterSend   map[string]bool // customer e-mail address -> armed
	afterRecord map[string]bool // customer e-mail address -> armed
	recordTx    map[string]bool // transactionId -> armed, once its e-mail was sent
	kill        func()
	fired       chan string
}

var errKilled = errors.New("killed by the test")

type crashingMailer struct {
	notificationapp.Mailer
	c *crashes
}

func (m crashingMailer) Send(ctx context.Context, e notificationdomain.Email) error {
	if err := m.Mailer.Send(ctx, e); err != nil {
		return err
	}
	m.c.mu.Lock()
	armed := m.c.afterSend[e.To]
	delete(m.c.afterSend, e.To)
	if m.c.afterRecord[e.To] {
		delete(m.c.afterRecord, e.To)
		m.c.recordTx[e.TransactionID] = true
	}
	m.c.mu.Unlock()
	if armed {
		m.c.kill()
		m.c.fired <- e.TransactionID
		return errKilled
	}
	return nil
}

type crashingStore struct {
	notificationapp.Store
	c *crashes
}

func (s crashingStore) Settle(ctx context.Context, tx string, state notificationapp.State, reason string, at time.Time) error {
	if err := s.Store.Settle(ctx, tx, state, reason, at); err != nil {
		return err
	}
	s.c.mu.Lock()
	armed := s.c.recordTx[tx]
	delete(s.c.recordTx, tx)
	s.c.mu.Unlock()
	if armed {
		s.c.kill()
		s.c.fired <- tx
		return errKilled
	}
	return nil
}

// TestSandboxNotifications checks the fan-out in the sandbox: every order's customer gets
// exactly one e-mail saying how it ended, whatever outcome; redelivered order-status events send
// nothing more; and notification-service stopped between sending and recording, or between
// recording and committing, sends nothing more once restarted.
func TestSandboxNotifications(t *testing.T) {
	var logOut io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logOut = os.Stderr
	}
	c := &crashes{afterSend: map[string]bool{}, afterRecord: map[string]bool{}, recordTx: map[string]bool{}, fired: make(chan string, 2)}
	var sb *sandbox.Sandbox
	c.kill = func() { sb.KillNotification() }
	sb, err := sandbox.Start(context.Background(), sandbox.Config{
		Log: slog.New(slog.NewTextHandler(logOut, nil)),
		WrapNotification: func(s notificationapp.Store, m notificationapp.Mailer) (notificationapp.Store, notificationapp.Mailer) {
			return crashingStore{s, c}, crashingMailer{m, c}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb.Stop()
		if err := sb.Wait(); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	tg := &target{orderURL: sb.OrderURL, inventoryURL: sb.InventoryURL, brokers: sb.Brokers, topics: sb.Topics}
	run := uuid.NewString()[:8]
	plenty, none := "NOTIFY-"+run, "NOTIFY-NONE-"+run
	for sku, available := range map[string]int{plenty: 1000, none: 0} {
		if err := sb.Inventory.UpsertProduct(context.Background(), inventorydomain.Product{SKU: sku, Name: sku, Price: 1250, Currency: "EUR", Available: available}); err != nil {
			t.Fatal(err)
		}
	}
	mails := func(tx string) []smtpsink.Message {
		var out []smtpsink.Message
		for _, m := range sb.Mail.Messages() {
			if m.TransactionID == tx {
				out = append(out, m)
			}
		}
		return out
	}
	oneMail := func(t *testing.T, tx string) smtpsink.Message {
		t.Helper()
		eventually(t, 30*time.Second, "the e-mail of "+tx, func() bool { return len(mails(tx)) > 0 })
		got := mails(tx)
		if len(got) != 1 {
			t.Fatalf("%d e-mails for order %s, want 1", len(got), tx)
		}
		return got[0]
	}
	notification := func(t *testing.T, tx string) (n struct{ State string }) {
		t.Helper()
		if status, _ := call(t, http.MethodGet, sb.NotificationURL+"/notifications/"+tx, nil, nil, &n); status != http.StatusOK {
			t.Fatalf("GET /notifications/%s = %d", tx, status)
		}
		return n
	}

	outcomes := []struct {
		name, customer, sku, payment string
		status, reason, says         string
	}{
		{"completed", "alice-" + run, plenty, "pm_card_visa", "COMPLETED", "", "confirmed and paid: 25.00 EUR"},
		{"payment declined", "bob-" + run, plenty, "pm_card_declined", "CANCELLED", "PAYMENT_DECLINED", "the payment was declined (PAYMENT_DECLINED)"},
		{"out of stock", "carol-" + run, none, "pm_card_visa", "CANCELLED", "OUT_OF_STOCK", "an item is out of stock (OUT_OF_STOCK)"},
		{"unknown sku", "dave-" + run, "NO-SUCH-" + run, "pm_card_visa", "CANCELLED", "UNKNOWN_SKU", "an item is not in our catalogue (UNKNOWN_SKU)"},
	}
	var ids []string
	for _, o := range outcomes {
		t.Run(o.name, func(t *testing.T) {
			tx := tg.placeOrder(t, orderRequest{CustomerID: o.customer, Items: []item{{SKU: o.sku, Quantity: 2}}, PaymentMethod: o.payment})
			ids = append(ids, tx)
			if got := tg.settled(t, tx); got.Status != o.status || got.Reason != o.reason {
				t.Fatalf("order %s %s, want %s %s", got.Status, got.Reason, o.status, o.reason)
			}
			m := oneMail(t, tx)
			wantSubject := "Your order " + tx[:8] + " is confirmed"
			if o.status == "CANCELLED" {
				wantSubject = "Your order " + tx[:8] + " was cancelled"
			}
			if m.Subject != wantSubject || len(m.To) != 1 || m.To[0] != o.customer+"@customers.edm-shop.test" ||
				m.MessageID != notificationdomain.MessageID(tx) || !strings.Contains(m.Text, o.says) || !strings.Contains(m.Text, "2 x "+o.sku) {
				t.Errorf("e-mail = %+v", m)
			}
			eventually(t, 10*time.Second, "the e-mail recorded SENT", func() bool { return notification(t, tx).State == "SENT" })
		})
	}

	t.Run("redelivered status events", func(t *testing.T) {
		statuses := tg.readEvents(t, sb.Topics.OrderStatus)
		resent := 0
		for _, r := range statuses {
			for _, tx := range ids {
				if r.Key == tx {
					inject(t, sb.Brokers, sb.Topics.OrderStatus, r.Key, r.Value, r.Headers)
					resent++
				}
			}
		}
		if resent != len(ids) {
			t.Fatalf("found %d status events for %d orders, want one each", resent, len(ids))
		}
		for _, tx := range ids {
			drainedStatus(t, sb, tx)
			if n := len(mails(tx)); n != 1 {
				t.Errorf("%d e-mails for %s after its status was redelivered, want 1", n, tx)
			}
		}
	})

	for _, point := range []string{"after sending, before recording", "after recording, before committing"} {
		t.Run("stopped "+point, func(t *testing.T) {
			customer := "erin-" + uuid.NewString()[:8]
			address := customer + "@customers.edm-shop.test"
			c.mu.Lock()
			if strings.HasPrefix(point, "after sending") {
				c.afterSend[address] = true
			} else {
				c.afterRecord[address] = true
			}
			c.mu.Unlock()
			tx := tg.placeOrder(t, orderRequest{CustomerID: customer, Items: []item{{SKU: plenty, Quantity: 1}}, PaymentMethod: "pm_card_visa"})
			select {
			case got := <-c.fired:
				if got != tx {
					t.Fatalf("stopped for %s, want %s", got, tx)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("notification-service was not stopped")
			}
			want := "SENDING"
			if strings.HasPrefix(point, "after recording") {
				want = "SENT"
			}
			if n := len(mails(tx)); n != 1 {
				t.Fatalf("%d e-mails before the restart, want 1", n)
			}
			if err := sb.RestartNotification(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := notification(t, tx).State; got != want && got != "SENT" {
				t.Errorf("after the restart the e-mail is %s", got)
			}
			eventually(t, 30*time.Second, "the redelivered status handled", func() bool { return notification(t, tx).State == "SENT" })
			drainedStatus(t, sb, tx)
			if n := len(mails(tx)); n != 1 {
				t.Errorf("%d e-mails for %s after the restart, want 1", n, tx)
			}
		})
	}
}

// drainedStatus returns once notification-service has handled every order-status event of key
// sent before the call (the marker technique of target.drained, on the order-status topic).
func drainedStatus(t *testing.T, sb *sandbox.Sandbox, key string) {
	t.Helper()
	marker := "drain-marker-" + uuid.NewString()
	inject(t, sb.Brokers, sb.Topics.OrderStatus, key, []byte(marker), nil)
	eventually(t, 30*time.Second, "the drain marker in "+sb.Topics.OrderStatus+".dlt", func() bool {
		for _, r := range kafkatest.ReadAll(t, sb.Brokers, sb.Topics.OrderStatus+".dlt") {
			if string(r.Value) == marker {
				return true
			}
		}
		return false
	})
}

// checkNotifications places an order of each outcome on a running platform whose
// notification-service sends to a Mailpit-compatible server at mailURL (the stack's smtp-sink),
// and checks each customer got exactly one e-mail about it.
func checkNotifications(t *testing.T, tg *target, mailURL string) {
	run := uuid.NewString()[:8]
	sku := "MAIL-" + run
	tg.addProduct(t, sku, 500, 100)
	for _, payment := range []string{"pm_card_visa", "pm_card_declined"} {
		tx := tg.placeOrder(t, orderRequest{CustomerID: "mail-" + run, Items: []item{{SKU: sku, Quantity: 1}}, PaymentMethod: payment})
		o := tg.settled(t, tx)
		if want := map[string]string{"pm_card_visa": "COMPLETED", "pm_card_declined": "CANCELLED"}[payment]; o.Status != want {
			t.Fatalf("order %s paid with %s is %s, want %s", tx, payment, o.Status, want)
		}
		var got []smtpsink.Message
		eventually(t, 30*time.Second, "the e-mail of "+tx, func() bool {
			got = nil
			call(t, http.MethodGet, mailURL+"/messages?transactionId="+tx, nil, nil, &got)
			return len(got) > 0
		})
		if len(got) != 1 || !strings.Contains(got[0].Subject, map[string]string{"COMPLETED": "is confirmed", "CANCELLED": "was cancelled"}[o.Status]) {
			t.Errorf("%s order %s: e-mails %+v, want one saying so", o.Status, tx, got)
		}
	}
}
