package domain_test

import (
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/notification-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
)

func TestRecipient(t *testing.T) {
	cases := []struct {
		customer, want string
	}{
		{"alice", "alice@shop.test"},
		{"bob.smith+eu", "bob.smith+eu@shop.test"},
		{"carol@example.com", "carol@example.com"},
		{"", ""},
		{"two words", ""},
		{"evil\r\nBcc: x@y", ""},
		{"Mallory <m@example.com>", ""},
		{"a@b@c", ""},
		{"-dash", ""},
		{"ünïcode", ""},
	}
	for _, c := range cases {
		got, err := domain.Recipient(c.customer, "shop.test")
		if got != c.want || (c.want == "") != errors.Is(err, domain.ErrNoRecipient) {
			t.Errorf("Recipient(%q) = %q, %v; want %q", c.customer, got, err, c.want)
		}
	}
}

func TestCompose(t *testing.T) {
	items := []event.Item{{SKU: "SKU-1001", Quantity: 2}}
	cases := []struct {
		name    string
		outcome event.OrderOutcome
		subject string
		says    []string
	}{
		{"completed", event.OrderOutcome{TransactionID: "3f0c1234-aaaa", CustomerID: "alice", Status: "COMPLETED", Items: items, Amount: 1998, Currency: "EUR"},
			"Your order 3f0c1234 is confirmed", []string{"Hello alice,", "confirmed and paid: 19.98 EUR.", "2 x SKU-1001"}},
		{"declined", event.OrderOutcome{TransactionID: "tx-2", CustomerID: "bob", Status: "CANCELLED", Reason: "PAYMENT_DECLINED", Items: items, Amount: 500, Currency: "EUR"},
			"Your order tx-2 was cancelled", []string{"cancelled: the payment was declined (PAYMENT_DECLINED)"}},
		{"out of stock", event.OrderOutcome{TransactionID: "tx-3", CustomerID: "bob", Status: "CANCELLED", Reason: "OUT_OF_STOCK", Items: items},
			"Your order tx-3 was cancelled", []string{"an item is out of stock (OUT_OF_STOCK)"}},
		{"reason unknown to this version", event.OrderOutcome{TransactionID: "tx-4", CustomerID: "bob", Status: "CANCELLED", Reason: "FRAUD_SUSPECTED", Items: items},
			"Your order tx-4 was cancelled", []string{"cancelled: FRAUD_SUSPECTED (FRAUD_SUSPECTED)"}},
		{"line breaks in a sku or reason write no lines of their own", event.OrderOutcome{TransactionID: "tx-5", CustomerID: "bob", Status: "CANCELLED", Reason: "X\r\n.\r\n",
			Items: []event.Item{{SKU: "SKU-1\r.\r\nClaim a refund", Quantity: 1}}},
			"Your order tx-5 was cancelled", []string{"1 x SKU-1?.??Claim a refund\r\n", "(X??.??)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := domain.Compose(c.outcome, "EDM Shop <orders@shop.test>", "shop.test")
			if err != nil {
				t.Fatal(err)
			}
			if e.Subject != c.subject || e.MessageID != domain.MessageID(c.outcome.TransactionID) {
				t.Errorf("subject %q, message id %q", e.Subject, e.MessageID)
			}
			for _, s := range c.says {
				if !strings.Contains(e.Body, s) {
					t.Errorf("body %q does not say %q", e.Body, s)
				}
			}
			// The message parses as mail, with the headers a mailbox shows and searches by.
			m, err := mail.ReadMessage(strings.NewReader(string(e.Bytes(time.Now()))))
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]string{"Subject": c.subject, "Message-Id": "<" + e.MessageID + ">",
				"To": c.outcome.CustomerID + "@shop.test", "X-Edm-Transaction-Id": c.outcome.TransactionID} {
				if got := m.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
	if _, err := domain.Compose(event.OrderOutcome{TransactionID: "tx", CustomerID: "no one", Status: "COMPLETED", Items: items}, "f@x", "shop.test"); !errors.Is(err, domain.ErrNoRecipient) {
		t.Errorf("Compose for a customer without an address: %v", err)
	}
	if a, b := domain.MessageID("tx-1"), domain.MessageID("tx-1"); a != b || a == domain.MessageID("tx-2") {
		t.Error("Message-ID is not a function of the transactionId")
	}
}

func TestMoney(t *testing.T) {
	for minor, want := range map[int64]string{0: "0.00 EUR", 5: "0.05 EUR", 1998: "19.98 EUR", -250: "-2.50 EUR"} {
		if got := domain.Money(minor, "EUR"); got != want {
			t.Errorf("Money(%d) = %q, want %q", minor, got, want)
		}
	}
}
