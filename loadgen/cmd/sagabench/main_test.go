package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/edmshop/edm-shop/loadgen"
)

// TestMain runs the command itself when the test starts this binary again with
// SAGABENCH_MAIN=1 (TestSagabenchOnASandbox).
func TestMain(m *testing.M) {
	if os.Getenv("SAGABENCH_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSagabenchOnASandbox runs the whole benchmark in short form (a warm-up included) on its own
// sandbox and checks what it reports: every run's invariants held, and each row has a rate and
// its CPU per order.
func TestSagabenchOnASandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a sandbox")
	}
	cmd := exec.Command(os.Args[0], "-json", "-warmup", "50", "-orders", "300", "-relay-events", "300", "-flash-orders", "200",
		"-flash-stock", "20", "-calm-rate", "100", "-overload", "0", "-overload-duration", "2s")
	cmd.Env = append(os.Environ(), "SAGABENCH_MAIN=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sagabench: %v\n%s", err, out)
	}
	var raw struct {
		BareRelay map[string]any   `json:"bareRelay"`
		Saga      []map[string]any `json:"saga"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if _, ok := raw.BareRelay["cpuPerEventMs"]; !ok {
		t.Errorf("bareRelay has no cpuPerEventMs: %v", raw.BareRelay)
	}
	for _, r := range raw.Saga {
		if _, ok := r["cpuPerOrderMs"]; !ok {
			t.Errorf("saga run %v has no cpuPerOrderMs", r["mode"])
		}
	}
	var report struct {
		Target    string              `json:"target"`
		BareRelay loadgen.RelayResult `json:"bareRelay"`
		Saga      []loadgen.Result    `json:"saga"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if report.Target != "sandbox" || report.BareRelay.Delivered != 300 || report.BareRelay.CPUPerEventMs <= 0 {
		t.Errorf("target %q, bare relay %+v: want sandbox, 300 events delivered, CPU per event", report.Target, report.BareRelay)
	}
	if len(report.Saga) != 3 {
		t.Fatalf("%d saga runs, want closed loop, flash sale and calm open loop: %+v", len(report.Saga), report.Saga)
	}
	for _, r := range report.Saga {
		if !r.OK() || r.SettledPerSec <= 0 || r.CPUPerOrderMs <= 0 {
			t.Errorf("%s: violations %v, settled/s %.0f, CPU ms/order %.2f", r.Mode, r.Violations, r.SettledPerSec, r.CPUPerOrderMs)
		}
	}
}
