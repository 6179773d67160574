package adapters_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/edmshop/edm-shop/inventory-service/adapters"
	"github.com/edmshop/edm-shop/inventory-service/domain"
	"github.com/edmshop/edm-shop/platform/kafka"
	"github.com/edmshop/edm-shop/platform/sqldb"
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

func TestMySQLLockWaitEndsBeforeTheReadTimeout(t *testing.T) {
	if sqldb.MySQLLockWait >= adapters.MySQLReadTimeout {
		t.Errorf("a writer waits %v for a row lock, not less than the read timeout %v", sqldb.MySQLLockWait, adapters.MySQLReadTimeout)
	}
}

// TestMySQLALockHeldElsewhereFailsTheJobAlone: while another session holds a product's row, a
// restock of it fails with the server's lock wait timeout (1205), inside the read timeout, so
// the writer keeps its connection and its transaction, and the restock succeeds once the row
// is free. Past the read timeout the driver would drop the connection instead, and the server
// would keep that transaction's locks until its own wait ended (50 s by default).
func TestMySQLALockHeldElsewhereFailsTheJobAlone(t *testing.T) {
	dsn := freshMySQLDatabase(t)
	ctx := context.Background()
	repo, err := adapters.NewMySQLRepository(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	if _, _, err := repo.SetProduct(ctx, domain.Product{SKU: "HELD-1", Name: "Held", Price: 100, Currency: "EUR", Available: 10}); err != nil {
		t.Fatal(err)
	}
	holder, err := appDB(t, dsn).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.ExecContext(ctx, `SELECT available FROM products WHERE sku = 'HELD-1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = repo.Restock(ctx, "HELD-1", 1)
	var refused *mysql.MySQLError
	if !errors.As(err, &refused) || refused.Number != 1205 {
		t.Fatalf("restock of a row held elsewhere: %v after %v, want the server's lock wait timeout (1205)", err, time.Since(start))
	}
	holder.Rollback()
	p, err := repo.Restock(ctx, "HELD-1", 1)
	if err != nil || p.Available != 11 {
		t.Fatalf("restock once the row is free: %+v, %v; want 11 available", p, err)
	}
}
