//go:build linux

package procs

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/porttop/porttop/internal/key"
)

func TestParseHexAddrPort(t *testing.T) {
	needLittleEndian(t)
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"0100007F:1F90", "127.0.0.1:8080", true},
		{"00000000:0000", "0.0.0.0:0", true},
		{"00000000000000000000000001000000:0035", "[::1]:53", true},
		{"0000000000000000FFFF00000100007F:0050", "127.0.0.1:80", true},
		{"B80D0120000000000000000001000000:01BB", "[2001:db8::1]:443", true},
		{"0100007F", "", false},
		{"0100007:1F90", "", false},
		{"0100007G:1F90", "", false},
		{"0100007F:1FFFF", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := parseHexAddrPort([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("%q: err = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && got != netip.MustParseAddrPort(tt.want) {
			t.Errorf("%q: got %v, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseNetFileBadInput(t *testing.T) {
	bad := []string{
		"h\n 0: 0100007F:1F90 00000000:0000 0A\n",
		"h\n 0: 0100007F:1F90 00000000:0000 ZZ 0 0 0 0 0 1\n",
		"h\n 0: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 x\n",
		"h\n 0: 0100007F:1F90 nope 0A 0 0 0 0 0 1\n",
	}
	for _, in := range bad {
		if err := parseNetFile(strings.NewReader(in), key.TCP, func(Socket) {}); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
	n := 0
	err := parseNetFile(strings.NewReader("header only\n\n"), key.TCP, func(Socket) { n++ })
	if err != nil || n != 0 {
		t.Errorf("empty table: err %v, %d sockets", err, n)
	}
}

func TestFuzzishNoPanic(t *testing.T) {
	// Truncations of a real line must give errors, never panics.
	line := "h\n   0: 0500000A:0016 0900000A:C738 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0 100 0 0 10 0\n"
	for i := range line {
		_ = parseNetFile(strings.NewReader(line[:i]), key.UDP, func(Socket) {})
	}
}

func TestParseStartTime(t *testing.T) {
	v, err := parseStartTime([]byte("42 (a b) c)) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 19 20"))
	if err != nil || v != 777 {
		t.Errorf("got %d %v, want 777", v, err)
	}
	for _, bad := range []string{"", "42 (x", "42 (x) S 1 2", "42 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -5"} {
		if _, err := parseStartTime([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestContainerOf(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct{ cgroup, want string }{
		{"0::/system.slice/docker-" + id + ".scope\n", "docker:0123456789ab"},
		{"12:pids:/docker/" + id + "\n", "docker:0123456789ab"},
		{"0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + id + ".scope\n", "kubepods:0123456789ab"},
		{"0::/user.slice/libpod-" + id + ".scope\n", "podman:0123456789ab"},
		{"0::/system.slice/containerd.service\n", ""},
		{"0::/system.slice/docker-" + id[:60] + ".scope\n", ""},
		{"0::/\n", ""},
	}
	for _, tt := range tests {
		if got := containerOf(strings.NewReader(tt.cgroup)); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.cgroup, got, tt.want)
		}
	}
}

func TestHasCapSysPtrace(t *testing.T) {
	if !hasCapSysPtrace([]byte("Name:\tx\nCapEff:\t0000000000080000\n")) {
		t.Error("bit 19 set: want true")
	}
	if hasCapSysPtrace([]byte("CapEff:\t0000000000070000\n")) || hasCapSysPtrace([]byte("Name:\tx\n")) {
		t.Error("bit 19 clear or no CapEff: want false")
	}
}

// FuzzParseNetFile: any input gives sockets or an error, never a panic, and
// every socket it gives has a valid local address.
func FuzzParseNetFile(f *testing.F) {
	f.Add("h\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 12345 1\n", false)
	f.Add("h\n   0: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 07 0 0 0 0 0 9 1\n", true)
	f.Add("h\n 0: : : 0A 0 0 0 0 0 1\n", false)
	f.Fuzz(func(t *testing.T, in string, udp bool) {
		proto := key.TCP
		if udp {
			proto = key.UDP
		}
		_ = parseNetFile(strings.NewReader(in), proto, func(s Socket) {
			if !s.Local.Addr().IsValid() || !s.Remote.Addr().IsValid() {
				t.Errorf("socket with invalid address from %q: %+v", in, s)
			}
		})
	})
}
