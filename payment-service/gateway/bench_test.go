package gateway_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/edmshop/edm-shop/payment-service/gateway"
)

// BenchmarkCharge measures one new charge through the handler, in memory and with the ledger
// journaled to a file: the price of a gateway that survives restarts.
func BenchmarkCharge(b *testing.B) {
	for _, tc := range []struct {
		name   string
		ledger bool
	}{{"memory", false}, {"ledger", true}} {
		b.Run(tc.name, func(b *testing.B) {
			path := ""
			if tc.ledger {
				path = filepath.Join(b.TempDir(), "ledger.jsonl")
			}
			srv, err := gateway.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			h := srv.Handler()
			body := chargeBody(1200, gateway.TokenVisa)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if r := do(b, h, http.MethodPost, "/v1/charges", fmt.Sprintf("tx-%d", i), body); r.status != http.StatusCreated {
					b.Fatalf("status %d", r.status)
				}
			}
		})
	}
}
