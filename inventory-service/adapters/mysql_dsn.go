package adapters

import (
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQL network timeouts that WithMySQLTimeouts sets when a DSN names none. They sit inside
// kafka.DefaultHandlerTimeout (10 s), so a MySQL server that stops answering fails the store
// call, and the consumer retries the event, before the handler's own timeout: a dead TCP peer
// never holds a connection, and the partition behind it, until the kernel gives up. A statement
// can still wait out a whole read timeout; the reconnect after it gives up at the handler's
// deadline (sqldb.Writer), so an attempt lasts about the handler timeout, not two read timeouts.
const (
	MySQLDialTimeout  = 5 * time.Second
	MySQLReadTimeout  = 8 * time.Second
	MySQLWriteTimeout = 8 * time.Second
)

// WithMySQLTimeouts returns dsn with timeout, readTimeout and writeTimeout set to
// MySQLDialTimeout, MySQLReadTimeout and MySQLWriteTimeout where dsn leaves them unset; values
// in dsn are kept.
func WithMySQLTimeouts(dsn string) (string, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("mysql dsn: %w", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = MySQLDialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = MySQLReadTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = MySQLWriteTimeout
	}
	return cfg.FormatDSN(), nil
}
