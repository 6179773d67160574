// Package domain holds notification-service's pure logic: who an order's e-mail goes to, what it
// says, and the Message-ID that names it. It does no I/O.
package domain

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/edmshop/edm-shop/platform/event"
)

// ErrNoRecipient: the customer id is neither an e-mail address nor a name that makes one.
var ErrNoRecipient = errors.New("no e-mail address for the customer")

// Email is the one e-mail an order's customer gets about its outcome.
type Email struct {
	// MessageID names the e-mail (without the angle brackets). It is derived from the
	// transactionId, so every attempt to send an order's e-mail sends the same Message-ID.
	MessageID     string
	TransactionID string
	From, To      string
	Subject, Body string
}

// MessageID is the Message-ID of the e-mail about transactionID.
func MessageID(transactionID string) string {
	return "order-" + transactionID + "@notifications.edm-shop"
}

// localPart is a customer id that can be an address's local part as it is.
var localPart = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)

// Recipient is the address of customerID: the id itself when it is an address
// (alice@example.com), otherwise id@recipientDomain when the id can be a local part (alice).
func Recipient(customerID, recipientDomain string) (string, error) {
	if strings.ContainsAny(customerID, "\r\n<>\" ,") {
		return "", fmt.Errorf("%w: %q", ErrNoRecipient, customerID)
	}
	if strings.Contains(customerID, "@") {
		if a, err := mail.ParseAddress(customerID); err == nil && a.Name == "" && a.Address == customerID {
			return customerID, nil
		}
		return "", fmt.Errorf("%w: %q", ErrNoRecipient, customerID)
	}
	if !localPart.MatchString(customerID) {
		return "", fmt.Errorf("%w: %q", ErrNoRecipient, customerID)
	}
	return customerID + "@" + recipientDomain, nil
}

// reasons says in words why an order was cancelled; an unknown reason is shown as its code.
var reasons = map[string]string{
	event.ReasonOutOfStock:      "an item is out of stock",
	event.ReasonUnknownSKU:      "an item is not in our catalogue",
	event.ReasonMixedCurrency:   "its items are priced in different currencies",
	event.ReasonPaymentDeclined: "the payment was declined",
	"EXPIRED":                   "it could not be completed in time",
}

// Compose writes the e-mail that tells the customer the order's outcome.
func Compose(o event.OrderOutcome, from, recipientDomain string) (Email, error) {
	to, err := Recipient(o.CustomerID, recipientDomain)
	if err != nil {
		return Email{}, err
	}
	short := o.TransactionID
	if len(short) > 8 {
		short = short[:8]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\r\n\r\n", o.CustomerID)
	var subject string
	switch o.Status {
	case event.StatusCompleted:
		subject = "Your order " + short + " is confirmed"
		fmt.Fprintf(&b, "your order %s is confirmed and paid", o.TransactionID)
		if o.Currency != "" {
			fmt.Fprintf(&b, ": %s", Money(o.Amount, o.Currency))
		}
		b.WriteString(".\r\n")
	default:
		subject = "Your order " + short + " was cancelled"
		why := reasons[o.Reason]
		if why == "" {
			why = o.Reason
		}
		fmt.Fprintf(&b, "your order %s was cancelled: %s (%s).\r\n", o.TransactionID, printable(why), printable(o.Reason))
	}
	b.WriteString("\r\nItems:\r\n")
	for _, it := range o.Items {
		fmt.Fprintf(&b, "  %d x %s\r\n", it.Quantity, printable(it.SKU))
	}
	b.WriteString("\r\nThank you for shopping with EDM Shop.\r\n")
	return Email{MessageID: MessageID(o.TransactionID), TransactionID: o.TransactionID, From: from, To: to, Subject: subject, Body: b.String()}, nil
}

// printable replaces control characters with '?': the shop validates SKUs and reasons, but a
// line break from an event would otherwise write lines of its own into the e-mail (a bare CR
// before a dot can end the message early at a lenient SMTP server).
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// Money formats minor units with two decimals: 1998 EUR is "19.98 EUR".
func Money(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, minor/100, minor%100, currency)
}

// Bytes is the e-mail as an RFC 5322 message: plain UTF-8 text, CRLF line ends. The
// X-Edm-Transaction-Id header lets a mailbox be searched by order.
func (e Email) Bytes(date time.Time) []byte {
	var b strings.Builder
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", e.From)
	header("To", e.To)
	header("Subject", e.Subject)
	header("Date", date.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+e.MessageID+">")
	header("X-Edm-Transaction-Id", e.TransactionID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	b.WriteString(e.Body)
	return []byte(b.String())
}
