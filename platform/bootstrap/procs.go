package bootstrap

// ProcsPerCPU is how many Go processors (GOMAXPROCS) a service runs per CPU Go would give it
// (the CPUs, or its container's CPU limit), unless GOMAXPROCS is set.
//
// Its Kafka clients wait for events inside librdkafka's C code: the consumer's poll for up to
// 100 ms, the producer's delivery reports. A goroutine in a C call keeps its processor until
// the runtime's monitor hands it to another thread, after 20 µs to 10 ms. With one processor
// per CPU, such waits often held them all while goroutines were ready to run: in the sandbox's
// closed loop the CPU was 18-21% idle with orders waiting at every hop (vmstat). With two per
// CPU it was 3-6% idle and settled 1,090 / 1,007 / 1,249 -> 1,437 / 1,535 / 1,670 orders/s
// (sagabench -orders 20000 -flash-orders 0 -calm 0 -overload 0, GOMAXPROCS=2 then 4 on the
// 2-core machine, alternating). In a second sitting GOMAXPROCS 2 / 3 / 4 / 6 / 8 settled
// 878-1,052 / 1,273-1,485 / 1,656-1,861 / 1,503-1,705 / 1,645-1,889 orders/s (two runs each):
// more than two per CPU gave no more. A third sitting, four per CPU against two (GOMAXPROCS 8
// and 4, three alternating runs, 800/s calm and twice the closed loop's rate offered): as many
// orders settled (1,514-1,906 against 1,622-1,923/s), but the overload p99 rose from 665-702 to
// 860-901 ms, near the 1 s budget.
const ProcsPerCPU = 2

// procs is the GOMAXPROCS to set for the environment variable gomaxprocs and the processors
// Go chose by itself: none when the operator chose a number.
func procs(gomaxprocs string, chosen int) (n int, set bool) {
	if gomaxprocs != "" {
		return 0, false
	}
	return ProcsPerCPU * max(chosen, 1), true
}
