package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/edmshop/edm-shop/loadgen"
)

// clockTick is the unit of /proc's CPU times (USER_HZ): 1/100 s on every Linux architecture
// Go supports.
const clockTick = 10 * time.Millisecond

// cpuSnapshot is the CPU time taken so far by the whole machine and by each process, read from
// /proc. `make stack` runs every part of the platform as a process of this machine (the JVMs
// of Kafka and DynamoDB Local, MariaDB, the services), so two snapshots say where the CPU of a
// run went.
type cpuSnapshot struct {
	machine time.Duration
	procs   map[procID]procCPU
}

// procID tells a process from a later one that got the same pid: by when it started.
type procID struct {
	pid     int
	started int64 // clock ticks after boot
}

// procCPU is one process's program (programName) and the CPU time it has taken so far.
type procCPU struct {
	program string
	cpu     time.Duration
}

// takeCPUSnapshot reads /proc. Processes that end while it reads are left out.
func takeCPUSnapshot() (cpuSnapshot, error) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSnapshot{}, err
	}
	machine, err := machineCPU(string(stat))
	if err != nil {
		return cpuSnapshot{}, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return cpuSnapshot{}, err
	}
	s := cpuSnapshot{machine: machine, procs: map[procID]procCPU{}}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		raw, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		cpu, started, err := processCPU(string(raw))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		if len(cmdline) == 0 {
			continue // a kernel thread
		}
		s.procs[procID{pid, started}] = procCPU{program: programName(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")), cpu: cpu}
	}
	return s, nil
}

// perOrder is the CPU time the machine took from s to later per order, in ms, and each
// program's, largest first. A process that started in between counts from zero; one that ended
// in between is missing from the programs, not from the machine, so the programs need not add
// up to the machine's total.
func (s cpuSnapshot) perOrder(later cpuSnapshot, orders int) (float64, []loadgen.ProgramCPU) {
	if orders == 0 {
		return 0, nil
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(orders) }
	byProgram := map[string]time.Duration{}
	for id, p := range later.procs {
		byProgram[p.program] += p.cpu - s.procs[id].cpu // a process new since s has none there
	}
	var programs []loadgen.ProgramCPU
	for name, d := range byProgram {
		if d > 0 {
			programs = append(programs, loadgen.ProgramCPU{Program: name, Ms: ms(d)})
		}
	}
	slices.SortFunc(programs, func(a, b loadgen.ProgramCPU) int {
		return cmp.Or(cmp.Compare(b.Ms, a.Ms), strings.Compare(a.Program, b.Program))
	})
	return ms(later.machine - s.machine), programs
}

// machineCPU is the CPU time all CPUs of the machine spent working, from the "cpu" line of
// /proc/stat: user, nice, system, irq and softirq. Not idle, nor waiting for I/O, nor steal (a
// virtual machine's CPU time that its host gave to others: no work of this machine); guest
// time is already in user.
func machineCPU(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// processCPU reads a process's user and system time, and when it started (clock ticks after
// boot), from its /proc/PID/stat. The command name in parentheses may hold spaces and
// parentheses itself, so fields are counted from the last ')': the state, field 3 of the line,
// comes first, then utime is field 14, stime 15 and starttime 22.
func processCPU(stat string) (cpu time.Duration, started int64, err error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("no command name")
	}
	fields := strings.Fields(stat[i+1:])
	if len(fields) < 20 {
		return 0, 0, errors.New("too few fields")
	}
	var n [3]int64
	for j, f := range []string{fields[11], fields[12], fields[19]} {
		if n[j], err = strconv.ParseInt(f, 10, 64); err != nil {
			return 0, 0, err
		}
	}
	return time.Duration(n[0]+n[1]) * clockTick, n[2], nil
}

// programName names a process by its command line: a JVM by what it runs (DynamoDB Local,
// Kafka), anything else by its executable's base name.
func programName(cmdline []string) string {
	if len(cmdline) == 0 || cmdline[0] == "" {
		return "?"
	}
	exe := filepath.Base(cmdline[0])
	if exe != "java" {
		return exe
	}
	for _, arg := range cmdline[1:] {
		switch {
		case strings.Contains(arg, "DynamoDBLocal"):
			return "dynamodb-local"
		case arg == "kafka.Kafka":
			return "kafka"
		}
	}
	return "java"
}

// formatPrograms lists the programs that took at least 2% of total, then the rest together.
func formatPrograms(total float64, programs []loadgen.ProgramCPU) string {
	var b strings.Builder
	rest := total
	for _, p := range programs {
		if p.Ms < 0.02*total {
			break
		}
		fmt.Fprintf(&b, ", %s %.2f", p.Program, p.Ms)
		rest -= p.Ms
	}
	if rest >= 0.005 {
		fmt.Fprintf(&b, ", other %.2f", rest)
	}
	return strings.TrimPrefix(b.String(), ", ")
}
