package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/loadgen"
)

func TestProgramName(t *testing.T) {
	for _, tc := range []struct {
		cmdline []string
		want    string
	}{
		{[]string{"bin/order-service"}, "order-service"},
		{[]string{"/usr/sbin/mariadbd", "--datadir=/x"}, "mariadbd"},
		{[]string{"java", "-Xmx512m", "-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-port", "8000"}, "dynamodb-local"},
		{[]string{"/usr/bin/java", "-Xms512m", "-cp", "libs/*", "kafka.Kafka", "server.properties"}, "kafka"},
		{[]string{"java", "-jar", "other.jar"}, "java"},
		{[]string{""}, "?"},
		{nil, "?"},
	} {
		if got := programName(tc.cmdline); got != tc.want {
			t.Errorf("programName(%q) = %q, want %q", tc.cmdline, got, tc.want)
		}
	}
}

func TestProcessCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat  string
		want        time.Duration
		wantStarted int64
		wantErr     bool
	}{
		{"plain", "42 (mariadbd) S 1 42 42 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 9 0 1234 0 0", 1750 * time.Millisecond, 1234, false},
		{"name with spaces and parentheses", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 99 0 0", 70 * time.Millisecond, 99, false},
		{"truncated", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 3 4", 0, 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 3 x 0 0 20 0 1 0 99 0 0", 0, 0, true},
		{"no name", "7 x R", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, started, err := processCPU(tc.stat)
			if (err != nil) != tc.wantErr || got != tc.want || started != tc.wantStarted {
				t.Errorf("processCPU = %v, %d, %v; want %v, %d, error %v", got, started, err, tc.want, tc.wantStarted, tc.wantErr)
			}
		})
	}
}

func TestMachineCPU(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice: idle, iowait and steal
	// left out.
	got, err := machineCPU("cpu  100 2 30 5000 40 1 6 7 0 0\ncpu0 50 1 15 2500 20 0 3 3 0 0\n")
	if err != nil || got != 139*clockTick {
		t.Errorf("machineCPU = %v, %v; want %v", got, err, 139*clockTick)
	}
	if _, err := machineCPU("intr 1 2 3\n"); err == nil {
		t.Error("machineCPU accepted a file without the cpu line")
	}
}

func TestPerOrderCountsEachProgramSinceTheFirstSnapshot(t *testing.T) {
	before := cpuSnapshot{machine: 10 * time.Second, procs: map[procID]procCPU{
		{1, 5}: {"kafka", 4 * time.Second},
		{2, 5}: {"order-service", time.Second},
		{3, 5}: {"order-service", time.Second},
		{4, 5}: {"gone", time.Second},
		{5, 5}: {"sh", 9 * time.Second}, // its pid goes to another sh, started later
	}}
	after := cpuSnapshot{machine: 14 * time.Second, procs: map[procID]procCPU{
		{1, 5}:   {"kafka", 5 * time.Second},
		{2, 5}:   {"order-service", 1500 * time.Millisecond},
		{3, 5}:   {"order-service", 1500 * time.Millisecond},
		{5, 900}: {"sh", 200 * time.Millisecond},
		{6, 900}: {"idle", 0},
	}}
	total, programs := before.perOrder(after, 1000)
	want := []loadgen.ProgramCPU{{Program: "kafka", Ms: 1}, {Program: "order-service", Ms: 1}, {Program: "sh", Ms: 0.2}}
	if total != 4 || !reflect.DeepEqual(programs, want) {
		t.Errorf("perOrder = %v, %v; want 4, %v", total, programs, want)
	}
	if total, programs := before.perOrder(after, 0); total != 0 || programs != nil {
		t.Errorf("perOrder of no orders = %v, %v; want 0, nil", total, programs)
	}
}

func TestFormatProgramsListsTheLargeOnesAndTheRest(t *testing.T) {
	programs := []loadgen.ProgramCPU{{Program: "dynamodb-local", Ms: 4}, {Program: "kafka", Ms: 1.5}, {Program: "sshd", Ms: 0.1}}
	if got, want := formatPrograms(6, programs), "dynamodb-local 4.00, kafka 1.50, other 0.50"; got != want {
		t.Errorf("formatPrograms = %q, want %q", got, want)
	}
}

// TestCPUSnapshotSeesThisProcess reads the real /proc: the test binary is among the programs,
// and the CPU it burns between two snapshots shows up as its own.
func TestCPUSnapshotSeesThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before, err := takeCPUSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	self := filepath.Base(os.Args[0])
	var seen bool
	for id, p := range before.procs {
		seen = seen || id.pid == os.Getpid() && p.program == self
	}
	if !seen {
		t.Fatalf("this process (%d, %q) is not in the snapshot", os.Getpid(), self)
	}
	// Spin until the process has taken 300 ms of CPU, however busy the machine is.
	for start := cpuTime(); cpuTime()-start < 300*time.Millisecond; {
	}
	after, err := takeCPUSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	machine, programs := before.perOrder(after, 1)
	var mine float64
	for _, p := range programs {
		if p.Program == self {
			mine = p.Ms
		}
	}
	// Both count in clock ticks of 10 ms.
	if mine < 280 || machine < mine-20 {
		t.Errorf("after 300 ms of CPU: this process %.0f ms, machine %.0f ms; want >= 280 and the machine at least as much", mine, machine)
	}
}
