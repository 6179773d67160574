package config_test

import (
	"testing"
	"time"

	"github.com/edmshop/edm-shop/platform/config"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{value: "", want: 30 * time.Second},
		{value: "1m30s", want: 90 * time.Second},
		{value: "250ms", want: 250 * time.Millisecond},
		{value: "30", want: 30 * time.Second, wantErr: true},
		{value: "-1s", want: 30 * time.Second, wantErr: true},
		{value: "0s", want: 30 * time.Second, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Setenv("EDM_TEST_DURATION", tt.value)
			got, err := config.Duration("EDM_TEST_DURATION", 30*time.Second)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Duration(%q) = %v, %v; want %v, error %v", tt.value, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
