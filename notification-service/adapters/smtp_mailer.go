package adapters

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/notification-service/domain"
)

// Defaults of an SMTPMailer. DefaultSMTPSessions: each e-mail holds a session for two round
// trips, so sessions bound the e-mails per second; with 8, notification-service sent ~800 a
// second and fell further behind every second of a 1,800 orders/s closed loop (its events
// waited 6.4 s on average by the loop's end, the backlog sent after it); 32 still fell behind
// (2.8 s), 64 kept up (80 ms). Mailpit and the sandbox's sink take any number of sessions.
const (
	DefaultSMTPTimeout     = 10 * time.Second
	DefaultSMTPSessions    = 64
	DefaultSMTPIdleTimeout = 30 * time.Second
)

// SMTPMailer sends e-mails to one SMTP server (Mailpit in compose, the sink in the sandbox),
// without authentication or TLS: both are local development servers.
//
// It keeps a few SMTP sessions open and sends one e-mail after another over each: a dial,
// EHLO and QUIT per e-mail cost more CPU, on both sides, than the e-mail itself. When the
// server offers PIPELINING, MAIL, RCPT and DATA go in one write, so an e-mail takes two round
// trips. A session is dropped after any error that leaves it in doubt and when it has been
// idle for IdleTimeout (servers drop idle clients); an e-mail whose reused session turns out to
// be dead before the e-mail was handed over is sent once more on a new one.
type SMTPMailer struct {
	// Addr is the server's host:port.
	Addr string
	// Timeout bounds one Send, including waiting for a session and dialling.
	Timeout time.Duration
	// HeloName is what the client says in EHLO.
	HeloName string
	// Sessions bounds how many Sends run at once, so how many sessions are open (a Send
	// beyond that waits for one to finish).
	Sessions int
	// IdleTimeout is how long a session may stay unused and still be reused.
	IdleTimeout time.Duration

	once   sync.Once
	slots  chan struct{} // one token per open or opening session
	mu     sync.Mutex
	idle   []*smtpSession // most recently used last
	closed bool
}

// NewSMTPMailer returns a mailer for the server at addr with the defaults above.
func NewSMTPMailer(addr string) *SMTPMailer {
	return &SMTPMailer{Addr: addr, Timeout: DefaultSMTPTimeout, HeloName: "notification-service",
		Sessions: DefaultSMTPSessions, IdleTimeout: DefaultSMTPIdleTimeout}
}

var _ app.Mailer = (*SMTPMailer)(nil)

// errClosed: Send was called after Close.
var errClosed = errors.New("smtp mailer closed")

// smtpSession is one open SMTP session, greeted and past EHLO.
type smtpSession struct {
	conn       net.Conn
	text       *textproto.Conn
	pipelining bool
	used       time.Time
}

func (m *SMTPMailer) init() {
	m.once.Do(func() {
		if m.Sessions <= 0 {
			m.Sessions = DefaultSMTPSessions
		}
		if m.Timeout <= 0 {
			m.Timeout = DefaultSMTPTimeout
		}
		if m.IdleTimeout <= 0 {
			m.IdleTimeout = DefaultSMTPIdleTimeout
		}
		m.slots = make(chan struct{}, m.Sessions)
	})
}

// Send implements app.Mailer. A 5xx reply wraps app.ErrRejected, a 4xx reply to RCPT wraps
// app.ErrDeferred; anything else (no server, a 4xx to MAIL, DATA or the message, which is about
// the server, a 421 closing the session, a cut connection) is transient and the caller retries.
func (m *SMTPMailer) Send(ctx context.Context, e domain.Email) error {
	m.init()
	from, err := addressOf(e.From)
	if err != nil {
		return fmt.Errorf("%w: from %q: %v", app.ErrRejected, e.From, err)
	}
	ctx, cancel := context.WithTimeout(ctx, m.Timeout)
	defer cancel()
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for an smtp session: %w", ctx.Err())
	}
	defer func() { <-m.slots }()
	msg := e.Bytes(time.Now())
	for {
		s, reused := m.take()
		if s == nil {
			if s, err = m.dial(ctx); err != nil {
				return err
			}
		}
		handedOver, keep, err := s.send(ctx, from, e.To, msg)
		if keep {
			m.put(s)
			return classify(err)
		}
		s.close()
		// A reused session the server dropped while idle fails at once, before the e-mail
		// was handed over: that is no reason to fail the e-mail.
		if reused && !handedOver && ctx.Err() == nil {
			continue
		}
		return classify(err)
	}
}

// take returns an idle session that is still young enough to use, closing the stale ones.
func (m *SMTPMailer) take() (*smtpSession, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.idle) > 0 {
		s := m.idle[len(m.idle)-1]
		m.idle = m.idle[:len(m.idle)-1]
		if time.Since(s.used) < m.IdleTimeout {
			return s, true
		}
		s.close()
	}
	return nil, false
}

// put makes s idle, or ends it once the mailer is closed.
func (m *SMTPMailer) put(s *smtpSession) {
	s.used = time.Now()
	m.mu.Lock()
	if !m.closed {
		m.idle = append(m.idle, s)
		s = nil
	}
	m.mu.Unlock()
	if s != nil {
		s.quit()
	}
}

// Close ends the idle sessions with QUIT; sessions in use end when their Send returns.
func (m *SMTPMailer) Close() error {
	m.mu.Lock()
	m.closed = true
	idle := m.idle
	m.idle = nil
	m.mu.Unlock()
	for _, s := range idle {
		s.quit()
	}
	return nil
}

// dial opens a session: greeting and EHLO.
func (m *SMTPMailer) dial(ctx context.Context) (*smtpSession, error) {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", m.Addr, err)
	}
	s := &smtpSession{conn: conn, text: textproto.NewConn(conn)}
	defer s.bound(ctx)()
	if _, _, err := s.text.ReadResponse(220); err != nil {
		s.close()
		return nil, fmt.Errorf("smtp greeting from %s: %w", m.Addr, err)
	}
	ext, err := s.cmd(250, "EHLO %s", m.HeloName)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("smtp EHLO to %s: %w", m.Addr, err)
	}
	for _, line := range strings.Split(ext, "\n")[1:] {
		if strings.EqualFold(strings.TrimSpace(line), "PIPELINING") {
			s.pipelining = true
		}
	}
	return s, nil
}

// bound makes the session's I/O give up at ctx's deadline or cancellation; the returned
// function undoes it and reports false when ctx cut the session short.
func (s *smtpSession) bound(ctx context.Context) func() bool {
	deadline, _ := ctx.Deadline()
	s.conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(time.Unix(1, 0)) })
	return func() bool {
		if !stop() {
			return false
		}
		s.conn.SetDeadline(time.Time{})
		return true
	}
}

func (s *smtpSession) cmd(expect int, format string, args ...any) (string, error) {
	if err := s.text.PrintfLine(format, args...); err != nil {
		return "", err
	}
	_, msg, err := s.text.ReadResponse(expect)
	return msg, err
}

// send runs one mail transaction. handedOver reports whether the message itself may have
// reached the server (its data was being written): only before that is trying again on
// another session sure not to deliver the e-mail twice. keep reports whether the session is
// in a known state and can carry the next e-mail: after success or a reply that refused the
// e-mail (the transaction reset), not after an I/O error, a 421 or a cancelled context.
func (s *smtpSession) send(ctx context.Context, from, to string, msg []byte) (handedOver, keep bool, err error) {
	stop := s.bound(ctx)
	defer func() {
		if !stop() || (err != nil && (!isReply(err) || sessionEnds(err))) {
			keep = false
		}
	}()
	if s.pipelining {
		err = s.envelopePipelined(from, to)
	} else {
		err = s.envelope(from, to)
	}
	if err != nil {
		return false, true, err
	}
	w := s.text.DotWriter()
	if _, err := w.Write(msg); err != nil {
		return true, false, err
	}
	// Close sends the final dot; the reply says whether the server took the e-mail.
	if err := w.Close(); err != nil {
		return true, false, err
	}
	_, _, err = s.text.ReadResponse(250)
	return true, true, err
}

// envelope sends MAIL, RCPT and DATA one at a time, for servers without PIPELINING.
func (s *smtpSession) envelope(from, to string) error {
	if _, err := s.cmd(250, "MAIL FROM:<%s>", from); err != nil {
		return s.reset(err)
	}
	if _, err := s.cmd(25, "RCPT TO:<%s>", to); err != nil {
		return s.reset(rcptError{err})
	}
	if _, err := s.cmd(354, "DATA"); err != nil {
		return s.reset(err)
	}
	return nil
}

// envelopePipelined writes MAIL, RCPT and DATA at once (RFC 2920) and then reads the three
// replies; the first refusal is the error.
func (s *smtpSession) envelopePipelined(from, to string) error {
	w := s.text.W
	fmt.Fprintf(w, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", from, to)
	if err := w.Flush(); err != nil {
		return err
	}
	var first error
	for _, expect := range []int{250, 25} {
		if _, _, err := s.text.ReadResponse(expect); err != nil {
			if !isReply(err) {
				return err
			}
			if expect == 25 {
				err = rcptError{err}
			}
			first = cmp(first, err)
		}
	}
	_, _, err := s.text.ReadResponse(354)
	switch {
	case err != nil && !isReply(err):
		return err
	case err == nil && first != nil:
		// The server is waiting for data of a transaction that failed: an empty message
		// ends it, and RSET forgets it.
		if err := s.text.PrintfLine("."); err != nil {
			return err
		}
		if _, _, err := s.text.ReadResponse(0); err != nil && !isReply(err) {
			return err
		}
	}
	return s.reset(cmp(first, err))
}

// reset ends a refused transaction with RSET, so the session can carry the next e-mail, and
// returns err; if RSET gets no reply, that I/O error is returned instead, which drops the
// session.
func (s *smtpSession) reset(err error) error {
	if err == nil || !isReply(err) {
		return err
	}
	if _, rerr := s.cmd(250, "RSET"); rerr != nil && !isReply(rerr) {
		return fmt.Errorf("RSET after %v: %w", err, rerr)
	}
	return err
}

// quit ends the session politely.
func (s *smtpSession) quit() {
	s.conn.SetDeadline(time.Now().Add(time.Second))
	s.cmd(221, "QUIT")
	s.close()
}

func (s *smtpSession) close() { s.text.Close() }

func cmp(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// isReply reports whether err is an SMTP reply (the server answered), not an I/O error.
func isReply(err error) bool {
	var reply *textproto.Error
	return errors.As(err, &reply)
}

// sessionEnds reports whether the server said it is closing the session (421).
func sessionEnds(err error) bool {
	var reply *textproto.Error
	return errors.As(err, &reply) && reply.Code == 421
}

// rcptError is the server's reply to RCPT: a 4xx there is about the recipient (a deferral),
// where a 4xx to MAIL, DATA or the message is about the server.
type rcptError struct{ error }

func (e rcptError) Unwrap() error { return e.error }

// classify wraps a permanent SMTP reply (5xx) in app.ErrRejected, and a transient reply to
// RCPT (4xx, but 421, the server closing the session) in app.ErrDeferred.
func classify(err error) error {
	var reply *textproto.Error
	switch {
	case !errors.As(err, &reply):
		return err
	case reply.Code >= 500:
		return fmt.Errorf("%w: %v", app.ErrRejected, err)
	case reply.Code >= 400 && reply.Code != 421 && errors.As(err, new(rcptError)):
		return fmt.Errorf("%w: %v", app.ErrDeferred, err)
	}
	return err
}
