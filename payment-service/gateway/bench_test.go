package gateway_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"testing"
	"time"

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

// BenchmarkLedgerHeap charges 100,000 distinct keys through the handler and reports what the
// ledger retains per charge (heap-B/charge, after a collection) and how long a forced collection
// takes with that ledger live (gc-ms). The sandbox runs this simulator in the saga's process, so
// what each charge leaves on the heap is marked again by every collection, for the whole run.
func BenchmarkLedgerHeap(b *testing.B) {
	const n = 100_000
	body := chargeBody(1200, gateway.TokenVisa)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("tx-%08d-0000-4000-8000-%012d", i, i) // shaped like a UUID
	}
	var heap, gcTime float64
	runs := 0
	for b.Loop() {
		srv := gateway.NewServer()
		h := srv.Handler()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, key := range keys {
			if r := do(b, h, http.MethodPost, "/v1/charges", key, body); r.status != http.StatusCreated {
				b.Fatalf("status %d", r.status)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		start := time.Now()
		runtime.GC()
		gcTime += float64(time.Since(start).Microseconds()) / 1000
		heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		runtime.KeepAlive(srv)
		runs++
	}
	b.ReportMetric(heap/float64(runs*n), "heap-B/charge")
	b.ReportMetric(gcTime/float64(runs), "gc-ms")
}
