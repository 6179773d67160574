package telemetry_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/edmshop/edm-shop/platform/telemetry"
)

func TestNewReadsTheStandardEnvironment(t *testing.T) {
	cases := []struct {
		name        string
		env         map[string]string
		ignoreEnv   bool
		wantService string
		wantSpans   int
	}{
		{"defaults: own name, every span sampled", nil, false, "svc", 1},
		{"OTEL_SERVICE_NAME renames", map[string]string{"OTEL_SERVICE_NAME": "renamed"}, false, "renamed", 1},
		{"the sandbox keeps its names", map[string]string{"OTEL_SERVICE_NAME": "renamed"}, true, "svc", 1},
		{"OTEL_TRACES_SAMPLER=always_off records nothing", map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, false, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
			t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			rec := tracetest.NewSpanRecorder()
			tel, err := telemetry.New(context.Background(), "svc", telemetry.Options{SpanProcessors: []sdktrace.SpanProcessor{rec}, IgnoreEnvServiceName: c.ignoreEnv})
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			_, span := tel.Tracer.Tracer("test").Start(context.Background(), "op")
			span.End()
			spans := rec.Ended()
			if len(spans) != c.wantSpans {
				t.Fatalf("%d spans recorded, want %d", len(spans), c.wantSpans)
			}
			if c.wantSpans > 0 {
				if v, _ := spans[0].Resource().Set().Value(semconv.ServiceNameKey); v.AsString() != c.wantService {
					t.Errorf("service.name = %q, want %q", v.AsString(), c.wantService)
				}
			}
			if mfs, err := tel.Registry.Gather(); err != nil || len(mfs) == 0 {
				t.Errorf("the registry gathers %d families, %v; want the Go and process collectors", len(mfs), err)
			}
		})
	}
}

// TestRegistryShowsTheSchedulerLatencies: besides the Go collector's default families, the
// registry serves go_sched_latencies_seconds, the histogram of how long goroutines waited for a
// processor, and the waits of goroutines started meanwhile show in it (the runtime samples
// them, so some, not all).
func TestRegistryShowsTheSchedulerLatencies(t *testing.T) {
	tel, err := telemetry.New(context.Background(), "svc", telemetry.Options{DisableExport: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	gather := func() map[string]*dto.MetricFamily {
		t.Helper()
		mfs, err := tel.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		families := map[string]*dto.MetricFamily{}
		for _, mf := range mfs {
			families[mf.GetName()] = mf
		}
		return families
	}
	waits := func(families map[string]*dto.MetricFamily) uint64 {
		t.Helper()
		mf := families["go_sched_latencies_seconds"]
		if mf == nil || mf.GetType() != dto.MetricType_HISTOGRAM || len(mf.GetMetric()) != 1 {
			t.Fatalf("go_sched_latencies_seconds = %v, want one histogram", mf)
		}
		return mf.GetMetric()[0].GetHistogram().GetSampleCount()
	}
	before := gather()
	if before["go_goroutines"] == nil {
		t.Error("go_goroutines is missing: the Go collector's defaults must stay")
	}
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(runtime.Gosched)
	}
	wg.Wait()
	if b, a := waits(before), waits(gather()); a <= b {
		t.Errorf("go_sched_latencies_seconds counted %d waits, then %d after 1,000 goroutines ran", b, a)
	}
}
