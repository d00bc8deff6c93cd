//go:build linux

package procs

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	gnet "github.com/shirou/gopsutil/v3/net"
)

// loopbackPairs opens n TCP connections to a listener on 127.0.0.1 (2n
// sockets in this process), raising RLIMIT_NOFILE if needed, and closes
// them when tb ends.
func loopbackPairs(tb testing.TB, n int) {
	tb.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Skipf("getrlimit: %v", err)
	}
	need := uint64(2*n + 256)
	if lim.Cur < need {
		if lim.Max < need {
			tb.Skipf("RLIMIT_NOFILE hard limit %d < %d", lim.Max, need)
		}
		old := lim
		lim.Cur = need
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			tb.Skipf("setrlimit: %v", err)
		}
		tb.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	conns := make([]net.Conn, 0, 2*n)
	tb.Cleanup(func() {
		for _, c := range conns {
			closeNow(c)
		}
		l.Close()
	})
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			tb.Fatalf("dial %d: %v", i, err)
		}
		s, err := l.Accept()
		if err != nil {
			tb.Fatalf("accept %d: %v", i, err)
		}
		conns = append(conns, c, s)
	}
}

// cpuTime returns this process's user+system CPU time so far. On a shared
// machine it measures the refresh better than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op spent since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

const benchPairs = 5000 // 10,000 connected sockets

// tableSources are the two ways linuxSockets lists the host's sockets.
var tableSources = []struct {
	name      string
	noNetlink bool
}{{"netlink", false}, {"proc", true}}

// newScannerFrom returns a Scanner that lists the host's sockets through
// netlink, or from /proc/net when noNetlink is set.
func newScannerFrom(opts Options, noNetlink bool) *Scanner {
	s := NewScanner(opts)
	s.sockets.(*linuxSockets).noNetlink = noNetlink
	return s
}

// BenchmarkHostTable: listing the socket table alone, netlink vs
// /proc/net, with the sockets the machine has ("idle") and with 10,000
// more. cpu-µs/op counts the kernel's share, which dominates.
func BenchmarkHostTable(b *testing.B) {
	list := func(b *testing.B, noNetlink bool) {
		ctx := context.Background()
		n := 0
		c0 := cpuTime()
		for b.Loop() {
			var socks []Socket
			var err error
			if noNetlink {
				socks, err = readTables(ctx, "/proc/net", false, nil)
			} else {
				socks, err = readDiag(false, nil)
			}
			if err != nil {
				b.Fatal(err)
			}
			n = len(socks)
		}
		reportCPU(b, c0)
		b.ReportMetric(float64(n), "sockets")
	}
	for _, size := range []string{"idle", "10k"} {
		b.Run(size, func(b *testing.B) {
			if size == "10k" {
				loopbackPairs(b, benchPairs)
			}
			for _, src := range tableSources {
				b.Run(src.name, func(b *testing.B) { list(b, src.noNetlink) })
			}
		})
	}
}

// BenchmarkRefreshIdle: steady state with the sockets the machine has,
// owners known, nothing new — porttop's idle refresh: listing every time
// (netlink, proc), and as porttop runs, keeping the table while the
// kernel's socket counts stay the same (kept; on a busy machine some
// refreshes list anyway, see the kept-% metric).
func BenchmarkRefreshIdle(b *testing.B) {
	for _, src := range tableSources {
		b.Run(src.name, func(b *testing.B) { benchSteady(b, src.noNetlink, 1) })
	}
	b.Run("kept", func(b *testing.B) { benchSteady(b, false, 0) })
}

// BenchmarkRefresh10k: steady state, owners known, nothing new, listing
// every time.
func BenchmarkRefresh10k(b *testing.B) {
	loopbackPairs(b, benchPairs)
	for _, src := range tableSources {
		b.Run(src.name, func(b *testing.B) { benchSteady(b, src.noNetlink, 1) })
	}
}

// benchSteady measures refreshes that find nothing new, with
// Options.RelistEvery relist.
func benchSteady(b *testing.B, noNetlink bool, relist int) {
	s := newScannerFrom(Options{FullRescanEvery: 1 << 30, RelistEvery: relist}, noNetlink)
	t, err := s.Refresh(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	kept := 0
	c0 := cpuTime()
	for b.Loop() {
		tb, err := s.Refresh(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if tb.Stats.Kept {
			kept++
		}
	}
	reportCPU(b, c0)
	b.ReportMetric(float64(t.Stats.Sockets), "sockets")
	b.ReportMetric(float64(t.Stats.Duration.Microseconds()), "first-refresh-µs")
	b.ReportMetric(100*float64(kept)/float64(b.N), "kept-%")
}

// BenchmarkRefresh10kFull: every refresh re-reads every descriptor.
func BenchmarkRefresh10kFull(b *testing.B) {
	loopbackPairs(b, benchPairs)
	for _, src := range tableSources {
		b.Run(src.name, func(b *testing.B) {
			s := newScannerFrom(Options{FullRescanEvery: 1}, src.noNetlink)
			c0 := cpuTime()
			for b.Loop() {
				if _, err := s.Refresh(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, c0)
		})
	}
}

// BenchmarkRefresh10kChurn: 100 new connections (200 sockets) per refresh.
func BenchmarkRefresh10kChurn(b *testing.B) {
	loopbackPairs(b, benchPairs)
	for _, src := range tableSources {
		b.Run(src.name, func(b *testing.B) { benchChurn(b, src.noNetlink) })
	}
}

func benchChurn(b *testing.B, noNetlink bool) {
	s := newScannerFrom(Options{FullRescanEvery: 1 << 30, RelistEvery: 1}, noNetlink)
	if _, err := s.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var open []net.Conn
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		for _, c := range open {
			closeNow(c)
		}
		open = open[:0]
		for i := 0; i < 100; i++ {
			c, err := net.Dial("tcp4", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			sc, err := l.Accept()
			if err != nil {
				b.Fatal(err)
			}
			open = append(open, c, sc)
		}
		b.StartTimer()
		c0 := cpuTime()
		if _, err := s.Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	for _, c := range open {
		closeNow(c)
	}
}

// closeNow closes c with a reset, leaving no TIME_WAIT socket behind to
// skew the next measurement.
func closeNow(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// BenchmarkGopsutilConnections10k: gopsutil's socket table, which walks
// every process's descriptors on each call (for comparison).
func BenchmarkGopsutilConnections10k(b *testing.B) {
	loopbackPairs(b, benchPairs)
	c0 := cpuTime()
	for b.Loop() {
		if _, err := gnet.ConnectionsWithoutUidsWithContext(context.Background(), "inet"); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0)
}

// TestRefreshManySockets checks that a refresh with thousands of sockets
// attributes them all to this process, and still does after an incremental
// refresh. (That an idle refresh reads no descriptors is checked on a
// fixture: on a shared machine other processes open sockets meanwhile.)
func TestRefreshManySockets(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 2,000 sockets")
	}
	loopbackPairs(t, 1000)
	s := NewScanner(Options{})
	first, err := s.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mine := 0
	for _, sk := range first.Sockets {
		if sk.PID == int32(syscall.Getpid()) && sk.State == "ESTABLISHED" {
			mine++
		}
	}
	if mine < 2000 {
		t.Errorf("%d established sockets of this process, want at least 2000", mine)
	}
	second, err := s.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mine2 := 0
	for _, sk := range second.Sockets {
		if sk.PID == int32(syscall.Getpid()) && sk.State == "ESTABLISHED" {
			mine2++
		}
	}
	if mine2 != mine {
		t.Errorf("second refresh: %d established sockets of this process, first had %d", mine2, mine)
	}
	t.Logf("2,000+ sockets: first refresh %v (%+v); second %v (%+v)", first.Stats.Duration, first.Stats, second.Stats.Duration, second.Stats)
}
