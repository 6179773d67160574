package stack

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSupervisorRestartsAKilledProcessAndStopsAll(t *testing.T) {
	var out syncBuffer
	s := Start([]Process{{Name: "sleeper", Path: "/bin/sh", Args: []string{"-c", `echo "up $GREETING"; exec sleep 60`}, Env: []string{"GREETING=hi"}}}, &out)
	waitFor(t, "first start", func() bool { return strings.Count(out.String(), "[sleeper] up hi") == 1 })
	if err := s.Kill("sleeper"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "restart", func() bool { return strings.Count(out.String(), "[sleeper] up hi") == 2 })
	if n := s.Starts("sleeper"); n != 2 {
		t.Errorf("started %d times, want 2", n)
	}
	done := make(chan struct{})
	go func() { s.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end the processes")
	}
	if err := s.Kill("sleeper"); err == nil {
		t.Error("a stopped process can still be killed")
	}
}
