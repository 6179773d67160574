package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ProgramCPU is the CPU time one program (all its processes) took per accepted order, in ms.
type ProgramCPU struct {
	Program string  `json:"program"`
	Ms      float64 `json:"ms"`
}

// Latency summarises durations, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Ms"`
	P90   float64 `json:"p90Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

// summarize returns the percentiles of ds (nearest rank).
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q*float64(len(s))+0.999999) - 1
		return ms(s[max(0, min(i, len(s)-1))])
	}
	return Latency{Count: len(s), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Result is what one run measured and which invariants it found broken.
type Result struct {
	Mode string `json:"mode"`
	// Orders is how many orders the run tried to place (closed loop, flash sale); Clients how
	// many placed them concurrently.
	Orders  int `json:"orders,omitempty"`
	Clients int `json:"clients,omitempty"`
	// OfferedPerSec and Duration describe an open-loop run.
	OfferedPerSec float64 `json:"offeredPerSec,omitempty"`
	Duration      string  `json:"duration,omitempty"`
	// Accepted orders answered 202, Refused ones 503 (overload), Failed anything else.
	Accepted int `json:"accepted"`
	Refused  int `json:"refused"`
	Failed   int `json:"failed"`
	// PlacedPerSec is accepted orders over the time placing took. SettledPerSec is accepted
	// orders over the span from the first order's createdAt to the last one's terminal
	// updatedAt, both as order-service recorded them.
	PlacedPerSec  float64 `json:"placedPerSec"`
	SettledPerSec float64 `json:"settledPerSec"`
	// PlaceToTerminal is updatedAt - createdAt of each terminal order; Post is the round trip
	// of POST /orders as the generator saw it.
	PlaceToTerminal Latency        `json:"placeToTerminal"`
	Post            Latency        `json:"post"`
	ByStatus        map[string]int `json:"byStatus"`
	ByReason        map[string]int `json:"byReason,omitempty"`
	// Stock is what the run put on sale per SKU; StockLeft what GET /products showed at the end.
	Stock     map[string]int `json:"stock,omitempty"`
	StockLeft map[string]int `json:"stockLeft,omitempty"`
	// CPUPerOrderMs is the CPU time taken per accepted order, from the start of the run to its
	// last read. sagabench sets it: on the sandbox it is its own process's (user and system),
	// so it counts the platform, the generator and whatever the platform did meanwhile (idle
	// work, what the previous run left); with -stack it is the whole machine's (user, nice,
	// system, irq and softirq), where make stack runs every part. Elsewhere it stays 0.
	CPUPerOrderMs float64 `json:"cpuPerOrderMs,omitempty"`
	// CPUByProgram is the part of CPUPerOrderMs each program took, largest first (sagabench
	// -stack). The parts need not add up to it: processes that ended during the run, kernel
	// threads and interrupts are in no program.
	CPUByProgram []ProgramCPU `json:"cpuByProgram,omitempty"`
	// Violations lists every broken invariant; a run with any fails.
	Violations []string `json:"violations"`
	// AcceptedIDs are the transactionIds of the accepted orders, for callers that look further.
	AcceptedIDs []string `json:"-"`
	// Refusals holds a sample of the answers that were not 202.
	Refusals []string `json:"refusalSample,omitempty"`
}

// OK reports whether every invariant held.
func (r Result) OK() bool { return len(r.Violations) == 0 }

func (r *Result) violate(format string, args ...any) {
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

// WriteText writes r for people.
func (r Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "== %s", r.Mode)
	if r.Orders > 0 {
		fmt.Fprintf(w, ": %d orders, %d clients", r.Orders, r.Clients)
	}
	if r.OfferedPerSec > 0 {
		fmt.Fprintf(w, ": offered %.0f orders/s for %s", r.OfferedPerSec, r.Duration)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  accepted %d, refused (503) %d, failed %d\n", r.Accepted, r.Refused, r.Failed)
	fmt.Fprintf(w, "  placed/s %.0f, settled/s %.0f\n", r.PlacedPerSec, r.SettledPerSec)
	l := r.PlaceToTerminal
	fmt.Fprintf(w, "  place->terminal ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  (n=%d)\n", l.P50, l.P90, l.P99, l.Max, l.Count)
	l = r.Post
	fmt.Fprintf(w, "  POST /orders ms:    p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", l.P50, l.P90, l.P99, l.Max)
	fmt.Fprintf(w, "  by status: %s\n", formatCounts(r.ByStatus))
	if len(r.ByReason) > 0 {
		fmt.Fprintf(w, "  by reason: %s\n", formatCounts(r.ByReason))
	}
	for sku, s := range r.Stock {
		fmt.Fprintf(w, "  stock %s: %d on sale, %d left\n", sku, s, r.StockLeft[sku])
	}
	for _, s := range r.Refusals {
		fmt.Fprintf(w, "  refusal: %s\n", s)
	}
	if r.OK() {
		fmt.Fprintln(w, "  invariants: ok")
	}
	for _, v := range r.Violations {
		fmt.Fprintf(w, "  VIOLATION: %s\n", v)
	}
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
