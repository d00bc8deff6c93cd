package nic

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	gcommon "github.com/shirou/gopsutil/v3/common"
	gnet "github.com/shirou/gopsutil/v3/net"
)

func TestReadFixture(t *testing.T) {
	r := NewReader(filepath.Join("testdata", "proc"))
	got, err := r.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := map[string]Counters{
		"lo":    {Name: "lo", RxBytes: 1234567, TxBytes: 1234567, RxPackets: 8901, TxPackets: 8901},
		"eth0":  {Name: "eth0", RxBytes: 987654321, TxBytes: 123456789, RxPackets: 654321, TxPackets: 98765, RxDropped: 42},
		"wlan0": {Name: "wlan0", RxBytes: 18446744073709551615, TxBytes: 4294967295, RxPackets: 5, TxPackets: 6},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d interfaces %v, want %d", len(got), got, len(want))
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: got %+v, want %+v", name, got[name], w)
		}
	}
}

func TestReadErrors(t *testing.T) {
	if _, err := NewReader(filepath.Join("testdata", "badproc")).Read(context.Background()); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("malformed counters file: got %v, want a malformed-file error", err)
	}
	if _, err := NewReader(filepath.Join("testdata", "missing")).Read(context.Background()); err == nil {
		t.Error("missing counters file: want an error, got none")
	}
}

func TestReadLive(t *testing.T) {
	var r Reader
	got, err := r.Read(context.Background())
	if err != nil {
		t.Skipf("no interface counters on this system: %v", err)
	}
	if len(got) == 0 {
		t.Fatal("no interfaces")
	}
	for name, c := range got {
		if name == "" || c.Name != name {
			t.Errorf("bad entry %q: %+v", name, c)
		}
	}
}

func TestRates(t *testing.T) {
	prev := map[string]Counters{
		"eth0":  {Name: "eth0", RxBytes: 1000, TxBytes: 500},
		"reset": {Name: "reset", RxBytes: 1 << 40, TxBytes: 10},
		"gone":  {Name: "gone", RxBytes: 5},
		"wrap":  {Name: "wrap", RxBytes: 4294967000, TxBytes: 7},
	}
	cur := map[string]Counters{
		"eth0":  {Name: "eth0", RxBytes: 3000, TxBytes: 1500},
		"reset": {Name: "reset", RxBytes: 100, TxBytes: 20},
		"new":   {Name: "new", RxBytes: 1 << 50},
		"wrap":  {Name: "wrap", RxBytes: 200, TxBytes: 9},
	}
	got := Rates(prev, cur, 2*time.Second)
	want := map[string]Rate{
		"eth0":  {RxBps: 1000, TxBps: 500, Valid: true},
		"reset": {},
		"new":   {},
		"wrap":  {},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: got %+v, want %+v", name, got[name], w)
		}
	}
	for name, r := range Rates(prev, cur, 0) {
		if r.Valid || r.RxBps != 0 || r.TxBps != 0 {
			t.Errorf("elapsed 0: %s got %+v, want zero invalid", name, r)
		}
	}
}

func TestDelta(t *testing.T) {
	d, ok := Delta(Counters{RxBytes: 1, TxBytes: 2, RxPackets: 3, TxPackets: 4, RxDropped: 5},
		Counters{Name: "x", RxBytes: 11, TxBytes: 22, RxPackets: 33, TxPackets: 44, RxDropped: 55})
	if !ok || d != (Counters{Name: "x", RxBytes: 10, TxBytes: 20, RxPackets: 30, TxPackets: 40, RxDropped: 50}) {
		t.Errorf("got %+v %v", d, ok)
	}
	if _, ok := Delta(Counters{RxDropped: 5}, Counters{RxBytes: 100}); ok {
		t.Error("dropped counter went backwards: want ok=false")
	}
}

func TestHostPrefixes(t *testing.T) {
	addrs := []net.Addr{
		&net.IPNet{IP: net.ParseIP("192.168.1.5").To4(), Mask: net.CIDRMask(24, 32)},
		&net.IPNet{IP: net.ParseIP("::ffff:10.0.0.1"), Mask: net.CIDRMask(120, 128)},
		&net.IPNet{IP: net.ParseIP("::1"), Mask: net.CIDRMask(128, 128)},
		&net.IPAddr{IP: net.ParseIP("127.0.0.1")},
		&net.IPNet{IP: net.ParseIP("192.168.1.5"), Mask: net.CIDRMask(24, 32)},
		&net.UnixAddr{Name: "/x", Net: "unix"},
		&net.IPNet{IP: net.IP{1, 2, 3}},
	}
	got := hostPrefixes(addrs)
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.1/32"),
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("192.168.1.5/32"),
		netip.MustParsePrefix("::1/128"),
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] got %v, want %v", i, got[i], want[i])
		}
	}
	if got[2].Contains(netip.MustParseAddr("192.168.1.6")) {
		t.Error("host prefix must not contain a neighbour's address")
	}
}

func TestLocalAddrsHasLoopback(t *testing.T) {
	ps, err := LocalAddrs()
	if err != nil {
		t.Fatalf("LocalAddrs: %v", err)
	}
	for _, p := range ps {
		if p.Addr() == netip.MustParseAddr("127.0.0.1") && p.Bits() == 32 {
			return
		}
	}
	t.Errorf("127.0.0.1/32 missing from %v", ps)
}

// TestReadHost checks that the host's own counters, read through
// /proc/self on Linux, are gopsutil's default reading: the same
// interfaces, with counters that only grow between the two readings.
func TestReadHost(t *testing.T) {
	t.Setenv("HOST_PROC", "")
	r := NewReader("")
	if runtime.GOOS == "linux" && r.env[gcommon.HostProcEnvKey] != "/proc/self" {
		t.Errorf("reads %q, want /proc/self", r.env[gcommon.HostProcEnvKey])
	}
	def, err := gnet.IOCounters(true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(def) {
		t.Fatalf("got %d interfaces, gopsutil's default %d", len(got), len(def))
	}
	for _, d := range def {
		g, ok := got[d.Name]
		if !ok {
			t.Errorf("%s missing", d.Name)
			continue
		}
		if g.RxBytes < d.BytesRecv || g.TxBytes < d.BytesSent || g.RxPackets < d.PacketsRecv {
			t.Errorf("%s: counters %+v went back from gopsutil's default reading %+v", d.Name, g, d)
		}
	}
}

// TestReadHostProcEnv checks that HOST_PROC still names the /proc to read
// when no directory is given.
func TestReadHostProcEnv(t *testing.T) {
	t.Setenv("HOST_PROC", filepath.Join("testdata", "proc"))
	got, err := NewReader("").Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got["wlan0"]; !ok || len(got) != 3 {
		t.Errorf("got %v, want the fixture's three interfaces", got)
	}
}
