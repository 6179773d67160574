package main

import (
	"bytes"
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
// run went; it is how the stack's limit was found (DynamoDB Local's JVM, then Kafka's).
type cpuSnapshot struct {
	machine time.Duration
	procs   map[int]procCPU
}

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
	s := cpuSnapshot{machine: machine, procs: map[int]procCPU{}}
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
		cpu, err := processCPU(string(raw))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		if len(cmdline) == 0 {
			continue // a kernel thread
		}
		s.procs[pid] = procCPU{program: programName(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")), cpu: cpu}
	}
	return s, nil
}

// perOrder is the CPU time the machine took from s to later per order, in ms, and each
// program's share, largest first. A process that started in between counts from zero; one
// that ended in between is missing from the programs, not from the machine.
func (s cpuSnapshot) perOrder(later cpuSnapshot, orders int) (float64, []loadgen.ProgramCPU) {
	if orders == 0 {
		return 0, nil
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(orders) }
	byProgram := map[string]time.Duration{}
	for pid, p := range later.procs {
		before := s.procs[pid]
		if before.program != p.program {
			before.cpu = 0 // a new process, or the pid was reused
		}
		byProgram[p.program] += p.cpu - before.cpu
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
// /proc/stat: user, nice, system, irq, softirq and steal (not idle, not waiting for I/O; guest
// time is already in user).
func machineCPU(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// processCPU is a process's user and system time from its /proc/PID/stat. The command name
// in parentheses may hold spaces and parentheses itself, so fields are counted from the last ')'.
func processCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	fields := strings.Fields(stat[i+1:])
	// After the name: state is field 3 of the stat line, utime 14, stime 15.
	if len(fields) < 13 {
		return 0, errors.New("too few fields")
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
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
	var b bytes.Buffer
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
