package main

import (
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestMySQLDSN(t *testing.T) {
	cases := []struct {
		dsn, password, wantPassword string
	}{
		{defaultDSN, "", ""},
		{defaultDSN, "from-secret", "from-secret"},
		{"inventory:in-dsn@tcp(mysql:3306)/inventory?parseTime=true", "from-secret", "in-dsn"},
	}
	for _, c := range cases {
		got, err := mysqlDSN(c.dsn, c.password)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := mysql.ParseDSN(got)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Passwd != c.wantPassword || !cfg.ParseTime || cfg.DBName != "inventory" {
			t.Errorf("mysqlDSN(%q, %q) = %q, want password %q, parseTime and db inventory", c.dsn, c.password, got, c.wantPassword)
		}
	}
	if _, err := mysqlDSN("not a dsn", ""); err == nil {
		t.Error("a malformed MYSQL_DSN was accepted")
	}
}
