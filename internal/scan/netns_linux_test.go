//go:build linux

package scan

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/netnstest"
)

// TestFilteredInNetns checks the filtered verdicts against a real kernel,
// inside a network namespace the test creates and deletes. The namespace
// has only a loopback interface, so nothing can leave it:
//
//	10.99.0.0/24 routed into lo: SYNs vanish (no host has the address) → no-response
//	unreachable 10.98.0.0/24:   EHOSTUNREACH                             → host-unreachable
//	prohibit 10.97.0.0/24:      EACCES                                   → admin-prohibited
//
// It needs root and the ip(8) command, and is skipped otherwise.
func TestFilteredInNetns(t *testing.T) {
	ns := netnstest.New(t, "porttop-scan-test")
	ns.IP("link", "set", "lo", "up")
	ns.IP("route", "add", "10.99.0.0/24", "dev", "lo")
	ns.IP("route", "add", "unreachable", "10.98.0.0/24")
	ns.IP("route", "add", "prohibit", "10.97.0.0/24")
	ns.Run("TestNetnsChild")
}

// TestNetnsChild is the half of TestFilteredInNetns that runs inside the
// namespace.
func TestNetnsChild(t *testing.T) {
	if !netnstest.InChild() {
		t.Skip("runs only inside TestFilteredInNetns's namespace")
	}
	cases := []struct {
		addr   string
		reason string
	}{
		{"10.99.0.2", "no-response"},
		{"10.98.0.2", "host-unreachable"},
		{"10.97.0.2", "admin-prohibited"},
	}
	for _, c := range cases {
		o := testOptions([]uint16{80, 443}, nil)
		o.Timeout = 200 * time.Millisecond
		start := time.Now()
		r, err := ScanAddr(context.Background(), netip.MustParseAddr(c.addr), o)
		if err != nil {
			t.Fatal(err)
		}
		for _, port := range []uint16{80, 443} {
			p := find(t, r, key.TCP, port)
			if p.State != Filtered || p.Reason != c.reason || p.Service != "" {
				t.Errorf("%s:%d: %+v, want filtered (%s)", c.addr, port, p, c.reason)
			}
		}
		if r.Counts.Filtered != 2 {
			t.Errorf("%s: counts %+v", c.addr, r.Counts)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%s: took %v with a 200ms timeout", c.addr, el)
		}
	}
}
