package domain

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestReserve(t *testing.T) {
	products := map[string]Product{
		"SKU-A": {SKU: "SKU-A", Price: 2500, Currency: "EUR", Available: 10},
		"SKU-B": {SKU: "SKU-B", Price: 1000, Currency: "EUR", Available: 1},
		"SKU-Z": {SKU: "SKU-Z", Price: 0, Currency: "EUR", Available: 0},
		"SKU-U": {SKU: "SKU-U", Price: 700, Currency: "USD", Available: 5},
		// Priced past the operator API's limits, as only a store edited by hand can hold.
		"SKU-W": {SKU: "SKU-W", Price: 1 << 62, Currency: "EUR", Available: 10},
		"SKU-N": {SKU: "SKU-N", Price: -1, Currency: "EUR", Available: 10},
	}
	tests := []struct {
		name   string
		items  []Item
		want   Reservation
		reject *Rejection
		err    error
	}{
		{
			name:  "one item",
			items: []Item{{"SKU-A", 2}},
			want:  Reservation{Lines: []Line{{"SKU-A", 2, 2500}}, Amount: 5000, Currency: "EUR"},
		},
		{
			name:  "two items, all of the scarce one",
			items: []Item{{"SKU-B", 1}, {"SKU-A", 10}},
			want:  Reservation{Lines: []Line{{"SKU-B", 1, 1000}, {"SKU-A", 10, 2500}}, Amount: 26000, Currency: "EUR"},
		},
		{
			name:  "repeated sku is added up, in first-seen order",
			items: []Item{{"SKU-A", 3}, {"SKU-B", 1}, {"SKU-A", 4}},
			want:  Reservation{Lines: []Line{{"SKU-A", 7, 2500}, {"SKU-B", 1, 1000}}, Amount: 18500, Currency: "EUR"},
		},
		{
			name:   "one item short rejects the whole order",
			items:  []Item{{"SKU-A", 2}, {"SKU-B", 2}},
			reject: &Rejection{OutOfStock, "SKU-B"},
		},
		{
			name:   "repeated sku over the stock in total",
			items:  []Item{{"SKU-A", 6}, {"SKU-A", 5}},
			reject: &Rejection{OutOfStock, "SKU-A"},
		},
		{
			name:   "first short sku is named",
			items:  []Item{{"SKU-A", 11}, {"SKU-B", 2}},
			reject: &Rejection{OutOfStock, "SKU-A"},
		},
		{
			name:   "sold out",
			items:  []Item{{"SKU-Z", 1}},
			reject: &Rejection{OutOfStock, "SKU-Z"},
		},
		{
			name:   "unknown sku wins over a short one",
			items:  []Item{{"SKU-B", 5}, {"NOPE-1", 1}, {"NOPE-2", 1}},
			reject: &Rejection{UnknownSKU, "NOPE-1"},
		},
		{
			name:   "huge quantity does not overflow",
			items:  []Item{{"SKU-A", math.MaxInt}, {"SKU-A", math.MaxInt}},
			reject: &Rejection{OutOfStock, "SKU-A"},
		},
		{
			name:  "non-positive quantity is an error",
			items: []Item{{"SKU-A", 0}},
			err:   errors.New("any"),
		},
		{
			name:  "no items is an error",
			items: nil,
			err:   errors.New("any"),
		},
		{
			name:  "an amount near the int64 limit is exact",
			items: []Item{{"SKU-A", 1}, {"SKU-W", 1}},
			want:  Reservation{Lines: []Line{{"SKU-A", 1, 2500}, {"SKU-W", 1, 1 << 62}}, Amount: 2500 + 1<<62, Currency: "EUR"},
		},
		{
			name:  "an amount that would wrap round is an error, not a free order",
			items: []Item{{"SKU-W", 4}},
			err:   errors.New("any"),
		},
		{
			name:  "an amount that would overflow with the lines before it is an error",
			items: []Item{{"SKU-W", 1}, {"SKU-A", 1}, {"SKU-W", 1}},
			err:   errors.New("any"),
		},
		{
			name:  "a negative price is an error",
			items: []Item{{"SKU-N", 1}},
			err:   errors.New("any"),
		},
		{
			name:   "mixed currencies",
			items:  []Item{{"SKU-A", 1}, {"SKU-U", 1}},
			reject: &Rejection{Reason: MixedCurrency, SKU: "SKU-U"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Reserve(products, tt.items)
			var rej *Rejection
			switch {
			case tt.reject != nil:
				if !errors.As(err, &rej) || *rej != *tt.reject {
					t.Fatalf("got %v, want rejection %v", err, tt.reject)
				}
			case tt.err != nil:
				if err == nil || errors.As(err, &rej) {
					t.Fatalf("got %v, want a plain error", err)
				}
			default:
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}
