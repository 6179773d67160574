package app

import (
	"context"

	"github.com/edmshop/edm-shop/inventory-service/domain"
)

// ProductAdmin is what the operator API needs of the store. Each call runs in one transaction
// with the product row locked, as a reservation locks it, so stock stays conserved across
// concurrent orders: available plus reserved changes by exactly what the operator set or added.
type ProductAdmin interface {
	// SetProduct creates p or replaces its name, price, currency and available stock, and
	// returns the product as Product shows it; created reports whether the SKU was new.
	SetProduct(ctx context.Context, p domain.Product) (out domain.Product, created bool, err error)
	// Restock adds quantity to the available stock of sku and returns the product, or an error
	// wrapping domain.ErrProductNotFound.
	Restock(ctx context.Context, sku string, quantity int) (domain.Product, error)
}

// SetProduct validates p and creates or replaces it; the error is a *domain.ValidationError
// for an unacceptable product.
func (a *App) SetProduct(ctx context.Context, p domain.Product) (domain.Product, bool, error) {
	p.Reserved = 0
	if err := p.Validate(); err != nil {
		return domain.Product{}, false, err
	}
	return a.repo.SetProduct(ctx, p)
}

// Restock validates quantity and adds it to the available stock of sku. The error is a
// *domain.ValidationError for a bad quantity, or wraps domain.ErrProductNotFound.
func (a *App) Restock(ctx context.Context, sku string, quantity int) (domain.Product, error) {
	if err := domain.ValidateSKU(sku); err != nil {
		return domain.Product{}, err
	}
	if err := domain.ValidateRestock(quantity); err != nil {
		return domain.Product{}, err
	}
	return a.repo.Restock(ctx, sku, quantity)
}
