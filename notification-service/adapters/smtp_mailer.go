package adapters

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"time"

	"github.com/edmshop/edm-shop/notification-service/app"
	"github.com/edmshop/edm-shop/notification-service/domain"
)

// SMTPMailer sends e-mails to one SMTP server (Mailpit in compose, the sink in the sandbox),
// without authentication or TLS: both are local development servers.
type SMTPMailer struct {
	// Addr is the server's host:port.
	Addr string
	// Timeout bounds one whole SMTP exchange.
	Timeout time.Duration
	// HeloName is what the client says in EHLO.
	HeloName string
}

// NewSMTPMailer returns a mailer for the server at addr with a 10 s timeout.
func NewSMTPMailer(addr string) *SMTPMailer {
	return &SMTPMailer{Addr: addr, Timeout: 10 * time.Second, HeloName: "notification-service"}
}

var _ app.Mailer = (*SMTPMailer)(nil)

// Send implements app.Mailer. A 5xx reply wraps app.ErrRejected; anything else (no server,
// 4xx, a cut connection) is transient and the caller retries.
func (m *SMTPMailer) Send(ctx context.Context, e domain.Email) (err error) {
	ctx, cancel := context.WithTimeout(ctx, m.Timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", m.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(m.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return classify(err)
	}
	defer c.Close()
	if err := c.Hello(m.HeloName); err != nil {
		return classify(err)
	}
	from, err := addressOf(e.From)
	if err != nil {
		return fmt.Errorf("%w: from %q: %v", app.ErrRejected, e.From, err)
	}
	if err := c.Mail(from); err != nil {
		return classify(err)
	}
	if err := c.Rcpt(e.To); err != nil {
		return classify(err)
	}
	w, err := c.Data()
	if err != nil {
		return classify(err)
	}
	if _, err := w.Write(e.Bytes(time.Now())); err != nil {
		return classify(err)
	}
	// Close sends the final dot and reads the reply: once it returns nil the server has
	// taken responsibility for the e-mail. QUIT after that is a courtesy.
	if err := w.Close(); err != nil {
		return classify(err)
	}
	c.Quit()
	return nil
}

// classify wraps a permanent SMTP reply (5xx) in app.ErrRejected.
func classify(err error) error {
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 {
		return fmt.Errorf("%w: %v", app.ErrRejected, err)
	}
	return err
}
