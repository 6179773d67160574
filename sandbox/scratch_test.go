package sandbox

import (
	"os"
	"path/filepath"
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
