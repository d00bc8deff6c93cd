//go:build linux

package procs

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/netnstest"
)

func TestParseSockstat(t *testing.T) {
	const v4 = "sockets: used 9\nTCP: inuse 3 orphan 0 tw 1 alloc 4 mem 278\nUDP: inuse 17 mem 2\nUDPLITE: inuse 0\nRAW: inuse 0\n"
	const v6 = "TCP6: inuse 2\nUDP6: inuse 5\nUDPLITE6: inuse 0\nRAW6: inuse 0\n"
	for _, c := range []struct {
		name, in, tcp, udp string
		ok                 bool
		want               [2]int64
	}{
		{"v4", v4, "TCP: ", "UDP: ", true, [2]int64{3, 17}},
		{"v6", v6, "TCP6: ", "UDP6: ", true, [2]int64{2, 5}},
		{"v6 prefixes do not match v4 lines", v4, "TCP6: ", "UDP6: ", false, [2]int64{}},
		{"no UDP line", "TCP: inuse 3 orphan 0\n", "TCP: ", "UDP: ", false, [2]int64{}},
		{"not a number", "TCP: inuse x\nUDP: inuse 1\n", "TCP: ", "UDP: ", false, [2]int64{}},
		{"negative", "TCP: inuse -1\nUDP: inuse 1\n", "TCP: ", "UDP: ", false, [2]int64{}},
		{"no inuse field", "TCP: alloc 3\nUDP: inuse 1\n", "TCP: ", "UDP: ", false, [2]int64{}},
		{"cut short", "TCP: inuse\nUDP: inuse 1\n", "TCP: ", "UDP: ", false, [2]int64{}},
		{"empty", "", "TCP: ", "UDP: ", false, [2]int64{}},
		{"no final newline", "UDP: inuse 4\nTCP: inuse 1", "TCP: ", "UDP: ", true, [2]int64{1, 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got [2]int64
			ok := parseSockstat([]byte(c.in), c.tcp, c.udp, got[:])
			if ok != c.ok || (ok && got != c.want) {
				t.Errorf("parseSockstat = %v, %v; want %v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// TestScannerKeepsTable checks when a refresh keeps the last table: only
// while the socket counts are unchanged, read, and taken with the last
// listing, and the sockets' owners exist, at most RelistEvery-1 times in a
// row, and never for a full refresh or one that WantConnections asked for.
func TestScannerKeepsTable(t *testing.T) {
	// The one socket listed is a real one of this process, so that it has
	// an owner, whose existence the fake processExists decides.
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	inode := socketInodeOf(t, u)

	s := NewScanner(Options{RelistEvery: 3, FullRescanEvery: 11, ConnectionsEvery: 1000})
	ls := s.sockets.(*linuxSockets)
	listings := 0
	ls.listDiag = func(_ bool, socks []Socket) ([]Socket, error) {
		listings++
		return append(socks, Socket{Proto: key.UDP, Listening: true, UID: -1, Inode: inode}), nil
	}
	counts, countsOK := sockCounts{4, 7, 0, 1}, true
	reads := 0
	ls.countSockets = func() (sockCounts, bool) { reads++; return counts, countsOK }
	ownerAlive := true
	ls.processExists = func(pid int32) bool {
		// Other pids own the listeners of other namespaces on this host.
		return pid != int32(os.Getpid()) || ownerAlive
	}

	var last *Table
	for i, step := range []struct {
		before func()
		kept   bool
	}{
		{kept: false}, // 1: the first lists
		{kept: true},  // 2
		{kept: true},  // 3
		{kept: false}, // 4: the RelistEvery-th in a row
		{kept: true},  // 5
		{before: func() { counts[1]++ }, kept: false}, // 6: a UDP socket came
		{kept: true},                                       // 7
		{before: s.WantConnections, kept: false},           // 8: asked for connections
		{before: func() { countsOK = false }, kept: false}, // 9: counts unreadable
		{before: func() { countsOK = true }, kept: false},  // 10: the last listing had no counts
		{kept: false}, // 11: full refresh
		{kept: true},  // 12
		{before: func() { ownerAlive = false }, kept: false},             // 13: the owner has gone
		{before: func() { ownerAlive = true }, kept: true},               // 14
		{before: func() { ls.sinceForeign = foreignEvery }, kept: false}, // 15: other namespaces due
		{kept: true}, // 16
	} {
		if step.before != nil {
			step.before()
		}
		before, readsBefore := listings, reads
		tb, err := s.Refresh(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// One reading of the counts per refresh: a listing after skip
		// found a change uses skip's (unreadable counts are tried twice).
		if n := reads - readsBefore; n != 1 && countsOK {
			t.Fatalf("refresh %d read the socket counts %d times, want once", i+1, n)
		}
		if tb.Stats.Kept != step.kept || (listings == before) != step.kept {
			t.Fatalf("refresh %d: Kept %v, listed %v; want kept %v", i+1, tb.Stats.Kept, listings > before, step.kept)
		}
		// Other namespaces' listeners follow the host's own sockets.
		if tb.Seq != uint64(i+1) || len(tb.Sockets) < 1 || tb.Sockets[0].Inode != inode || tb.Sockets[0].PID != int32(os.Getpid()) {
			t.Fatalf("refresh %d: Seq %d, sockets %+v; want Seq %d, first the listed one, owned by this process", i+1, tb.Seq, tb.Sockets, i+1)
		}
		if step.kept && (&tb.Sockets[0] != &last.Sockets[0] || !tb.Time.After(last.Time) || tb.Stats.Connections) {
			t.Fatalf("refresh %d: a kept table must share the last one's sockets, be newer, and not claim fresh connections", i+1)
		}
		last = tb
	}
	if ls.skip("testdata/proc") {
		t.Error("skip is true for a fixture /proc, whose sockets the kernel's counts do not describe")
	}
}

// socketInodeOf returns the inode of c's socket.
func socketInodeOf(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil || serr != nil {
		t.Fatalf("fstat: %v %v", err, serr)
	}
	return st.Ino
}

// TestSocketCountsInNetns checks, in a network namespace of its own where
// no other program opens sockets, that the kernel's counts follow sockets
// opening and closing, and that a Scanner keeps its table while they do
// not and lists a new socket at once. It needs root and ip(8).
func TestSocketCountsInNetns(t *testing.T) {
	ns := netnstest.New(t, "porttop-procs")
	ns.IP("link", "set", "lo", "up")
	ns.Run("TestSocketCountsChild")
}

// TestSocketCountsChild is the half of TestSocketCountsInNetns that runs
// inside the namespace.
func TestSocketCountsChild(t *testing.T) {
	if !netnstest.InChild() {
		t.Skip("runs only inside TestSocketCountsInNetns's namespace")
	}
	st, err := openSockstat("/proc")
	if err != nil {
		t.Fatal(err)
	}
	read := func() sockCounts {
		t.Helper()
		c, ok := st.read()
		if !ok {
			t.Fatal("sockstat unreadable")
		}
		return c
	}
	c0 := read()
	u4, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	want := c0
	want[0]++
	want[1]++
	if st.v6 != nil {
		u6, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		if err != nil {
			t.Fatal(err)
		}
		defer u6.Close()
		want[3]++
	}
	if got := read(); got != want {
		t.Fatalf("counts %v after opening sockets, want %v", got, want)
	}
	u4.Close()
	tl.Close()
	want[0]--
	want[1]--
	if got := read(); got != want {
		t.Fatalf("counts %v after closing sockets, want %v", got, want)
	}

	s := NewScanner(Options{})
	ctx := context.Background()
	for i, wantKept := range []bool{false, true, true} {
		tb, err := s.Refresh(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tb.Stats.Kept != wantKept {
			t.Fatalf("refresh %d with no socket opened: Kept %v, want %v", i+1, tb.Stats.Kept, wantKept)
		}
	}
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Stats.Kept || !hasLocal(tb.Sockets, key.UDP, u.LocalAddr()) {
		t.Fatalf("refresh after a socket opened: Kept %v, socket listed %v; want false, true", tb.Stats.Kept, hasLocal(tb.Sockets, key.UDP, u.LocalAddr()))
	}
	u.Close()
	tb, err = s.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Stats.Kept || hasLocal(tb.Sockets, key.UDP, u.LocalAddr()) {
		t.Fatalf("refresh after the socket closed: Kept %v, socket listed %v; want false, false", tb.Stats.Kept, hasLocal(tb.Sockets, key.UDP, u.LocalAddr()))
	}
}
