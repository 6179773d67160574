package adapters_test

import (
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/platform/kafka"
)

func TestWithMySQLTimeouts(t *testing.T) {
	cases := []struct {
		name                 string
		dsn                  string
		dial, read, write    time.Duration
		wantParseTime, isErr bool
	}{
		{"defaults where unset", "inventory@tcp(127.0.0.1:3306)/inventory?parseTime=true",
			adapters.MySQLDialTimeout, adapters.MySQLReadTimeout, adapters.MySQLWriteTimeout, true, false},
		{"explicit values kept", "u:p@tcp(db:3306)/inv?timeout=1s&readTimeout=2s&writeTimeout=3s",
			time.Second, 2 * time.Second, 3 * time.Second, false, false},
		{"one explicit, the others defaulted", "u@tcp(db:3306)/inv?readTimeout=4s",
			adapters.MySQLDialTimeout, 4 * time.Second, adapters.MySQLWriteTimeout, false, false},
		{"an unparsable DSN is an error", "not a dsn", 0, 0, 0, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := adapters.WithMySQLTimeouts(c.dsn)
			if (err != nil) != c.isErr {
				t.Fatalf("err = %v, want error %v", err, c.isErr)
			}
			if c.isErr {
				return
			}
			cfg, err := mysql.ParseDSN(got)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Timeout != c.dial || cfg.ReadTimeout != c.read || cfg.WriteTimeout != c.write || cfg.ParseTime != c.wantParseTime {
				t.Errorf("%s: timeout %v read %v write %v parseTime %v, want %v %v %v %v", got,
					cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout, cfg.ParseTime, c.dial, c.read, c.write, c.wantParseTime)
			}
		})
	}
}

func TestMySQLTimeoutsAreInsideTheHandlerTimeout(t *testing.T) {
	for name, d := range map[string]time.Duration{"dial": adapters.MySQLDialTimeout, "read": adapters.MySQLReadTimeout, "write": adapters.MySQLWriteTimeout} {
		if d <= 0 || d >= kafka.DefaultHandlerTimeout {
			t.Errorf("MySQL %s timeout %v is not inside the handler timeout %v", name, d, kafka.DefaultHandlerTimeout)
		}
	}
}
