package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestProductValidate(t *testing.T) {
	ok := Product{SKU: "FLASH-1", Name: "Flash Tee", Price: 1999, Currency: "USD", Available: 1000}
	cases := []struct {
		name string
		edit func(p *Product)
		code string
	}{
		{"valid", func(*Product) {}, ""},
		{"free product, no stock", func(p *Product) { p.Price, p.Available = 0, 0 }, ""},
		{"stock at the limit", func(p *Product) { p.Available = MaxStock }, ""},
		{"empty sku", func(p *Product) { p.SKU = "" }, CodeInvalidSKU},
		{"blank sku", func(p *Product) { p.SKU = "  " }, CodeInvalidSKU},
		{"sku with a trailing space", func(p *Product) { p.SKU = "FLASH-1 " }, CodeInvalidSKU},
		{"sku with a leading tab", func(p *Product) { p.SKU = "\tFLASH-1" }, CodeInvalidSKU},
		{"sku with a space inside", func(p *Product) { p.SKU = "FLASH 1" }, ""},
		{"sku with a line break inside", func(p *Product) { p.SKU = "FLASH\r\n1" }, CodeInvalidSKU},
		{"long sku", func(p *Product) { p.SKU = strings.Repeat("S", MaxSKULength+1) }, CodeInvalidSKU},
		{"empty name", func(p *Product) { p.Name = "" }, CodeInvalidName},
		{"long name", func(p *Product) { p.Name = strings.Repeat("n", MaxNameLength+1) }, CodeInvalidName},
		{"negative price", func(p *Product) { p.Price = -1 }, CodeInvalidPrice},
		{"price at the limit", func(p *Product) { p.Price = MaxPrice }, ""},
		{"price over the limit", func(p *Product) { p.Price = MaxPrice + 1 }, CodeInvalidPrice},
		{"price that would wrap an order's amount", func(p *Product) { p.Price = 1 << 62 }, CodeInvalidPrice},
		{"lower-case currency", func(p *Product) { p.Currency = "usd" }, CodeInvalidCurrency},
		{"missing currency", func(p *Product) { p.Currency = "" }, CodeInvalidCurrency},
		{"negative stock", func(p *Product) { p.Available = -1 }, CodeInvalidStock},
		{"stock over the limit", func(p *Product) { p.Available = MaxStock + 1 }, CodeInvalidStock},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			checkCode(t, p.Validate(), tc.code)
		})
	}
}

func TestValidateRestock(t *testing.T) {
	for q, code := range map[int]string{1: "", 500: "", MaxStock: "", 0: CodeInvalidQuantity, -3: CodeInvalidQuantity, MaxStock + 1: CodeInvalidQuantity} {
		checkCode(t, ValidateRestock(q), code)
	}
}

func checkCode(t *testing.T, err error, code string) {
	t.Helper()
	var v *ValidationError
	switch {
	case code == "" && err != nil:
		t.Errorf("error %v, want none", err)
	case code != "" && (!errors.As(err, &v) || v.Code != code || v.Message == ""):
		t.Errorf("error %v, want a *ValidationError with code %s", err, code)
	}
}
