// Package nettest gives tests loopback addresses for servers they start.
package nettest

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address whose port is free now, for a server that binds by
// address (another process, or a service given HTTPAddr; in-process servers are better handed
// a bound listener, see config.Service.Listener). The port is chosen outside the kernel's
// ephemeral range: a port from net.Listen on port 0 comes from that range, where every
// outgoing connection also takes its local port, and one of them took such a port before the
// server bound it and failed a CI run. Another test could still pick the same port in the
// same instant; with some 20,000 ports to pick from at random, that is rare.
func FreeAddr(t testing.TB) string {
	t.Helper()
	lo, hi := ephemeralRange()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(portOutside(lo, hi)))
		if err != nil {
			continue
		}
		l.Close()
		return l.Addr().String()
	}
	t.Fatal("nettest: no free port outside the ephemeral range in 100 tries")
	return ""
}

// lowest is the lowest port FreeAddr picks: below it live the well-known ports and the fixed
// ones of local servers (MariaDB 3306, DynamoDB Local 8000, Kafka 9092).
const lowest = 10000

// portOutside picks a random port in [lowest, 65535] outside [lo, hi].
func portOutside(lo, hi int) int {
	below := max(0, lo-lowest)
	above := max(0, 65535-max(hi, lowest-1))
	n := rand.IntN(below + above)
	if n < below {
		return lowest + n
	}
	return max(hi, lowest-1) + 1 + n - below
}

// ephemeralRange reads Linux's ip_local_port_range, or gives its default.
func ephemeralRange() (lo, hi int) {
	lo, hi = 32768, 60999
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	l, err1 := strconv.Atoi(f[0])
	h, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || l > h {
		return lo, hi
	}
	return l, h
}
