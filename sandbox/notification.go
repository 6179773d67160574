package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"

	notificationapp "github.com/edmshop/edm-shop/notification-service/app"
	notification "github.com/edmshop/edm-shop/notification-service/service"
	"github.com/edmshop/edm-shop/notification-service/smtpsink"
	"github.com/edmshop/edm-shop/platform/bootstrap"
	"github.com/edmshop/edm-shop/platform/config"
)

// notificationPart runs notification-service on its own, so that a test can stop it (as a
// crash would: whatever it had not recorded is lost) and start it again over the same store
// file, while the rest of the sandbox keeps running.
type notificationPart struct {
	cfg  notification.Config
	wrap func(notificationapp.Store, notificationapp.Mailer) (notificationapp.Store, notificationapp.Mailer)
	log  *slog.Logger
	opts []bootstrap.Option
	fail func(error)

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs notification-service under parent until stop or parent ends it.
func (p *notificationPart) start(parent context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	p.cancel, p.done = cancel, done
	cfg := p.cfg
	// The first run serves on the listener the sandbox bound; the server closes it when it
	// stops, so a restart binds the same address again.
	p.cfg.Listener = nil
	go func() {
		defer close(done)
		if err := notification.Run(ctx, cfg, notification.Parts{Wrap: p.wrap}, p.log, p.opts...); err != nil && ctx.Err() == nil {
			p.fail(fmt.Errorf("notification-service: %w", err))
		}
	}()
}

// kill cancels notification-service without waiting: safe to call from inside its handlers.
func (p *notificationPart) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cancel != nil {
		p.cancel()
	}
}

// wait returns once the running notification-service has stopped.
func (p *notificationPart) wait() {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done != nil {
		<-done
	}
}

// KillNotification stops notification-service alone, without waiting for it: it may be called
// from inside its store or mailer (see Config.WrapNotification), which is how a test stops it
// between sending an e-mail and recording it. Its offsets stay where they were committed.
func (sb *Sandbox) KillNotification() { sb.notification.kill() }

// RestartNotification waits for a stopped notification-service to finish, starts it again over
// the same store file and returns once it is ready.
func (sb *Sandbox) RestartNotification(ctx context.Context) error {
	sb.notification.kill()
	sb.notification.wait()
	sb.notification.start(sb.runCtx)
	return sb.waitReadyURLs(ctx, sb.NotificationURL)
}

// startMail starts the SMTP sink and notification-service, which sends to it and asks its
// Mailpit-shaped API whether an interrupted e-mail got through.
func (sb *Sandbox) startMail(ctx context.Context, cfg Config, log *slog.Logger, dataDir string, brokers string, topics config.Topics,
	notificationL, smtpL, mailL net.Listener, opts ...bootstrap.Option) {
	sb.Mail = smtpsink.New(log.With("service", "smtp-sink"))
	sb.MailURL = "http://" + mailL.Addr().String()
	sb.SMTPAddr = smtpL.Addr().String()
	sb.NotificationURL = "http://" + notificationL.Addr().String()
	sb.spawn("smtp-sink", func() error { return sb.Mail.Serve(ctx, smtpL, mailL) })
	sb.notification = &notificationPart{
		cfg: notification.Config{
			Service:    config.Service{HTTPAddr: notificationL.Addr().String(), Listener: notificationL, Brokers: brokers, Topics: topics, GroupID: notification.Name},
			SMTPAddr:   sb.SMTPAddr,
			MailboxURL: sb.MailURL,
			DBPath:     filepath.Join(dataDir, "notifications.db"),
		},
		wrap: cfg.WrapNotification,
		log:  log,
		opts: opts,
		fail: func(err error) {
			sb.mu.Lock()
			if sb.err == nil {
				sb.err = err
			}
			sb.mu.Unlock()
			sb.cancel()
		},
	}
	sb.runCtx = ctx
	sb.wg.Add(1)
	sb.notification.start(ctx)
	go func() {
		// The sandbox's wait group holds until notification-service, restarted or not, stopped
		// with the sandbox.
		defer sb.wg.Done()
		<-ctx.Done()
		sb.notification.wait()
	}()
}
