// Package app holds notification-service's use case: when an order's outcome is announced,
// e-mail its customer, once (on_order_status.go).
package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/edmshop/edm-shop/notification-service/domain"
)

// State is how far the e-mail of one order got.
type State string

// The states of an order's e-mail.
const (
	// StateNone: nothing recorded; Claim has just recorded StateSending.
	StateNone State = ""
	// StateSending: an attempt claimed the e-mail before sending it and has not recorded
	// the result: it is under way, or its process died somewhere around the SMTP exchange.
	StateSending State = "SENDING"
	// StateSent: the SMTP server accepted the e-mail.
	StateSent State = "SENT"
	// StateUndeliverable: the e-mail cannot be sent (no address, or the server refused it
	// for good); it is not tried again.
	StateUndeliverable State = "UNDELIVERABLE"
)

// Notification is what the store knows of one order's e-mail.
type Notification struct {
	TransactionID string    `json:"transactionId"`
	MessageID     string    `json:"messageId"`
	State         State     `json:"state"`
	Attempts      int       `json:"attempts"`
	Reason        string    `json:"reason,omitempty"`
	ClaimedAt     time.Time `json:"claimedAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// ErrNotFound: nothing is recorded for that transactionId.
var ErrNotFound = errors.New("notification not found")

// Store records each order's e-mail durably, so that what was sent survives restarts.
type Store interface {
	// Claim records, before an e-mail is sent, that it is being sent (StateSending, one more
	// attempt) and returns the state recorded before: StateNone for a first attempt,
	// StateSending when an earlier attempt did not finish, StateSent or StateUndeliverable
	// when the e-mail is settled (then Claim changes nothing).
	Claim(ctx context.Context, transactionID, messageID string, at time.Time) (State, error)
	// Defer records that the server deferred the e-mail once more (ErrDeferred) and returns how
	// many times it has.
	Defer(ctx context.Context, transactionID string, at time.Time) (int, error)
	// Settle records the e-mail's final state (StateSent or StateUndeliverable, with reason).
	Settle(ctx context.Context, transactionID string, state State, reason string, at time.Time) error
	// Get returns what is recorded for transactionID, or ErrNotFound.
	Get(ctx context.Context, transactionID string) (Notification, error)
	Ping(ctx context.Context) error
}

// Mailer sends an e-mail. An error wrapping ErrRejected means the server refused it for good
// (an SMTP 5xx): it is not retried.
type Mailer interface {
	Send(ctx context.Context, e domain.Email) error
}

// ErrRejected: the mail server refused the e-mail for good.
var ErrRejected = errors.New("rejected by the mail server")

// ErrDeferred: the mail server refused the e-mail's recipient for now (an SMTP 4xx reply to
// RCPT, such as for a domain it cannot resolve at the moment). It is retried, but the e-mail
// is given up once the server has deferred it Config.MaxDeferrals times.
var ErrDeferred = errors.New("deferred by the mail server")

// Mailbox answers whether the mail server already holds an e-mail with a Message-ID. Only
// servers with an API can (Mailpit, the sandbox's sink); a plain SMTP relay cannot.
type Mailbox interface {
	Delivered(ctx context.Context, messageID string) (bool, error)
}

// Outcome is what handling an order's status did, for metrics.
type Outcome string

// The outcomes.
const (
	OutcomeSent          Outcome = "sent"          // sent for the first time
	OutcomeResent        Outcome = "resent"        // an earlier attempt did not finish; sent again
	OutcomeRecovered     Outcome = "recovered"     // an earlier attempt had sent it: recorded, not sent again
	OutcomeDuplicate     Outcome = "duplicate"     // already settled: nothing done
	OutcomeUndeliverable Outcome = "undeliverable" // no address or refused for good
)

// Config says who the e-mails come from and how customer ids become addresses.
type Config struct {
	// From is the From header, e.g. "EDM Shop <orders@edm-shop.test>".
	From string
	// RecipientDomain completes customer ids that are not addresses (alice@RecipientDomain).
	RecipientDomain string
	// MaxDeferrals is how many times the server may defer an e-mail (ErrDeferred) before it is
	// recorded as undeliverable; 0 means DefaultMaxDeferrals.
	MaxDeferrals int
}

// DefaultMaxDeferrals: with the consumer's backoff, ten deferrals in a row span 5 to 9 s. An
// e-mail is retried in place, holding its partition's later events back, so a refusal that
// never ends would stop a twelfth of the e-mails for good. Only deferrals count: a server that
// is down, closes the session or refuses MAIL or the message for now refuses every e-mail
// alike, and those e-mails wait for it without limit. A relay queues what a remote server
// greylists, so a deferral at RCPT comes from the relay itself.
const DefaultMaxDeferrals = 10

// App runs notification-service's use case.
type App struct {
	cfg     Config
	store   Store
	mailer  Mailer
	mailbox Mailbox
	log     *slog.Logger
	now     func() time.Time
	observe func(Outcome)
}

// New returns the use case. mailbox may be nil: then an attempt that did not finish is sent
// again (at least once), since nothing can tell whether the server got it.
func New(cfg Config, store Store, mailer Mailer, mailbox Mailbox, log *slog.Logger) *App {
	if log == nil {
		log = slog.Default()
	}
	return &App{cfg: cfg, store: store, mailer: mailer, mailbox: mailbox, log: log, now: time.Now, observe: func(Outcome) {}}
}

// Observe makes a report each handled status's outcome to f.
func (a *App) Observe(f func(Outcome)) { a.observe = f }

// Get returns what is recorded of the e-mail about transactionID.
func (a *App) Get(ctx context.Context, transactionID string) (Notification, error) {
	return a.store.Get(ctx, transactionID)
}
