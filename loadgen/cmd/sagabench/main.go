// Command sagabench is the saga benchmark of `make bench` and `make bench-stack`. It measures,
// in one run and on one broker: a bare three-hop Kafka relay (loadgen.RunBareRelay), a closed
// loop of orders and a flash sale (package loadgen), and prints one table with settled orders
// per second, place->terminal latency and the ratio of the saga to the bare relay. Then two open
// loops: half (-calm) of what the closed loop settled, for the latency of a platform that keeps
// up, and twice (-overload), to show bounded overload: refused orders (503s) and the latency of
// the accepted ones.
//
// By default it starts a fresh sandbox in-process on free ports and relays on the sandbox's
// broker (kfake). With -stack it uses a running platform (make stack: -order-url,
// -inventory-url, -admin-token) and the broker of -brokers (default $KAFKA_BROKERS), after a
// warm-up closed loop of -warmup orders (2,000) that is not reported.
//
// On the sandbox each row also gives the CPU time the process took per order, or per event for
// the relay: the platform's and the generator's together, from the start of the run to its
// last read, idle work included. Compare it between two builds at one load (-calm-rate, or the
// closed loop), not between rows. With -stack the column is the whole machine's CPU time per
// order, read from /proc, and a list after the table splits each saga run's by program
// (DynamoDB Local, Kafka, MariaDB, each service, sagabench itself): make stack runs every part
// on one machine, so that list shows where the stack's CPU goes. These figures assume
// sagabench runs on the stack's machine.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/edmshop/edm-shop/loadgen"
	"github.com/edmshop/edm-shop/platform/config"
	"github.com/edmshop/edm-shop/sandbox"
)

func main() {
	var (
		stack        = flag.Bool("stack", false, "measure a running platform (make stack) instead of a fresh sandbox")
		orderURL     = flag.String("order-url", "http://127.0.0.1:8081", "order-service base URL (-stack)")
		inventoryURL = flag.String("inventory-url", "http://127.0.0.1:8082", "inventory-service base URL (-stack)")
		token        = flag.String("admin-token", config.String("ADMIN_TOKEN", "sandbox-admin"), "operator token (-stack)")
		brokers      = flag.String("brokers", config.Brokers(), "Kafka brokers for the bare relay (-stack)")
		orders       = flag.Int("orders", 20000, "orders of the closed loop")
		clients      = flag.Int("clients", 64, "concurrent clients")
		declined     = flag.Float64("declined", 0.1, "share of declined cards in the closed loop")
		skus         = flag.Int("skus", 4, "SKUs of the closed loop")
		flashOrders  = flag.Int("flash-orders", 20000, "orders of the flash sale (0 skips it)")
		flashStock   = flag.Int("flash-stock", 1000, "stock of the flash sale")
		relayEvents  = flag.Int("relay-events", 0, "events through the bare relay (default: -orders)")
		warmup       = flag.Int("warmup", -1, "orders of a closed loop run first and not reported; -1: 2000 with -stack, none on the sandbox")
		calm         = flag.Float64("calm", 0.5, "open loop offered at this multiple of the closed loop's settled/s, for latency below the limit (0 skips it)")
		calmRate     = flag.Float64("calm-rate", 0, "offer the calm open loop at this many orders/s instead of -calm times the closed loop's (compare builds at one rate)")
		overload     = flag.Float64("overload", 2, "open loop offered at this multiple of the closed loop's settled/s (0 skips it)")
		overloadFor  = flag.Duration("overload-duration", 30*time.Second, "how long each open loop offers orders")
		maxInFlight  = flag.Int("max-in-flight", 0, "order-service's in-flight limit in the sandbox (0: its default, -1: none)")
		admission    = flag.Duration("admission-target", 0, "order-service's admission target in the sandbox (0: its default, negative: none, the limit stays at -max-in-flight)")
		settle       = flag.Duration("settle-timeout", 5*time.Minute, "how long orders may take to become terminal after placing ended")
		asJSON       = flag.Bool("json", false, "write the results as JSON instead of the table")
		cpuProfile   = flag.String("cpuprofile", "", "write a CPU profile of the whole run (sandbox included) to this file")
		blockProfile = flag.String("blockprofile", "", "write a profile of where goroutines waited (sandbox included) to this file")
		memProfile   = flag.String("memprofile", "", "write a profile of what the whole run allocated (sandbox included) to this file")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *blockProfile != "" {
		runtime.SetBlockProfileRate(int(time.Millisecond))
		defer writeProfile("block", *blockProfile)
	}
	if *memProfile != "" {
		defer writeProfile("allocs", *memProfile)
	}
	if *relayEvents == 0 {
		*relayEvents = *orders
	}
	if *warmup < 0 {
		*warmup = 0
		if *stack {
			// The stack's JVMs (Kafka, DynamoDB Local) compile their hot code in their first
			// minutes. On a Kafka just started, closed loops of 4,000 orders (after 1,000 not
			// counted) settled 104-116 orders/s; the next such loop on the same Kafka, 131-151.
			// After this warm-up the bare relay (-relay-events) warms Kafka further before the
			// closed loop; whether 2,000 orders alone suffice was not measured.
			*warmup = 2000
		}
	}
	target := "make stack"
	if !*stack {
		target = "sandbox"
		sb, err := sandbox.Start(ctx, sandbox.Config{AdminToken: "bench-admin", MaxInFlight: *maxInFlight, AdmissionTarget: *admission, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			fail(err)
		}
		defer sb.Stop()
		stopSandbox = sb.Stop
		*orderURL, *inventoryURL, *token, *brokers = sb.OrderURL, sb.InventoryURL, "bench-admin", sb.Brokers
	}
	progress := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "sagabench: "+format+"\n", args...) }

	// mark and perUnit count a run's CPU time: this process's when the sandbox runs in it (the
	// generator's included), the whole machine's and each program's with -stack, which assumes
	// the stack runs on this machine. Where /proc cannot be read the figures stay 0.
	noProc := false
	mark := func() cpuMark {
		if !*stack {
			return cpuMark{self: cpuTime()}
		}
		snap, err := takeCPUSnapshot()
		if err != nil {
			if !noProc {
				progress("no CPU figures: %v", err)
				noProc = true
			}
			return cpuMark{}
		}
		return cpuMark{machine: &snap}
	}
	perUnit := func(start cpuMark, units int) (float64, []loadgen.ProgramCPU) {
		if *stack {
			end := mark()
			if start.machine == nil || end.machine == nil {
				return 0, nil
			}
			return start.machine.perOrder(*end.machine, units)
		}
		if units == 0 {
			return 0, nil
		}
		return float64(cpuTime()-start.self) / float64(time.Millisecond) / float64(units), nil
	}
	// measure runs a saga run, exits on its error, and sets its CPU time per order (and, with
	// -stack, that time by program).
	measure := func(run func() (loadgen.Result, error)) loadgen.Result {
		start := mark()
		r, err := run()
		if err != nil {
			fail(err)
		}
		r.CPUPerOrderMs, r.CPUByProgram = perUnit(start, r.Accepted)
		return r
	}
	c := loadgen.NewClient(*orderURL, *inventoryURL, *token, max(*clients, 256))
	defer c.Close()
	if *warmup > 0 {
		progress("warm-up: closed loop, %d orders, not reported", *warmup)
		r, err := c.RunClosedLoop(ctx, loadgen.ClosedLoop{Orders: *warmup, Clients: *clients, SKUs: *skus, DeclinedShare: *declined, SettleTimeout: *settle})
		if err != nil {
			fail(fmt.Errorf("warm-up: %w", err))
		}
		if !r.OK() {
			fail(fmt.Errorf("warm-up: %v", r.Violations))
		}
	}
	progress("bare three-hop relay, %d events, %d clients, on %s", *relayEvents, *clients, *brokers)
	cpu := mark()
	relay, err := loadgen.RunBareRelay(ctx, loadgen.BareRelay{Brokers: *brokers, Events: *relayEvents, Clients: *clients, Timeout: *settle})
	if err != nil {
		fail(err)
	}
	relay.CPUPerEventMs, _ = perUnit(cpu, relay.Delivered)
	progress("closed loop, %d orders, %d clients, %.0f%% declined, %d SKUs, on %s", *orders, *clients, *declined*100, *skus, target)
	closed := measure(func() (loadgen.Result, error) {
		return c.RunClosedLoop(ctx, loadgen.ClosedLoop{Orders: *orders, Clients: *clients, SKUs: *skus, DeclinedShare: *declined, SettleTimeout: *settle})
	})
	results := []loadgen.Result{closed}
	if *flashOrders > 0 {
		progress("flash sale, %d orders for %d units", *flashOrders, *flashStock)
		results = append(results, measure(func() (loadgen.Result, error) {
			return c.RunFlashSale(ctx, loadgen.FlashSale{Orders: *flashOrders, Clients: *clients, Stock: *flashStock, SettleTimeout: *settle})
		}))
	}
	if *calm > 0 && closed.SettledPerSec > 0 || *calmRate > 0 {
		rate := *calm * closed.SettledPerSec
		if *calmRate > 0 {
			rate = *calmRate
		}
		progress("open loop, %.0f orders/s (%.1fx the closed loop's settled/s) for %s", rate, rate/max(closed.SettledPerSec, 1), *overloadFor)
		results = append(results, measure(func() (loadgen.Result, error) {
			return c.RunOpenLoop(ctx, loadgen.OpenLoop{Rate: rate, Duration: *overloadFor, SKUs: *skus, DeclinedShare: *declined, SettleTimeout: *settle})
		}))
	}
	if *overload > 0 && closed.SettledPerSec > 0 {
		rate := *overload * closed.SettledPerSec
		progress("open loop, %.0f orders/s (%.1fx the closed loop's settled/s) for %s", rate, *overload, *overloadFor)
		results = append(results, measure(func() (loadgen.Result, error) {
			return c.RunOpenLoop(ctx, loadgen.OpenLoop{Rate: rate, Duration: *overloadFor, SKUs: *skus, DeclinedShare: *declined, SettleTimeout: *settle})
		}))
	}

	ok := true
	for _, r := range results {
		ok = ok && r.OK()
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"target": target, "bareRelay": relay, "saga": results})
	} else {
		fmt.Printf("\nSaga benchmark on %s (%d clients; bare relay on the same broker, same client settings)\n", target, *clients)
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		cpuHeader := "\tCPU ms/order"
		if *stack {
			cpuHeader = "\tmachine CPU ms/order" // every process of the machine (cpuSnapshot)
		}
		fmt.Fprintln(w, "run\tn\tsettled/s\tp50 ms\tp99 ms\tmax ms\tsaga/bare\t503s\tinvariants"+cpuHeader+"\t")
		fmt.Fprintf(w, "bare 3-hop relay\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t\t\t%s\t\n", relay.Delivered, relay.SettledPerSec, relay.Latency.P50, relay.Latency.P99, relay.Latency.Max, cpuCell(relay.CPUPerEventMs, " (per event)"))
		for _, r := range results {
			inv := "ok"
			if !r.OK() {
				inv = "BROKEN"
			}
			fmt.Fprintf(w, "saga %s\t%d\t%.0f\t%.1f\t%.1f\t%.1f\t%.3f\t%d\t%s%s\t\n", runName(r, *declined, *flashStock), r.Accepted, r.SettledPerSec,
				r.PlaceToTerminal.P50, r.PlaceToTerminal.P99, r.PlaceToTerminal.Max, r.SettledPerSec/relay.SettledPerSec, r.Refused, inv, cpuCell(r.CPUPerOrderMs, ""))
		}
		w.Flush()
		listed := false // the by-program list (-stack), for the runs that have one
		for _, r := range results {
			if r.CPUByProgram == nil {
				continue
			}
			if !listed {
				fmt.Println("\nMachine CPU ms per order by program:")
				listed = true
			}
			fmt.Printf("  %s: %s\n", runName(r, *declined, *flashStock), formatPrograms(r.CPUPerOrderMs, r.CPUByProgram))
		}
		for _, r := range results {
			for _, v := range r.Violations {
				fmt.Printf("VIOLATION (%s): %s\n", r.Mode, v)
			}
		}
	}
	if !ok {
		stopSandbox()
		os.Exit(1)
	}
}

// runName names a saga run in the table.
func runName(r loadgen.Result, declined float64, flashStock int) string {
	switch r.Mode {
	case "closed loop":
		return fmt.Sprintf("closed loop, %.0f%% declined", declined*100)
	case "flash sale":
		return fmt.Sprintf("flash sale, stock %d", flashStock)
	case "open loop":
		return fmt.Sprintf("open loop, %.0f/s offered", r.OfferedPerSec)
	}
	return r.Mode
}

// cpuMark is where a run's CPU time is counted from.
type cpuMark struct {
	self    time.Duration // this process's (sandbox)
	machine *cpuSnapshot  // the machine's (-stack); nil when /proc could not be read
}

// cpuTime is the CPU time (user and system) this process has taken so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(fmt.Errorf("process CPU time: %w", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuCell is the table's CPU cell, with its leading tab: empty when not measured.
func cpuCell(ms float64, suffix string) string {
	if ms == 0 {
		return ""
	}
	return fmt.Sprintf("\t%.2f%s", ms, suffix)
}

// writeProfile writes the named runtime profile to path.
func writeProfile(name, path string) {
	f, err := os.Create(path)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		fail(err)
	}
}

// stopSandbox stops the sandbox sagabench started, if any. os.Exit skips deferred calls, and a
// sandbox not stopped leaves its scratch directory (hundreds of MB in /dev/shm) behind.
var stopSandbox = func() {}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sagabench:", err)
	stopSandbox()
	os.Exit(2)
}
