// Package stack runs the services as separate OS processes, the way docker compose runs them:
// each with its own environment, its output prefixed with its name, and restarted when it dies
// (compose's restart: unless-stopped).
package stack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process describes one program the Supervisor keeps running.
type Process struct {
	Name string
	Path string
	Args []string
	// Env is added to the supervisor's own environment.
	Env []string
}

// Supervisor keeps its processes running until Stop.
type Supervisor struct {
	out io.Writer

	mu      sync.Mutex
	running map[string]*exec.Cmd
	starts  map[string]int
	holds   map[string]time.Time // no restart before this time
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

// Start launches every process and restarts any that exits, one second later, until Stop.
// Their output goes to out, each line prefixed with the process name.
func Start(procs []Process, out io.Writer) *Supervisor {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Supervisor{out: &lockedWriter{w: out}, running: map[string]*exec.Cmd{}, starts: map[string]int{}, holds: map[string]time.Time{}, cancel: cancel}
	for _, p := range procs {
		s.wg.Add(1)
		go s.keepRunning(ctx, p)
	}
	return s
}

func (s *Supervisor) keepRunning(ctx context.Context, p Process) {
	defer s.wg.Done()
	for ctx.Err() == nil {
		cmd := exec.Command(p.Path, p.Args...)
		cmd.Env = append(os.Environ(), p.Env...)
		output := prefixWriter(s.out, p.Name)
		cmd.Stdout, cmd.Stderr = output, output
		if err := cmd.Start(); err != nil {
			output.Close()
			fmt.Fprintf(s.out, "[%s] start: %v\n", p.Name, err)
		} else {
			s.mu.Lock()
			s.running[p.Name] = cmd
			s.starts[p.Name]++
			s.mu.Unlock()
			stopped := make(chan struct{})
			go func() {
				select {
				case <-ctx.Done():
					// Ask politely first, as docker stop does.
					_ = cmd.Process.Signal(syscall.SIGTERM)
					select {
					case <-stopped:
					case <-time.After(10 * time.Second):
						_ = cmd.Process.Kill()
					}
				case <-stopped:
				}
			}()
			err := cmd.Wait()
			close(stopped)
			output.Close()
			s.mu.Lock()
			delete(s.running, p.Name)
			s.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			fmt.Fprintf(s.out, "[%s] exited (%v); restarting\n", p.Name, err)
		}
		s.mu.Lock()
		wait := max(time.Second, time.Until(s.holds[p.Name]))
		s.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

// Kill sends SIGKILL to the named process, as a crash would; the supervisor restarts it.
func (s *Supervisor) Kill(name string) error { return s.signal(name, syscall.SIGKILL) }

// Restart sends SIGTERM to the named process, as a deploy stops a service's old version, and
// the supervisor starts it again from its Path: a new build put there meanwhile is deployed.
func (s *Supervisor) Restart(name string) error { return s.signal(name, syscall.SIGTERM) }

func (s *Supervisor) signal(name string, sig syscall.Signal) error {
	s.mu.Lock()
	cmd := s.running[name]
	s.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("%s is not running", name)
	}
	return cmd.Process.Signal(sig)
}

// KillFor sends SIGKILL to the named process and restarts it no sooner than hold later, so that
// what the others do without it (a consumer-group rebalance, taking over its outbox rows) can
// be watched.
func (s *Supervisor) KillFor(name string, hold time.Duration) error {
	s.mu.Lock()
	s.holds[name] = time.Now().Add(hold)
	s.mu.Unlock()
	return s.Kill(name)
}

// Starts reports how many times the named process has been started.
func (s *Supervisor) Starts(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts[name]
}

// Stop terminates every process (SIGTERM, then SIGKILL after 10 s) and waits for them.
func (s *Supervisor) Stop() {
	s.cancel()
	s.wg.Wait()
}

// lockedWriter serialises the lines of all processes onto one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter returns a writer that copies each line to out as "[name] line" until closed.
func prefixWriter(out io.Writer, name string) io.WriteCloser {
	r, w := io.Pipe()
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			fmt.Fprintf(out, "[%s] %s\n", name, sc.Text())
		}
		// A line too long to scan must not stall the process on a full pipe: keep draining.
		_, _ = io.Copy(io.Discard, r)
	}()
	return w
}
