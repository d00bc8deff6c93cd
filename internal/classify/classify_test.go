package classify

import (
	"net/netip"
	"testing"

	"github.com/porttop/porttop/internal/decode"
	"github.com/porttop/porttop/internal/key"
)

func addr(s string) [16]byte { return netip.MustParseAddr(s).As16() }

// pkt builds a decoded TCP/UDP packet.
func pkt(proto uint8, src string, sport uint16, dst string, dport uint16, flags uint8) *decode.Packet {
	return &decode.Packet{Kind: decode.Transport, IPProto: proto, Src: addr(src), Dst: addr(dst),
		SrcPort: sport, DstPort: dport, TCPFlags: flags}
}

const (
	tcp = 6
	udp = 17
	syn = decode.FlagSYN
	ack = decode.FlagACK
)

func TestRule3(t *testing.T) {
	c := New(Options{})
	tests := []struct {
		name string
		p    *decode.Packet
		rule Rule
		port uint16
		dir  key.Dir
	}{
		{"one low port (dst)", pkt(tcp, "10.0.0.1", 51000, "10.0.0.2", 443, ack), RuleLowPort, 443, key.Rx},
		{"one low port (src)", pkt(tcp, "10.0.0.2", 443, "10.0.0.1", 51000, ack), RuleLowPort, 443, key.Tx},
		{"both low: named wins? no, both named: lower", pkt(tcp, "10.0.0.1", 22, "10.0.0.2", 80, ack), RuleLower, 22, key.Tx},
		{"one named (postgresql)", pkt(tcp, "10.0.0.1", 40000, "10.0.0.2", 5432, ack), RuleNamed, 5432, key.Rx},
		{"one named, src", pkt(udp, "10.0.0.2", 5353, "10.0.0.1", 40000, 0), RuleNamed, 5353, key.Tx},
		{"named only for the other proto", pkt(udp, "10.0.0.1", 40000, "10.0.0.2", 5432, 0), RuleLower, 5432, key.Rx},
		{"lower port", pkt(udp, "10.0.0.1", 30000, "10.0.0.2", 20000, 0), RuleLower, 20000, key.Rx},
		{"equal ports: destination", pkt(udp, "10.0.0.2", 7000, "10.0.0.1", 7000, 0), RuleLower, 7000, key.Rx},
		{"IPv6", pkt(tcp, "2001:db8::1", 50000, "2001:db8::2", 80, ack), RuleLowPort, 80, key.Rx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Result
			rule := c.Classify(tt.p, 100, &r)
			if rule != tt.rule || r.Key.Port != tt.port || r.Dir != tt.dir || r.Key.Side != key.Local {
				t.Errorf("got rule %d %v dir %d, want rule %d port %d dir %d", rule, r.Key, r.Dir, tt.rule, tt.port, tt.dir)
			}
			wantProto := key.TCP
			if tt.p.IPProto == udp {
				wantProto = key.UDP
			}
			if r.Key.Proto != wantProto {
				t.Errorf("proto %v", r.Key.Proto)
			}
		})
	}
}

func TestRule2SYN(t *testing.T) {
	c := New(Options{})
	var r Result
	// Before any SYN: rule 3 picks the lower port 3000.
	if rule := c.Classify(pkt(tcp, "10.0.0.1", 3000, "10.0.0.2", 45000, ack), 1, &r); rule != RuleLower || r.Key.Port != 3000 {
		t.Fatalf("before SYN: rule %d %v", rule, r.Key)
	}
	// The SYN makes 45000 the service end, the SYN included...
	if rule := c.Classify(pkt(tcp, "10.0.0.1", 3000, "10.0.0.2", 45000, syn), 2, &r); rule != RuleSYN || r.Key.Port != 45000 || r.Dir != key.Rx {
		t.Fatalf("SYN: rule %d %v dir %d", rule, r.Key, r.Dir)
	}
	// ... and every later packet of the 4-tuple, both ways.
	if rule := c.Classify(pkt(tcp, "10.0.0.2", 45000, "10.0.0.1", 3000, syn|ack), 3, &r); rule != RuleSYN || r.Key.Port != 45000 || r.Dir != key.Tx {
		t.Fatalf("SYN-ACK: rule %d %v dir %d", rule, r.Key, r.Dir)
	}
	if rule := c.Classify(pkt(tcp, "10.0.0.1", 3000, "10.0.0.2", 45000, ack), 4, &r); rule != RuleSYN || r.Key.Port != 45000 {
		t.Fatalf("ACK: rule %d %v", rule, r.Key)
	}
	// A later SYN the other way sets it again.
	c.Classify(pkt(tcp, "10.0.0.2", 45000, "10.0.0.1", 3000, syn), 5, &r)
	if c.Classify(pkt(tcp, "10.0.0.1", 3000, "10.0.0.2", 45000, ack), 6, &r); r.Key.Port != 3000 {
		t.Fatalf("after reverse SYN: %v", r.Key)
	}
	// A SYN-ACK seen first makes its source the service end.
	if rule := c.Classify(pkt(tcp, "10.0.0.2", 46000, "10.0.0.1", 3001, syn|ack), 7, &r); rule != RuleSYN || r.Key.Port != 46000 || r.Dir != key.Tx {
		t.Fatalf("SYN-ACK first: rule %d %v", rule, r.Key)
	}
	if c.Classify(pkt(tcp, "10.0.0.1", 3001, "10.0.0.2", 46000, ack), 8, &r); r.Key.Port != 46000 || r.Dir != key.Rx {
		t.Fatalf("after SYN-ACK: %v", r.Key)
	}
	// UDP never uses the SYN table.
	if rule := c.Classify(pkt(udp, "10.0.0.1", 3000, "10.0.0.2", 45000, syn), 9, &r); rule != RuleLower {
		t.Fatalf("UDP: rule %d", rule)
	}
}

func TestRule1Listening(t *testing.T) {
	c := New(Options{})
	c.SetLocal(NewLocalSet([]netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("127.0.0.0/8")}))
	c.SetListening(NewListening([]key.Key{{Proto: key.UDP, Port: 30000}, {Proto: key.TCP, Port: 8080}}))
	var r Result
	// 30000 listens here: it is the service port although 20000 is lower.
	if rule := c.Classify(pkt(udp, "10.0.0.9", 20000, "10.0.0.1", 30000, 0), 1, &r); rule != RuleListening || r.Key.Port != 30000 || r.Key.Side != key.Local || r.Dir != key.Rx {
		t.Fatalf("rule %d %v dir %d", rule, r.Key, r.Dir)
	}
	// A listening port on a peer does not count for rule 1.
	if rule := c.Classify(pkt(udp, "10.0.0.1", 20000, "10.0.0.9", 30000, 0), 2, &r); rule != RuleLower || r.Key.Port != 20000 {
		t.Fatalf("peer's port: rule %d %v", rule, r.Key)
	}
	// Rule 1 beats a SYN that says otherwise.
	if rule := c.Classify(pkt(tcp, "10.0.0.1", 8080, "10.0.0.9", 50000, syn), 3, &r); rule != RuleListening || r.Key.Port != 8080 || r.Dir != key.Tx {
		t.Fatalf("listening vs SYN: rule %d %v", rule, r.Key)
	}
	// Both ends listening: fall through.
	c.SetListening(NewListening([]key.Key{{Proto: key.UDP, Port: 30000}, {Proto: key.UDP, Port: 20000}}))
	if rule := c.Classify(pkt(udp, "127.0.0.1", 20000, "127.0.0.1", 30000, 0), 4, &r); rule != RuleLower {
		t.Fatalf("both listening: rule %d", rule)
	}
}

func TestSideAndDirection(t *testing.T) {
	c := New(Options{})
	c.SetLocal(NewLocalSet([]netip.Prefix{netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("127.0.0.0/8")}))
	tests := []struct {
		name string
		p    *decode.Packet
		side key.Side
		dir  key.Dir
	}{
		{"browsing: request out", pkt(tcp, "192.0.2.10", 51000, "198.51.100.1", 443, ack), key.Remote, key.Tx},
		{"browsing: response in", pkt(tcp, "198.51.100.1", 443, "192.0.2.10", 51000, ack), key.Remote, key.Rx},
		{"serving: request in", pkt(tcp, "198.51.100.1", 51000, "192.0.2.10", 22, ack), key.Local, key.Rx},
		{"serving: response out", pkt(tcp, "192.0.2.10", 22, "198.51.100.1", 51000, ack), key.Local, key.Tx},
		{"loopback: toward the service", pkt(tcp, "127.0.0.1", 51000, "127.0.0.1", 22, ack), key.Local, key.Rx},
		{"loopback: from the service", pkt(tcp, "127.0.0.1", 22, "127.0.0.1", 51000, ack), key.Local, key.Tx},
		{"loopback v6", pkt(udp, "::1", 40000, "::1", 53, 0), key.Local, key.Rx},
		{"neither end here", pkt(tcp, "198.51.100.1", 51000, "198.51.100.2", 80, ack), key.Local, key.Rx},
	}
	for _, tt := range tests {
		var r Result
		c.Classify(tt.p, 1, &r)
		if r.Key.Side != tt.side || r.Dir != tt.dir {
			t.Errorf("%s: side %v dir %d, want %v %d", tt.name, r.Key.Side, r.Dir, tt.side, tt.dir)
		}
	}
}

func TestFragments(t *testing.T) {
	c := New(Options{})
	first := pkt(udp, "10.0.0.1", 50001, "10.0.0.2", 4789, 0)
	first.Fragmented, first.FirstFragment, first.FragID = true, true, 77
	later := &decode.Packet{Kind: decode.Fragment, IPProto: udp, Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), Fragmented: true, FragID: 77}
	var r Result
	if rule := c.Classify(later, 1, &r); rule != 0 {
		t.Fatalf("later fragment before its first: rule %d", rule)
	}
	if rule := c.Classify(first, 1, &r); rule == 0 || r.Key.Port != 4789 {
		t.Fatalf("first fragment: rule %d %v", rule, r.Key)
	}
	var r2 Result
	if rule := c.Classify(later, 2, &r2); rule != RuleFragment || r2.Key != r.Key || r2.Dir != r.Dir {
		t.Fatalf("later fragment: rule %d %v", rule, r2.Key)
	}
	other := *later
	other.FragID = 78
	if rule := c.Classify(&other, 2, &r2); rule != 0 {
		t.Fatalf("fragment of another datagram matched")
	}
	// Expired after the reassembly timeout.
	if rule := c.Classify(later, 2+fragTTL+1, &r2); rule != 0 {
		t.Fatalf("stale fragment matched")
	}
	// IPv6: the later fragment's next header may differ from the first's.
	f6 := pkt(udp, "2001:db8::1", 50001, "2001:db8::2", 4789, 0)
	f6.IPv6, f6.Fragmented, f6.FirstFragment, f6.FragID = true, true, true, 0xabcdef
	c.Classify(f6, 10, &r)
	l6 := &decode.Packet{Kind: decode.Fragment, IPv6: true, IPProto: 60, Src: f6.Src, Dst: f6.Dst, Fragmented: true, FragID: 0xabcdef}
	if rule := c.Classify(l6, 10, &r2); rule != RuleFragment || r2.Key.Port != 4789 {
		t.Fatalf("IPv6 later fragment: rule %d %v", rule, r2.Key)
	}
}

func TestNotCounted(t *testing.T) {
	c := New(Options{})
	var r Result
	for _, p := range []*decode.Packet{{Kind: decode.Other, IPProto: 1}, {Kind: decode.Skip}} {
		if rule := c.Classify(p, 1, &r); rule != 0 {
			t.Errorf("%+v classified by rule %d", p, rule)
		}
	}
}

// A SYN flood cannot grow the SYN table: its size is fixed, old entries
// are evicted, and idle entries expire.
func TestSynTableBounded(t *testing.T) {
	s := NewSynTable(1024, 60)
	if s.Cap() != 1024 {
		t.Fatalf("cap %d", s.Cap())
	}
	src := addr("10.0.0.1")
	dst := addr("10.0.0.2")
	for i := 0; i < 100000; i++ {
		tu, _ := MakeTuple(tcp, &src, &dst, uint16(i), uint16(i>>16)+1)
		s.Set(&tu, tu.Hash(), true, 100)
	}
	if n := s.Len(100); n > 1024 || n < 900 {
		t.Fatalf("after a flood: %d live entries in a table of 1024", n)
	}
	if s.Evictions == 0 {
		t.Fatal("no evictions counted")
	}
	if n := s.Len(100 + 61); n != 0 {
		t.Fatalf("%d entries survived the idle timeout", n)
	}
	// A fresh entry is found, then expires.
	tu, _ := MakeTuple(tcp, &src, &dst, 1, 2)
	s.Set(&tu, tu.Hash(), false, 1000)
	if isA, ok := s.Lookup(&tu, tu.Hash(), 1030); !ok || isA {
		t.Fatal("entry not found")
	}
	if _, ok := s.Lookup(&tu, tu.Hash(), 1030+61); ok {
		t.Fatal("idle entry still found")
	}
}

func TestLocalSet(t *testing.T) {
	l := NewLocalSet([]netip.Prefix{
		netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("::1/128"),
	})
	for s, want := range map[string]bool{
		"192.0.2.10": true, "192.0.2.11": false, "10.255.1.2": true, "11.0.0.1": false,
		"2001:db8:1::5": true, "2001:db9::1": false, "::1": true, "::2": false,
		"::ffff:10.0.0.1": true,
	} {
		a := addr(s)
		if got := l.Contains(&a); got != want {
			t.Errorf("Contains(%s) = %v", s, got)
		}
	}
	a := addr("10.1.2.3")
	if n := testing.AllocsPerRun(100, func() { l.Contains(&a) }); n != 0 {
		t.Errorf("Contains allocates %v", n)
	}
}

func TestClassifyAllocs(t *testing.T) {
	c := New(Options{})
	c.SetLocal(NewLocalSet([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}))
	c.SetListening(NewListening([]key.Key{{Proto: key.TCP, Port: 22}}))
	p := pkt(tcp, "127.0.0.1", 51000, "127.0.0.1", 22, ack)
	var r Result
	if n := testing.AllocsPerRun(1000, func() { c.Classify(p, 1, &r) }); n != 0 {
		t.Fatalf("Classify allocates %v per packet", n)
	}
}
