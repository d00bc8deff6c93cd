package classify

import (
	"net/netip"
	"testing"
)

// TestHashSpreads checks that tuples differing only a little (consecutive
// addresses, consecutive ports, IPv4 and IPv6) spread evenly over the low
// bits that the flow and SYN tables index by, and that swapping the ends
// of a packet gives the same hash.
func TestHashSpreads(t *testing.T) {
	const slots = 1 << 12
	for _, c := range []struct {
		name string
		base netip.Addr
	}{{"IPv4", netip.MustParseAddr("10.0.0.1")}, {"IPv6", netip.MustParseAddr("2001:db8::1")}} {
		var count [slots]int
		server := netip.MustParseAddr("192.0.2.80").As16()
		if c.base.Is6() {
			server = netip.MustParseAddr("2001:db8::80").As16()
		}
		n := 0
		addr := c.base
		for i := 0; i < 64; i++ {
			a := addr.As16()
			for port := uint16(40000); port < 40256; port++ {
				var tu Tuple
				tu.set(6, &a, &server, port, 443)
				var back Tuple
				back.set(6, &server, &a, 443, port)
				h := tu.Hash()
				if back.Hash() != h {
					t.Fatalf("%s: the two directions hash differently", c.name)
				}
				count[h%slots]++
				n++
			}
			addr = addr.Next()
		}
		mean := n / slots
		most := 0
		for _, k := range count {
			most = max(most, k)
		}
		// A uniform hash puts at most about mean + 4*sqrt(mean) in a slot.
		if most > 3*mean+4 {
			t.Errorf("%s: %d tuples over %d slots, the fullest slot has %d (mean %d)", c.name, n, slots, most, mean)
		}
	}
}
