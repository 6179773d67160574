package stack

import (
	"bytes"
	"os"
	"path/filepath"
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

func TestSupervisorKillForHoldsTheRestart(t *testing.T) {
	var out syncBuffer
	s := Start([]Process{{Name: "sleeper", Path: "/bin/sh", Args: []string{"-c", `echo up; exec sleep 60`}}}, &out)
	defer s.Stop()
	waitFor(t, "first start", func() bool { return strings.Count(out.String(), "[sleeper] up") == 1 })
	killed := time.Now()
	if err := s.KillFor("sleeper", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "restart", func() bool { return strings.Count(out.String(), "[sleeper] up") == 2 })
	if held := time.Since(killed); held < 3*time.Second {
		t.Errorf("restarted after %v, want at least 3s", held)
	}
}

func TestSupervisorRestartDeploysANewBuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service")
	release := func(version string) {
		t.Helper()
		// A new file renamed over the old one, as a deploy replaces a running binary.
		next := path + ".next"
		if err := os.WriteFile(next, []byte("#!/bin/sh\necho "+version+"\nexec sleep 60\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(next, path); err != nil {
			t.Fatal(err)
		}
	}
	release("v1")
	var out syncBuffer
	s := Start([]Process{{Name: "service", Path: path}}, &out)
	defer s.Stop()
	waitFor(t, "v1", func() bool { return strings.Contains(out.String(), "[service] v1") })
	release("v2")
	if err := s.Restart("service"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "v2", func() bool { return strings.Contains(out.String(), "[service] v2") })
	if !strings.Contains(out.String(), "signal: terminated") {
		t.Errorf("the old version was not asked to stop with SIGTERM:\n%s", out.String())
	}
}

func TestReplicas(t *testing.T) {
	procs := Replicas("bin", DefaultAddrs, 2)
	got := map[string]string{}
	for _, p := range procs {
		for _, e := range p.Env {
			if strings.HasPrefix(e, "HTTP_ADDR=") {
				got[p.Name] = strings.TrimPrefix(e, "HTTP_ADDR=")
			}
		}
	}
	want := map[string]string{
		"payment-gateway": "127.0.0.1:8084", "smtp-sink": "127.0.0.1:8025",
		"order-service-1": "127.0.0.1:8081", "order-service-2": "127.0.0.1:8091",
		"inventory-service-1": "127.0.0.1:8082", "inventory-service-2": "127.0.0.1:8092",
		"payment-service-1": "127.0.0.1:8083", "payment-service-2": "127.0.0.1:8093",
		"notification-service-1": "127.0.0.1:8085", "notification-service-2": "127.0.0.1:8095",
	}
	if len(got) != len(want) {
		t.Errorf("processes %v, want %v", got, want)
	}
	for name, addr := range want {
		if got[name] != addr {
			t.Errorf("%s listens on %q, want %q", name, got[name], addr)
		}
	}
	for _, p := range Services("bin", DefaultAddrs) {
		if strings.HasSuffix(p.Name, "-1") {
			t.Errorf("a single replica is named %q, want the service's name", p.Name)
		}
	}
}
