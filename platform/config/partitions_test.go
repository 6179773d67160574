package config

import "testing"

func TestPartitions(t *testing.T) {
	tests := []struct {
		env     string
		want    int
		wantErr bool
	}{
		{"", 12, false},
		{"3", 3, false},
		{"0", 0, true},
		{"-2", 0, true},
		{"twelve", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("KAFKA_PARTITIONS", tt.env)
			got, err := Partitions(12)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Partitions(12) = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
