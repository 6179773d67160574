package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edmshop/edm-shop/sandbox"
)

// The doc-test runner: the shell blocks of README.md that are marked for it
// run, in order, against a fresh sandbox, so the tutorial cannot drift from the code.
//
// Marking. An HTML comment on the line right before a ```sh (or ```bash) fence marks the block:
//
//	<!-- doctest -->                 run the block
//	<!-- doctest needs=kcat -->      run it only when kcat is on PATH (else it is skipped, logged)
//
// Addresses. Blocks reach the platform through $ORDER, $INVENTORY, $PAYMENT, $GATEWAY, $MAIL (base URLs),
// $KAFKA (the broker) and $ADMIN_TOKEN. The runner sets them to the sandbox it started on free
// ports; a learner's shell gets them from the tutorial's first block, which defaults them to
// `make run`'s addresses (ORDER=${ORDER:-http://localhost:8081} ...) without overriding them.
//
// State. Each block runs in its own `bash -eo pipefail` with `set -a`, and the environment it
// ends with is the next block's, so a variable one block sets (ID=...) is there in the next.
//
// Checks. A block must exit 0. A line `# => text` checks that what the commands printed since the
// previous check (or the block's start) contains text: `# => HTTP/1.1 202`, `# => "status":"COMPLETED"`.
// Each block has doctestTimeout to finish, so a poll loop that never ends fails instead of hanging.

const doctestTimeout = 90 * time.Second

// doctestDeadline is the ORDER_DEADLINE of the sandbox the tutorial runs against.
const doctestDeadline = 10 * time.Second

// doctestFiles are read in this order; a missing one is skipped.
var doctestFiles = []string{"../README.md"}

type doctest struct {
	file  string
	line  int // of the opening fence
	needs []string
	code  string
}

var doctestMarker = regexp.MustCompile(`^<!--\s*doctest(\s+needs=([\w,.-]+))?\s*-->\s*$`)

// parseDoctests returns the marked shell blocks of a Markdown document, in order.
func parseDoctests(file string, md []byte) ([]doctest, error) {
	var out []doctest
	sc := bufio.NewScanner(bytes.NewReader(md))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var marked *doctest
	var body *strings.Builder
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case body != nil:
			if strings.TrimSpace(line) == "```" {
				marked.code = body.String()
				out = append(out, *marked)
				marked, body = nil, nil
				continue
			}
			body.WriteString(line + "\n")
		case marked != nil:
			fence := strings.TrimSpace(line)
			if fence != "```sh" && fence != "```bash" && fence != "```shell" {
				return nil, fmt.Errorf("%s:%d: a doctest marker must be followed by a ```sh block, not %q", file, n, line)
			}
			marked.line = n
			body = &strings.Builder{}
		default:
			if m := doctestMarker.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				marked = &doctest{file: file}
				if m[2] != "" {
					marked.needs = strings.Split(m[2], ",")
				}
			}
		}
	}
	if marked != nil {
		return nil, fmt.Errorf("%s: a doctest block is not closed", file)
	}
	return out, sc.Err()
}

const checkpoint = "@@doctest-checkpoint@@"

// script turns a block into the bash it runs and the texts its checkpoints expect.
func (d doctest) script(envOut string) (string, []string) {
	var sb strings.Builder
	var want []string
	sb.WriteString("set -a -eo pipefail\n")
	for _, line := range strings.Split(d.code, "\n") {
		if text, ok := strings.CutPrefix(strings.TrimSpace(line), "# =>"); ok {
			want = append(want, strings.TrimSpace(text))
			sb.WriteString("echo " + checkpoint + "\n")
			continue
		}
		sb.WriteString(line + "\n")
	}
	sb.WriteString("env -0 > " + shellQuote(envOut) + "\n")
	return sb.String(), want
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// run executes the block with env in dir and returns the environment it ended with.
func (d doctest) run(ctx context.Context, dir string, env []string) ([]string, error) {
	envOut := filepath.Join(dir, ".doctest-env")
	code, want := d.script(envOut)
	ctx, cancel := context.WithTimeout(ctx, doctestTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", code)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s:%d: did not finish within %s; output:\n%s", d.file, d.line, doctestTimeout, out.String())
	}
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %v; output:\n%s", d.file, d.line, err, out.String())
	}
	segments := strings.Split(out.String(), checkpoint+"\n")
	for i, w := range want {
		if i >= len(segments) || !strings.Contains(segments[i], w) {
			got := ""
			if i < len(segments) {
				got = segments[i]
			}
			return nil, fmt.Errorf("%s:%d: check %d wants output containing %q, got:\n%s", d.file, d.line, i+1, w, got)
		}
	}
	raw, err := os.ReadFile(envOut)
	if err != nil {
		return nil, err
	}
	var next []string
	for _, kv := range strings.Split(string(raw), "\x00") {
		if kv != "" {
			next = append(next, kv)
		}
	}
	return next, nil
}

// runDoctests runs blocks in order from env; a block whose needs are missing is skipped.
func runDoctests(ctx context.Context, t *testing.T, blocks []doctest, env []string) error {
	dir := t.TempDir()
	for _, b := range blocks {
		missing := ""
		for _, need := range b.needs {
			if _, err := exec.LookPath(need); err != nil {
				missing = need
			}
		}
		if missing != "" {
			t.Logf("%s:%d: skipped, %s is not installed", b.file, b.line, missing)
			continue
		}
		next, err := b.run(ctx, dir, env)
		if err != nil {
			return err
		}
		t.Logf("%s:%d: ok", b.file, b.line)
		env = next
	}
	return nil
}

// TestReadme runs the marked blocks of README.md against a fresh sandbox.
func TestReadme(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the tutorial's commands need curl")
	}
	var blocks []doctest
	for _, f := range doctestFiles {
		md, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		bs, err := parseDoctests(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), md)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, bs...)
	}
	if len(blocks) == 0 {
		t.Fatalf("no <!-- doctest --> block in %v: the tutorial is not tested", doctestFiles)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logOut = os.Stderr
	}
	const token = "doctest-admin"
	// A deadline short enough that the tutorial's expired order is cancelled within the block's
	// time, long enough that the other paths settle before it even on a loaded machine.
	sb, err := sandbox.Start(context.Background(), sandbox.Config{AdminToken: token, OrderDeadline: doctestDeadline,
		Log: slog.New(slog.NewTextHandler(logOut, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb.Stop()
		if err := sb.Wait(); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C",
		"ORDER=" + sb.OrderURL, "INVENTORY=" + sb.InventoryURL, "PAYMENT=" + sb.PaymentURL, "GATEWAY=" + sb.GatewayURL,
		"MAIL=" + sb.MailURL, "KAFKA=" + sb.Brokers, "ADMIN_TOKEN=" + token,
	}
	if err := runDoctests(context.Background(), t, blocks, env); err != nil {
		t.Fatal(err)
	}
}

// TestDoctestRunner shows the runner fails a block that drifted: a wrong status, a failing
// command, a check whose text is missing; and that state carries from block to block.
func TestDoctestRunner(t *testing.T) {
	md := func(blocks ...string) []byte {
		var b strings.Builder
		for _, code := range blocks {
			b.WriteString("text\n<!-- doctest -->\n```sh\n" + code + "\n```\n\n```sh\nnot marked: never run\n```\n")
		}
		return []byte(b.String())
	}
	cases := []struct {
		name    string
		doc     []byte
		wantErr string
	}{
		{"checks hold", md("echo 'HTTP/1.1 202 Accepted'\n# => 202\necho done\n# => done"), ""},
		{"a variable carries to the next block", md("ID=tx-42", "echo \"order $ID\"\n# => order tx-42"), ""},
		{"another status", md("echo 'HTTP/1.1 400 Bad Request'\n# => 202"), `wants output containing "202"`},
		{"a check sees only its own commands", md("echo 202\n# => 202\necho 400\n# => 202"), "check 2"},
		{"a failing command", md("false\necho never"), "exit status 1"},
		{"a failing pipeline", md("false | cat"), "exit status 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			blocks, err := parseDoctests("doc.md", c.doc)
			if err != nil {
				t.Fatal(err)
			}
			err = runDoctests(context.Background(), t, blocks, []string{"PATH=" + os.Getenv("PATH")})
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("runner failed: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error = %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
	t.Run("a marker before something other than a shell block", func(t *testing.T) {
		if _, err := parseDoctests("doc.md", []byte("<!-- doctest -->\n```go\n```\n")); err == nil {
			t.Error("parsed")
		}
	})
	t.Run("needs skips a block whose tool is missing", func(t *testing.T) {
		blocks, err := parseDoctests("doc.md", []byte("<!-- doctest needs=no-such-tool-xyz -->\n```sh\nfalse\n```\n"))
		if err != nil || len(blocks) != 1 || blocks[0].needs[0] != "no-such-tool-xyz" {
			t.Fatalf("parsed %+v, %v", blocks, err)
		}
		if err := runDoctests(context.Background(), t, blocks, nil); err != nil {
			t.Error(err)
		}
	})
}
