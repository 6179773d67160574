// Package domain is inventory-service's business logic, free of I/O: whether an order's items
// can be reserved, at which prices, and for how much in total.
package domain

import (
	"errors"
	"fmt"
	"math"
)

// Product is a SKU on sale and its stock. Price is in minor units of Currency.
type Product struct {
	SKU       string
	Name      string
	Price     int64
	Currency  string
	Available int
	// Reserved is how many units active reservations hold. Available+Reserved stays constant
	// per SKU while orders reserve and release.
	Reserved int
}

// Item is a requested quantity of one SKU.
type Item struct {
	SKU      string
	Quantity int
}

// Line is a reserved quantity of one SKU at the unit price inventory charged for it.
type Line struct {
	SKU       string
	Quantity  int
	UnitPrice int64
}

// Status says whether a transaction's reservation still holds its stock.
type Status string

// The states of a reservation.
const (
	StatusActive   Status = "ACTIVE"
	StatusReleased Status = "RELEASED"
)

// Reservation is the outcome of an order that could be reserved in full.
type Reservation struct {
	Lines    []Line
	Amount   int64
	Currency string
}

// RejectReason says why an order was not reserved.
type RejectReason string

// The reasons an order is rejected; the values are those of the event contract.
const (
	UnknownSKU RejectReason = "UNKNOWN_SKU"
	OutOfStock RejectReason = "OUT_OF_STOCK"
	// MixedCurrency: the products are priced in different currencies; one charge has one.
	MixedCurrency RejectReason = "MIXED_CURRENCY"
)

// Rejection is the error Reserve returns when the order cannot be reserved in full.
type Rejection struct {
	Reason RejectReason
	SKU    string
}

func (r *Rejection) Error() string { return fmt.Sprintf("%s: %s", r.Reason, r.SKU) }

// ErrProductNotFound is returned when a SKU is not in the catalogue.
var ErrProductNotFound = errors.New("product not found")

// Reserve decides whether items can be reserved from products (by SKU) all together. It returns
// the priced lines, one per SKU in the order they were first requested (repeated SKUs are
// added up), and the amount to charge; or a *Rejection: UnknownSKU naming the first unknown SKU
// if any is unknown, else OutOfStock naming the first SKU short of stock, else MixedCurrency
// naming the first SKU priced in another currency than the first SKU.
func Reserve(products map[string]Product, items []Item) (Reservation, error) {
	wanted := map[string]int{}
	var order []string
	var unknown, short string
	for _, it := range items {
		if it.Quantity <= 0 {
			return Reservation{}, fmt.Errorf("quantity of %s is %d, not positive", it.SKU, it.Quantity)
		}
		p, ok := products[it.SKU]
		if !ok {
			if unknown == "" {
				unknown = it.SKU
			}
			continue
		}
		if _, seen := wanted[it.SKU]; !seen {
			order = append(order, it.SKU)
		}
		switch {
		case short != "":
			// Rejected already; only an unknown SKU further on can change the reason.
		case it.Quantity > p.Available-wanted[it.SKU]: // not "wanted+qty > available": no overflow
			short = it.SKU
		default:
			wanted[it.SKU] += it.Quantity
		}
	}
	switch {
	case unknown != "":
		return Reservation{}, &Rejection{Reason: UnknownSKU, SKU: unknown}
	case short != "":
		return Reservation{}, &Rejection{Reason: OutOfStock, SKU: short}
	case len(order) == 0:
		return Reservation{}, errors.New("no items to reserve")
	}
	r := Reservation{Currency: products[order[0]].Currency}
	for _, sku := range order {
		p := products[sku]
		if p.Currency != r.Currency {
			return Reservation{}, &Rejection{Reason: MixedCurrency, SKU: sku}
		}
		// The operator API keeps prices within 0..MaxPrice, so this guards against a store
		// edited by hand: an amount that wrapped round would be charged as nothing.
		if p.Price < 0 || p.Price > 0 && int64(wanted[sku]) > (math.MaxInt64-r.Amount)/p.Price {
			return Reservation{}, fmt.Errorf("price %d of %s puts the order's amount outside 0..%d", p.Price, sku, int64(math.MaxInt64))
		}
		r.Lines = append(r.Lines, Line{SKU: sku, Quantity: wanted[sku], UnitPrice: p.Price})
		r.Amount += int64(wanted[sku]) * p.Price
	}
	return r, nil
}
