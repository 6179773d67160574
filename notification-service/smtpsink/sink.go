// Package smtpsink is a tiny SMTP server that keeps the newest e-mails it accepts in memory and
// lists them over HTTP: the sandbox's stand-in for Mailpit. Its HTTP API answers the few Mailpit calls
// the platform uses (GET /api/v1/messages, GET /api/v1/search?query=message-id:"..."), so the same
// client works against both, plus a plain GET /messages for people.
package smtpsink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/edmshop/edm-shop/platform/httpx"
)

// MaxMessageBytes bounds one e-mail; a larger one is refused with 552.
const MaxMessageBytes = 1 << 20

// Message is one accepted e-mail. Field names follow Mailpit's message summary.
type Message struct {
	ID            string    `json:"ID"`
	MessageID     string    `json:"MessageID"`
	From          string    `json:"From"`
	To            []string  `json:"To"`
	Subject       string    `json:"Subject"`
	TransactionID string    `json:"TransactionID,omitempty"`
	Created       time.Time `json:"Created"`
	// Text is the body with LF line ends (the DATA stream's CRLF and dot-stuffing undone).
	Text string `json:"Text"`
}

// DefaultKeep is how many e-mails a Sink keeps unless Keep says otherwise.
const DefaultKeep = 10_000

// Sink accepts e-mails over SMTP and keeps the newest of them.
type Sink struct {
	// NoPipelining makes EHLO leave PIPELINING out, as some servers do, so that clients can be
	// tested against both kinds. Set it before serving.
	NoPipelining bool
	// DeferRecipient, when set, makes RCPT answer 450 for the addresses it reports, as a relay
	// does for a domain it cannot resolve for now, so that clients can be tested against a
	// refusal that never ends. Set it before serving.
	DeferRecipient func(addr string) bool
	// Keep is how many e-mails the sink keeps, the newest; older ones are forgotten, as
	// Mailpit's --max does (its default is 500). 0 means DefaultKeep. Keeping every e-mail
	// grew the sandbox's heap, which the saga's services share, by each order for as long as
	// it ran. Set it before serving.
	Keep int

	log *slog.Logger
	mu  sync.Mutex
	seq int
	all []Message
}

// New returns an empty sink.
func New(log *slog.Logger) *Sink {
	if log == nil {
		log = slog.Default()
	}
	return &Sink{log: log}
}

// Messages returns the e-mails kept, oldest first.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.all[max(0, len(s.all)-s.keep()):]...)
}

func (s *Sink) keep() int {
	if s.Keep > 0 {
		return s.Keep
	}
	return DefaultKeep
}

// Clear forgets every e-mail.
func (s *Sink) Clear() {
	s.mu.Lock()
	s.all = nil
	s.mu.Unlock()
}

func (s *Sink) add(m Message) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	m.ID = strconv.Itoa(s.seq)
	s.all = append(s.all, m)
	// Forgotten a quarter of Keep at a time, so that adding stays O(1) amortised; Messages
	// shows only the newest Keep meanwhile.
	if keep := s.keep(); len(s.all) >= keep+keep/4+1 {
		s.all = append([]Message(nil), s.all[len(s.all)-keep:]...)
	}
	return m.ID
}

// ServeSMTP accepts SMTP sessions on l until ctx is cancelled.
func (s *Sink) ServeSMTP(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Go(func() {
			defer conn.Close()
			closeOnCancel := context.AfterFunc(ctx, func() { conn.Close() })
			defer closeOnCancel()
			s.session(conn)
		})
	}
}

// session speaks the server side of one SMTP session: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP
// and QUIT, which is all a client needs to hand over an e-mail. A session carries any number
// of e-mails. It offers PIPELINING: replies are buffered and written only when the client has
// sent nothing more, so a pipelined MAIL, RCPT and DATA cost one write.
func (s *Sink) session(conn net.Conn) {
	tp := textproto.NewConn(conn)
	reply := func(code int, text string) {
		fmt.Fprintf(tp.W, "%d %s\r\n", code, text)
	}
	flush := func() bool {
		conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
		return tp.W.Flush() == nil
	}
	reply(220, "edm-shop smtp sink ready")
	var from string
	var to []string
	for {
		// Only a read that must wait for the client needs the replies out and a deadline.
		if tp.R.Buffered() == 0 {
			if !flush() {
				return
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
		}
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "HELO":
			from, to = "", nil
			reply(250, "edm-shop")
		case "EHLO":
			from, to = "", nil
			if s.NoPipelining {
				tp.W.WriteString("250-edm-shop\r\n250 8BITMIME\r\n")
			} else {
				tp.W.WriteString("250-edm-shop\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
			}
		case "MAIL":
			addr, ok := pathArg(arg, "FROM:")
			if !ok {
				reply(501, "syntax: MAIL FROM:<address>")
				continue
			}
			from, to = addr, nil
			reply(250, "OK")
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			if !ok || addr == "" {
				reply(501, "syntax: RCPT TO:<address>")
				continue
			}
			if s.DeferRecipient != nil && s.DeferRecipient(addr) {
				reply(450, "mailbox unavailable for now, try again later")
				continue
			}
			to = append(to, addr)
			reply(250, "OK")
		case "DATA":
			if len(to) == 0 {
				reply(503, "RCPT first")
				continue
			}
			reply(354, "end data with <CR><LF>.<CR><LF>")
			if !flush() { // a client waits for 354 before it sends the data
				return
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
			dot := tp.DotReader()
			data, err := io.ReadAll(io.LimitReader(dot, MaxMessageBytes+1))
			if err != nil {
				return
			}
			if len(data) > MaxMessageBytes {
				if _, err := io.Copy(io.Discard, dot); err != nil {
					return
				}
				reply(552, "message too large")
				from, to = "", nil
				continue
			}
			id, err := s.accept(from, to, data)
			if err != nil {
				reply(554, "cannot parse message: "+err.Error())
			} else {
				reply(250, "OK queued as "+id)
			}
			from, to = "", nil
		case "RSET":
			from, to = "", nil
			reply(250, "OK")
		case "NOOP":
			reply(250, "OK")
		case "QUIT":
			reply(221, "bye")
			flush()
			return
		default:
			reply(502, "command not implemented")
		}
	}
}

// pathArg reads "FROM:<a@b> SIZE=1" as a@b.
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	addr, _, ok := strings.Cut(rest[1:], ">")
	return addr, ok
}

func (s *Sink) accept(from string, to []string, data []byte) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return "", err
	}
	m := Message{
		MessageID:     strings.Trim(strings.TrimSpace(msg.Header.Get("Message-Id")), "<>"),
		From:          from,
		To:            to,
		Subject:       msg.Header.Get("Subject"),
		TransactionID: msg.Header.Get("X-Edm-Transaction-Id"),
		Created:       time.Now().UTC(),
		Text:          string(body),
	}
	id := s.add(m)
	s.log.Info("e-mail received", "id", id, "messageId", m.MessageID, "to", strings.Join(to, ","), "subject", m.Subject)
	return id, nil
}

// Run serves SMTP on smtpAddr and the HTTP API on httpAddr until ctx is cancelled.
func (s *Sink) Run(ctx context.Context, smtpAddr, httpAddr string) error {
	smtpL, err := net.Listen("tcp", smtpAddr)
	if err != nil {
		return fmt.Errorf("smtp sink: %w", err)
	}
	httpL, err := net.Listen("tcp", httpAddr)
	if err != nil {
		smtpL.Close()
		return fmt.Errorf("smtp sink: %w", err)
	}
	return s.Serve(ctx, smtpL, httpL)
}

// Serve serves SMTP on smtpL and the HTTP API on httpL, closing both, until ctx is cancelled.
func (s *Sink) Serve(ctx context.Context, smtpL, httpL net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- s.ServeSMTP(ctx, smtpL) }()
	go func() { errs <- httpx.ServeListener(ctx, httpL, s.Handler()) }()
	err := <-errs
	cancel()
	return errors.Join(err, <-errs)
}
