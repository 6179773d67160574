package nettest

import (
	"net"
	"strconv"
	"testing"
)

func TestPortOutsideAvoidsTheRange(t *testing.T) {
	tests := []struct {
		name   string
		lo, hi int
	}{
		{"linux default", 32768, 60999},
		{"range starts low", 1024, 60999},
		{"range reaches the top", 32768, 65535},
		{"range below lowest", 2000, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 10000 {
				p := portOutside(tt.lo, tt.hi)
				if p < lowest || p > 65535 || (p >= tt.lo && p <= tt.hi) {
					t.Fatalf("port %d: want [%d, 65535] outside [%d, %d]", p, lowest, tt.lo, tt.hi)
				}
			}
		})
	}
}

func TestFreeAddrIsBindableAndOutsideTheEphemeralRange(t *testing.T) {
	lo, hi := ephemeralRange()
	addr := FreeAddr(t)
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := strconv.Atoi(port); p >= lo && p <= hi {
		t.Fatalf("port %d inside the ephemeral range [%d, %d]", p, lo, hi)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("bind %s: %v", addr, err)
	}
	l.Close()
}
