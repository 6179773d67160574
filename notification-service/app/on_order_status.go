package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/edmshop/edm-shop/notification-service/domain"
	"github.com/edmshop/edm-shop/platform/event"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// OnOrderStatus: an order reached COMPLETED or CANCELLED, so its customer gets one e-mail.
//
// Exactly once, across redeliveries and restarts: the e-mail is claimed in the store before it
// is sent (SENDING) and recorded as SENT after the SMTP server accepted it; only then does the
// handler return and the offset get committed. A redelivered status finds SENT and does
// nothing. A status that finds SENDING comes after an attempt that died around the SMTP
// exchange: the mailbox, when the server has one, says whether that attempt got through;
// without one the e-mail is sent again, with the same Message-ID.
func (a *App) OnOrderStatus(ctx context.Context, e event.Event) error {
	p, err := event.Decode[event.OrderOutcome](e)
	if err != nil {
		return err
	}
	if p.TransactionID != e.Key {
		return fmt.Errorf("%w: %s payload is for transaction %q but the message key is %q", event.ErrInvalid, e.Type, p.TransactionID, e.Key)
	}
	if typ, _ := event.OutcomeType(p.Status); typ != e.Type {
		return fmt.Errorf("%w: %s announces status %s", event.ErrInvalid, e.Type, p.Status)
	}
	mail, composeErr := domain.Compose(p, a.cfg.From, a.cfg.RecipientDomain)
	messageID := domain.MessageID(p.TransactionID)
	before, err := a.store.Claim(ctx, p.TransactionID, messageID, a.now())
	if err != nil {
		return fmt.Errorf("claim e-mail for %s: %w", p.TransactionID, err)
	}
	switch before {
	case StateSent, StateUndeliverable:
		kafka.MarkDuplicate(ctx)
		a.observe(OutcomeDuplicate)
		return nil
	}
	if composeErr != nil {
		return a.undeliverable(ctx, p.TransactionID, composeErr)
	}
	outcome := OutcomeSent
	if before == StateSending {
		if a.mailbox != nil {
			delivered, err := a.mailbox.Delivered(ctx, messageID)
			if err != nil {
				return fmt.Errorf("ask the mailbox for %s: %w", messageID, err)
			}
			if delivered {
				a.log.InfoContext(ctx, "e-mail of an unfinished attempt was delivered; not sending it again", "transactionId", p.TransactionID, "messageId", messageID)
				return a.settle(ctx, p.TransactionID, StateSent, "", OutcomeRecovered)
			}
		}
		a.log.WarnContext(ctx, "sending the e-mail of an unfinished attempt again", "transactionId", p.TransactionID, "messageId", messageID, "mailbox", a.mailbox != nil)
		outcome = OutcomeResent
	}
	if err := a.mailer.Send(ctx, mail); err != nil {
		if errors.Is(err, ErrRejected) {
			return a.undeliverable(ctx, p.TransactionID, err)
		}
		if errors.Is(err, ErrDeferred) {
			return a.deferred(ctx, p.TransactionID, err)
		}
		return fmt.Errorf("send e-mail for %s: %w", p.TransactionID, err)
	}
	return a.settle(ctx, p.TransactionID, StateSent, "", outcome)
}

// deferred counts one more deferral of the e-mail and records it as undeliverable at the
// last one allowed; before that it returns cause, so the event is retried.
func (a *App) deferred(ctx context.Context, transactionID string, cause error) error {
	n, err := a.store.Defer(ctx, transactionID, a.now())
	if err != nil {
		return fmt.Errorf("send e-mail for %s: %w (and counting the deferral: %v)", transactionID, cause, err)
	}
	if n < a.maxDeferrals() {
		return fmt.Errorf("send e-mail for %s, deferral %d of %d: %w", transactionID, n, a.maxDeferrals(), cause)
	}
	return a.undeliverable(ctx, transactionID, fmt.Errorf("gave up after %d deferrals: %w", n, cause))
}

func (a *App) maxDeferrals() int {
	if a.cfg.MaxDeferrals > 0 {
		return a.cfg.MaxDeferrals
	}
	return DefaultMaxDeferrals
}

func (a *App) undeliverable(ctx context.Context, transactionID string, cause error) error {
	a.log.WarnContext(ctx, "e-mail cannot be sent", "transactionId", transactionID, "error", cause)
	return a.settle(ctx, transactionID, StateUndeliverable, cause.Error(), OutcomeUndeliverable)
}

func (a *App) settle(ctx context.Context, transactionID string, state State, reason string, outcome Outcome) error {
	if err := a.store.Settle(ctx, transactionID, state, reason, a.now()); err != nil {
		return fmt.Errorf("record e-mail for %s as %s: %w", transactionID, state, err)
	}
	a.observe(outcome)
	return nil
}
