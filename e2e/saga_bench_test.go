package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/telemetry"
	"github.com/edmshop/edm-shop/sandbox"
)

// discardExporter takes spans as an OTLP exporter would and drops them, so the benchmark pays
// for recording and batching spans but not for a collector.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// cpuTime is the CPU time (user and system) the process has used so far: the whole sandbox
// and the shoppers, which run in it.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSagaTracing measures settled orders per second in the sandbox with a closed loop of
// 16 shoppers, each placing an order and polling it until it settles, with tracing off
// (OTEL_TRACES_SAMPLER=always_off: context still propagates, no span is recorded) and on (every
// span recorded and batched to an exporter). Compare the orders/s and the CPU per order of
// the two.
func BenchmarkSagaTracing(b *testing.B) {
	for _, mode := range []struct {
		name    string
		sampler string
		procs   func() []sdktrace.SpanProcessor
	}{
		{"off", "always_off", func() []sdktrace.SpanProcessor { return nil }},
		{"on", "always_on", func() []sdktrace.SpanProcessor {
			return []sdktrace.SpanProcessor{sdktrace.NewBatchSpanProcessor(discardExporter{})}
		}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			b.Setenv("OTEL_TRACES_SAMPLER", mode.sampler)
			sb, err := sandbox.Start(context.Background(), sandbox.Config{
				Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
				Telemetry: telemetry.Options{SpanProcessors: mode.procs(), DisableExport: true},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				sb.Stop()
				if err := sb.Wait(); err != nil {
					b.Errorf("sandbox: %v", err)
				}
			}()
			sku := "BENCH-" + strings.ToUpper(uuid.NewString()[:8])
			if err := sb.Inventory.UpsertProduct(context.Background(), domain.Product{SKU: sku, Name: sku, Price: 100, Currency: "EUR", Available: 1 << 30}); err != nil {
				b.Fatal(err)
			}
			order := func() error {
				var a accepted
				status, err := tryCall(context.Background(), sb.OrderURL+"/orders", orderRequest{CustomerID: "bench", Items: []item{{sku, 1}}, PaymentMethod: "pm_card_visa"}, "", &a)
				if err != nil || status != http.StatusAccepted {
					return fmt.Errorf("POST /orders = %d, %v", status, err)
				}
				for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
					var o order
					if _, err := tryCall(context.Background(), sb.OrderURL+"/orders/"+a.TransactionID, nil, "", &o); err == nil && terminal(o.Status) {
						if o.Status != "COMPLETED" {
							return fmt.Errorf("order %s ended %s %s", a.TransactionID, o.Status, o.Reason)
						}
						return nil
					}
				}
				return fmt.Errorf("order %s did not settle", a.TransactionID)
			}
			if err := order(); err != nil { // warm up: consumers join their groups
				b.Fatal(err)
			}
			const shoppers = 16
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			errs := make(chan error, shoppers)
			b.ResetTimer()
			cpuBefore := cpuTime(b)
			start := time.Now()
			for range shoppers {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						if err := order(); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			cpu := cpuTime(b) - cpuBefore
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "orders/s")
			// CPU per order is steadier than orders/s on a machine shared with other work.
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/order")
		})
	}
}
