package capture

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
)

func TestFilterExpression(t *testing.T) {
	for in, want := range map[string]string{
		"":          "",
		"   ":       "",
		"port 80":   "(port 80) or (vlan and ((port 80) or (vlan and (port 80))))",
		" tcp\t":    "(tcp) or (vlan and ((tcp) or (vlan and (tcp))))",
		"a or b":    "(a or b) or (vlan and ((a or b) or (vlan and (a or b))))",
		"not arp":   "(not arp) or (vlan and ((not arp) or (vlan and (not arp))))",
		"udp[8]=1":  "(udp[8]=1) or (vlan and ((udp[8]=1) or (vlan and (udp[8]=1))))",
		"host ::1 ": "(host ::1) or (vlan and ((host ::1) or (vlan and (host ::1))))",
	} {
		if got := FilterExpression(in); got != want {
			t.Errorf("FilterExpression(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFilterExpressionMatchesTagged compiles the expansion with libpcap and
// runs it on crafted untagged, 802.1Q and QinQ frames.
func TestFilterExpressionMatchesTagged(t *testing.T) {
	expanded, err := pcap.NewBPF(layers.LinkTypeEthernet, 65535, FilterExpression("udp port 80"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := pcap.NewBPF(layers.LinkTypeEthernet, 65535, "udp port 80")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		frame       []byte
		want, plain bool
	}{
		{"untagged 80", udpFrame(t, 5000, 80, 20, 0), true, true},
		{"untagged 81", udpFrame(t, 5000, 81, 20, 0), false, false},
		{"802.1Q 80", udpFrame(t, 5000, 80, 20, 1), true, false},
		{"802.1Q 81", udpFrame(t, 5000, 81, 20, 1), false, false},
		{"QinQ 80", udpFrame(t, 80, 5000, 20, 2), true, false},
		{"QinQ 81", udpFrame(t, 81, 5000, 20, 2), false, false},
	} {
		ci := gopacket.CaptureInfo{CaptureLength: len(tc.frame), Length: len(tc.frame)}
		if got := expanded.Matches(ci, tc.frame); got != tc.want {
			t.Errorf("%s: expanded filter matches = %v, want %v", tc.name, got, tc.want)
		}
		// The plain expression misses tagged frames: the expansion is needed.
		if got := plain.Matches(ci, tc.frame); got != tc.plain {
			t.Errorf("%s: plain filter matches = %v, want %v", tc.name, got, tc.plain)
		}
	}
}

func TestFilterForLinkTypes(t *testing.T) {
	// Ethernet gets the VLAN expansion; Linux cooked (no "vlan" in libpcap)
	// keeps the plain expression.
	if got, err := filterFor(layers.LinkTypeEthernet, 128, "port 80"); err != nil || got != FilterExpression("port 80") {
		t.Errorf("ethernet: %q, %v", got, err)
	}
	if got, err := filterFor(layers.LinkTypeLinuxSLL, 128, "port 80"); err != nil || got == "" {
		t.Errorf("cooked: %q, %v", got, err)
	}
	for _, bad := range []string{"port 99999", "tcp and", "hots 1.2.3.4"} {
		_, err := filterFor(layers.LinkTypeEthernet, 128, bad)
		if !errors.Is(err, ErrBadFilter) || !strings.HasPrefix(err.Error(), `bad filter "`+bad+`": `) ||
			len(err.Error()) <= len(`bad filter "`+bad+`": `) {
			t.Errorf("%q: error %v, want bad filter with libpcap's message", bad, err)
		}
	}
}

// TestCompileFilterSnaplen: accepting instructions return the snaplen, so
// the kernel copies no more than that.
func TestCompileFilterSnaplen(t *testing.T) {
	for _, expr := range []string{"", "udp"} {
		prog, err := compileFilter(layers.LinkTypeEthernet, 96, expr)
		if err != nil {
			t.Fatal(err)
		}
		accepts := 0
		for _, in := range prog {
			if in.Code == 0x06 { // BPF_RET|BPF_K
				if in.K != 0 && in.K != 96 {
					t.Fatalf("%q: ret #%d, want 0 or 96", expr, in.K)
				}
				if in.K == 96 {
					accepts++
				}
			}
		}
		if accepts == 0 {
			t.Fatalf("%q: no instruction accepts with the snaplen: %v", expr, prog)
		}
	}
}
