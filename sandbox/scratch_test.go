package sandbox

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestScratchDirIsInMemoryWhereTheMachineHasIt(t *testing.T) {
	dir, err := scratchDir()
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	want := os.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		want = "/dev/shm"
	}
	if filepath.Dir(dir) != want {
		t.Errorf("scratch directory %s, want one in %s", dir, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "probe"), []byte("x"), 0o600); err != nil {
		t.Errorf("scratch directory not writable: %v", err)
	}
}

func TestScratchDirSweepsOnlyTheDirectoriesOfDeadOwners(t *testing.T) {
	// A process that has run and been reaped: its pid names no process (until the kernel hands
	// it out again, which it does not do right away).
	exited := exec.Command(os.Args[0], "-test.run=^$")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := strconv.Itoa(exited.ProcessState.Pid())
	livePID := strconv.Itoa(os.Getpid())

	parent := t.TempDir()
	cases := []struct {
		name  string
		dir   string
		owner string // contents of owner.pid; "-" for no owner file
		swept bool
	}{
		{"dead owner", scratchPrefix + "dead", deadPID, true},
		{"live owner", scratchPrefix + "live", livePID, false},
		{"no owner file", scratchPrefix + "unsigned", "-", false},
		{"unreadable pid", scratchPrefix + "garbage", "not a pid", false},
		{"pid 0 (a process group, not a process)", scratchPrefix + "zero", "0", false},
		{"not a sandbox's directory", "something-else", deadPID, false},
	}
	for _, c := range cases {
		dir := filepath.Join(parent, c.dir)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if c.owner != "-" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(c.owner), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}

	made, err := scratchDirIn(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := os.Stat(filepath.Join(parent, c.dir))
			if gone := os.IsNotExist(err); gone != c.swept {
				t.Errorf("%s: removed = %v (stat: %v), want %v", c.dir, gone, err, c.swept)
			}
		})
	}
	if owner, err := os.ReadFile(filepath.Join(made, ownerFile)); err != nil || string(owner) != livePID {
		t.Errorf("owner file of the new directory = %q, %v; want %q", owner, err, livePID)
	}
}

func TestStopRemovesTheScratchDirButNotAGivenDataDir(t *testing.T) {
	cases := []struct {
		name    string
		dataDir string
		removed bool
	}{
		{"scratch directory", "", true},
		{"Config.DataDir", t.TempDir(), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sb, err := Start(context.Background(), Config{DataDir: c.dataDir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			dir := sb.DataDir
			if c.dataDir != "" && dir != c.dataDir {
				t.Errorf("DataDir = %s, want %s", dir, c.dataDir)
			}
			if _, err := os.Stat(filepath.Join(dir, "orders.db")); err != nil {
				t.Errorf("running sandbox's data directory: %v", err)
			}
			sb.Stop()
			_, err = os.Stat(dir)
			if gone := os.IsNotExist(err); gone != c.removed {
				t.Errorf("after Stop, %s removed = %v (stat: %v), want %v", dir, gone, err, c.removed)
			}
			if err := sb.Wait(); err != nil {
				t.Errorf("Wait after Stop: %v", err)
			}
			sb.Stop() // a second Stop returns at once
		})
	}
}
