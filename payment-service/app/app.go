// Package app holds payment-service's use cases, one file per incoming event.
package app

import (
	"context"
	"log/slog"

	"github.com/edmshop/edm-shop/payment-service/domain"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/platform/kafka"
)

// Source is the ce_source of every event payment-service publishes.
const Source = "/payment-service"

// Gateway charges orders and refunds them. Charge returns the gateway's answer (approved or declined), an error
// matching domain.ErrChargeRejected when the request can never succeed (the payment fails), or
// another error for a failure worth retrying later. It must be idempotent per ChargeRequest.IdempotencyKey.
type Gateway interface {
	Charge(ctx context.Context, req domain.ChargeRequest) (domain.ChargeResult, error)
	// Refund gives back the charge made under req.ChargeIdempotencyKey, or voids that key if
	// nothing was charged under it yet, so that a later charge with it is declined. A charge is
	// refunded once however often it is asked; errors are classified as Charge's.
	Refund(ctx context.Context, req domain.RefundRequest) (domain.RefundResult, error)
}

// Publisher publishes events and returns once the broker has acknowledged them.
type Publisher interface {
	Publish(ctx context.Context, msgs ...kafka.Message) error
}

// App is payment-service's use cases.
type App struct {
	gateway   Gateway
	publisher Publisher
	topics    config.Topics
	log       *slog.Logger
}

// New returns the use cases, which charge through gateway and publish to topics with publisher.
func New(gateway Gateway, publisher Publisher, topics config.Topics, log *slog.Logger) *App {
	return &App{gateway: gateway, publisher: publisher, topics: topics, log: log}
}
