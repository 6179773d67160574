package app

import (
	"context"

	"github.com/edmshop/edm-shop/order-service/domain"
)

// GetOrder returns the order with its history, or ErrNotFound.
func (a *App) GetOrder(ctx context.Context, transactionID string) (domain.Order, error) {
	return a.repo.GetOrder(ctx, transactionID)
}
