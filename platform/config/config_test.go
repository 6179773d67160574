package config_test

import (
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/config"
)

func TestDedupRetention(t *testing.T) {
	tests := []struct {
		env       string
		want      time.Duration
		wantPanic bool
	}{
		{"", config.DefaultDedupRetention, false},
		{"720h", 720 * time.Hour, false},
		{"two weeks", 0, true},
		{"-1h", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("DEDUP_RETENTION", tt.env)
			defer func() {
				if r := recover(); (r != nil) != tt.wantPanic {
					t.Errorf("panic %v, want panic %v", r, tt.wantPanic)
				}
			}()
			if got := config.ServiceFromEnv("s", ":1").Retention(); got != tt.want {
				t.Errorf("retention %v, want %v", got, tt.want)
			}
		})
	}
	if got := (config.Service{}).Retention(); got != config.DefaultDedupRetention {
		t.Errorf("zero retention = %v, want the default", got)
	}
}
