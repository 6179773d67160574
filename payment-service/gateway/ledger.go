package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Kinds of ledger entries.
const (
	kindCharge = "charge" // a charge answered for a key (approved or declined)
	kindFlaky  = "flaky"  // a key's first pm_card_flaky attempt failed
	kindRefund = "refund" // a refund key answered (refund, void, or nothing to refund)
)

// entry is one change to the ledger, one JSON line in the journal file.
type entry struct {
	Kind   string          `json:"kind"`
	Key    string          `json:"key"`
	Params *ChargeParams   `json:"params,omitempty"`
	Charge *Charge         `json:"charge,omitempty"`
	Refund *Refund         `json:"refund,omitempty"`
	Status int             `json:"status,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
}

// apply makes e part of the ledger in memory. The caller holds s.mu (or owns s alone).
func (s *Server) apply(e entry) error {
	if e.Key == "" {
		return errors.New("entry has no key")
	}
	switch e.Kind {
	case kindCharge:
		if e.Params == nil || e.Charge == nil || e.Status == 0 || len(e.Body) == 0 {
			return errors.New("charge entry is incomplete")
		}
		s.charges.add(e)
	case kindFlaky:
		s.flakySeen[e.Key] = true
	case kindRefund:
		if e.Refund == nil || e.Status == 0 || len(e.Body) == 0 {
			return errors.New("refund entry is incomplete")
		}
		s.refundKeys[e.Key] = refundAnswer{chargeKey: e.Refund.ChargeIdempotencyKey, status: e.Status, body: e.Body}
		if e.Refund.Status != RefundNotCharged && s.refunds[e.Refund.ChargeIdempotencyKey] == nil {
			r := *e.Refund
			s.refunds[r.ChargeIdempotencyKey] = &r
		}
	default:
		return fmt.Errorf("unknown entry kind %q", e.Kind)
	}
	return nil
}

// ledger is the journal file: every entry is written before the gateway answers, so whatever a
// client was told survives the gateway process being killed.
type ledger struct {
	f *os.File
}

// openLedger opens (creating it and its directory if need be) the journal at path and applies
// every entry in it. A last line cut short by a crash is dropped: its request was never
// answered. Any other unreadable line fails, rather than risk charging a key twice.
func openLedger(path string, apply func(entry) error) (*ledger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("gateway ledger: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("gateway ledger: %w", err)
	}
	good, err := replay(f, apply)
	if err == nil {
		err = f.Truncate(good)
	}
	if err == nil {
		_, err = f.Seek(good, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gateway ledger %s: %w", path, err)
	}
	return &ledger{f: f}, nil
}

// replay applies each complete line of r and returns the offset after the last one.
func replay(r io.Reader, apply func(entry) error) (int64, error) {
	br := bufio.NewReader(r)
	var good int64
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return good, nil // an unterminated last line is a torn write
		}
		if err != nil {
			return good, err
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			var e entry
			if err := json.Unmarshal(t, &e); err != nil {
				return good, fmt.Errorf("line %d: %w", n, err)
			}
			if err := apply(e); err != nil {
				return good, fmt.Errorf("line %d: %w", n, err)
			}
		}
		good += int64(len(line))
	}
}

func (l *ledger) append(e entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	at, err := l.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		// Cut off what part of the line was written, so the next entry starts a clean line.
		_ = l.f.Truncate(at)
		_, _ = l.f.Seek(at, io.SeekStart)
		return err
	}
	// No fsync: the line is in the kernel once write returns, which is all a killed and
	// restarted gateway needs (the crash `make stack` recovers from); surviving a power cut is
	// not worth the 10x slower charges of a simulator.
	return nil
}

func (l *ledger) close() error { return l.f.Close() }
