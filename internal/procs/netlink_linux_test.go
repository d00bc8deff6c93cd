//go:build linux

package procs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// nlMsg builds one netlink message of type typ with payload, padded to the
// 4-byte alignment.
func nlMsg(typ uint16, seq uint32, payload []byte) []byte {
	n := nlmsgHdrLen + len(payload)
	b := make([]byte, nlmsgAlign(n))
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(n))
	ne.PutUint16(b[4:], typ)
	ne.PutUint16(b[6:], unix.NLM_F_MULTI)
	ne.PutUint32(b[8:], seq)
	copy(b[nlmsgHdrLen:], payload)
	return b
}

// diagMsg builds the inet_diag_msg of one socket. An IPv4 address with
// family AF_INET6 is written IPv4-mapped, as the kernel does for a dual-stack
// socket.
func diagMsg(family uint8, state uint8, local, remote netip.AddrPort, uid, inode uint32) []byte {
	p := make([]byte, diagMsgLen)
	p[0] = family
	p[diagOffState] = state
	binary.BigEndian.PutUint16(p[diagOffSport:], local.Port())
	binary.BigEndian.PutUint16(p[diagOffDport:], remote.Port())
	put := func(off int, a netip.Addr) {
		if family == unix.AF_INET {
			b := a.As4()
			copy(p[off:], b[:])
		} else {
			b := a.As16()
			copy(p[off:], b[:])
		}
	}
	put(diagOffSrc, local.Addr())
	put(diagOffDst, remote.Addr())
	binary.NativeEndian.PutUint32(p[diagOffUID:], uid)
	binary.NativeEndian.PutUint32(p[diagOffInode:], inode)
	return p
}

func errPayload(errno int32) []byte {
	p := make([]byte, 4+nlmsgHdrLen)
	binary.NativeEndian.PutUint32(p, uint32(errno))
	return p
}

func doneMsg(seq uint32, status int32) []byte {
	p := make([]byte, 4)
	binary.NativeEndian.PutUint32(p, uint32(status))
	return nlMsg(unix.NLMSG_DONE, seq, p)
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

var (
	mustAP  = netip.MustParseAddrPort
	zero4   = mustAP("0.0.0.0:0")
	zero6   = mustAP("[::]:0")
	listen4 = diagMsg(unix.AF_INET, 10, mustAP("127.0.0.1:8080"), zero4, 1000, 4242)
	est6    = diagMsg(unix.AF_INET6, 1, mustAP("[::1]:443"), mustAP("[::1]:50000"), 0, 77)
	mapped  = diagMsg(unix.AF_INET6, 1, mustAP("127.0.0.1:22"), mustAP("10.0.0.2:40000"), 0, 78)
	tw4     = diagMsg(unix.AF_INET, 6, mustAP("127.0.0.1:1"), mustAP("127.0.0.1:2"), 0, 0)
)

func TestParseDiagDump(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		proto   key.Proto
		want    []Socket
		done    bool
		wantErr error // matched with errors.Is; nil means no error
		anyErr  bool  // some error, not a particular one
	}{
		{
			name:  "tcp sockets then done",
			in:    cat(nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, listen4), nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, est6), nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, mapped), nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, tw4), doneMsg(1, 0)),
			proto: key.TCP,
			want: []Socket{
				{Proto: key.TCP, Local: mustAP("127.0.0.1:8080"), Remote: zero4, Listening: true, State: "LISTEN", UID: 1000, Inode: 4242},
				{Proto: key.TCP, Local: mustAP("[::1]:443"), Remote: mustAP("[::1]:50000"), State: "ESTABLISHED", Inode: 77},
				{Proto: key.TCP, Local: mustAP("127.0.0.1:22"), Remote: mustAP("10.0.0.2:40000"), State: "ESTABLISHED", Inode: 78},
				{Proto: key.TCP, Local: mustAP("127.0.0.1:1"), Remote: mustAP("127.0.0.1:2"), State: "TIME_WAIT"},
			},
			done: true,
		},
		{
			name:  "part of a multi-part dump",
			in:    nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, listen4),
			proto: key.TCP,
			want:  []Socket{{Proto: key.TCP, Local: mustAP("127.0.0.1:8080"), Remote: zero4, Listening: true, State: "LISTEN", UID: 1000, Inode: 4242}},
		},
		{
			name:  "udp bound and connected",
			in:    cat(nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(unix.AF_INET6, 7, mustAP("[::1]:53"), zero6, 0, 5)), nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(unix.AF_INET, 1, mustAP("127.0.0.1:5000"), mustAP("127.0.0.1:53"), 0, 6)), doneMsg(1, 0)),
			proto: key.UDP,
			want: []Socket{
				{Proto: key.UDP, Local: mustAP("[::1]:53"), Remote: zero6, Listening: true, Inode: 5},
				{Proto: key.UDP, Local: mustAP("127.0.0.1:5000"), Remote: mustAP("127.0.0.1:53"), Inode: 6},
			},
			done: true,
		},
		{
			name:  "stale sequence skipped",
			in:    cat(nlMsg(unix.SOCK_DIAG_BY_FAMILY, 9, listen4), doneMsg(9, 0), nlMsg(unix.NLMSG_NOOP, 1, nil)),
			proto: key.TCP,
		},
		{name: "empty", in: nil, proto: key.TCP},
		{name: "done without status", in: nlMsg(unix.NLMSG_DONE, 1, nil), proto: key.TCP, done: true},
		{name: "done with error", in: doneMsg(1, -int32(unix.EPERM)), proto: key.TCP, done: true, wantErr: unix.EPERM},
		{name: "netlink error", in: nlMsg(unix.NLMSG_ERROR, 1, errPayload(-int32(unix.ENOENT))), proto: key.TCP, done: true, wantErr: unix.ENOENT},
		{name: "ack", in: cat(nlMsg(unix.NLMSG_ERROR, 1, errPayload(0)), doneMsg(1, 0)), proto: key.TCP, done: true},
		{name: "error without code", in: nlMsg(unix.NLMSG_ERROR, 1, []byte{1}), proto: key.TCP, wantErr: errDiagTruncated},
		{name: "short header", in: make([]byte, 10), proto: key.TCP, wantErr: errDiagTruncated},
		{name: "length past end", in: nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, listen4)[:40], proto: key.TCP, wantErr: errDiagTruncated},
		{name: "length under header", in: func() []byte { b := nlMsg(unix.NLMSG_NOOP, 1, nil); b[0] = 3; return b }(), proto: key.TCP, wantErr: errDiagTruncated},
		{name: "short inet_diag_msg", in: nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, listen4[:40]), proto: key.TCP, wantErr: errDiagTruncated},
		{name: "unknown family", in: nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, diagMsg(unix.AF_UNIX, 1, zero4, zero4, 0, 1)), proto: key.TCP, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Socket
			done, err := parseDiagDump(tt.in, 1, tt.proto, func(s Socket) { got = append(got, s) })
			switch {
			case tt.anyErr || tt.wantErr != nil:
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			}
			if done != tt.done {
				t.Errorf("done = %v, want %v", done, tt.done)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestFillRequestUIDs(t *testing.T) {
	socks := []Socket{
		{Proto: key.TCP, Local: mustAP("0.0.0.0:80"), Remote: zero4, Listening: true, State: "LISTEN", UID: 33, Inode: 1},
		{Proto: key.TCP, Local: mustAP("127.0.0.1:80"), Remote: zero4, Listening: true, State: "LISTEN", UID: 44, Inode: 2},
		{Proto: key.TCP, Local: mustAP("[::]:443"), Remote: zero6, Listening: true, State: "LISTEN", UID: 55, Inode: 3},
		{Proto: key.TCP, Local: mustAP("127.0.0.1:80"), Remote: mustAP("127.0.0.1:5000"), State: "SYN_RECV"},
		{Proto: key.TCP, Local: mustAP("10.0.0.1:80"), Remote: mustAP("10.0.0.2:5000"), State: "SYN_RECV"},
		{Proto: key.TCP, Local: mustAP("10.0.0.1:443"), Remote: mustAP("10.0.0.2:5001"), State: "SYN_RECV"},
		{Proto: key.TCP, Local: mustAP("10.0.0.1:8080"), Remote: mustAP("10.0.0.2:5002"), State: "SYN_RECV"},
		{Proto: key.TCP, Local: mustAP("127.0.0.1:80"), Remote: mustAP("127.0.0.1:5003"), State: "TIME_WAIT"},
	}
	fillRequestUIDs(socks)
	want := []int32{33, 44, 55, 44, 33, 55, 0, 0}
	for i, s := range socks {
		if s.UID != want[i] {
			t.Errorf("%d %v %v: uid %d, want %d", i, s.Local, s.State, s.UID, want[i])
		}
	}
}

func TestPutDiagRequest(t *testing.T) {
	b := make([]byte, nlmsgHdrLen+diagReqLen)
	putDiagRequest(b, 7, unix.AF_INET6, unix.IPPROTO_UDP, diagAllStates)
	ne := binary.NativeEndian
	if got := ne.Uint32(b); got != 72 {
		t.Errorf("nlmsg_len %d, want 72", got)
	}
	if got := ne.Uint16(b[4:]); got != unix.SOCK_DIAG_BY_FAMILY {
		t.Errorf("type %d", got)
	}
	if got := ne.Uint16(b[6:]); got != unix.NLM_F_REQUEST|unix.NLM_F_DUMP {
		t.Errorf("flags %#x", got)
	}
	if got := ne.Uint32(b[8:]); got != 7 {
		t.Errorf("seq %d", got)
	}
	if b[16] != unix.AF_INET6 || b[17] != unix.IPPROTO_UDP || ne.Uint32(b[20:]) != diagAllStates {
		t.Errorf("request % x", b[16:24])
	}
}

// FuzzParseDiagDump checks that no datagram makes the parser panic, and that
// every socket it returns is well-formed. The seed corpus is under
// testdata/fuzz/FuzzParseDiagDump (a real dump reply among them).
func FuzzParseDiagDump(f *testing.F) {
	f.Add(cat(nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, listen4), nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, mapped), doneMsg(1, 0)))
	f.Add(nlMsg(unix.NLMSG_ERROR, 1, errPayload(-2)))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, proto := range []key.Proto{key.TCP, key.UDP} {
			parseDiagDump(b, 1, proto, func(s Socket) {
				if !s.Local.IsValid() || !s.Remote.IsValid() || s.Local.Addr().Is4In6() || s.Remote.Addr().Is4In6() {
					t.Fatalf("bad socket %+v", s)
				}
				if s.Proto == key.UDP && s.State != "" {
					t.Fatalf("udp socket with state %+v", s)
				}
			})
		}
	})
}

// TestWriteDiagCorpus writes real dump replies (this host's sockets, with a
// listener and a connection of this test's among them) and some malformed
// datagrams into the fuzz seed corpus when PORTTOP_WRITE_CORPUS is set.
func TestWriteDiagCorpus(t *testing.T) {
	if os.Getenv("PORTTOP_WRITE_CORPUS") == "" {
		t.Skip("set PORTTOP_WRITE_CORPUS=1 to capture dump replies")
	}
	tl, _ := listenBoth(t)
	c, err := net.Dial("tcp4", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := filepath.Join("testdata", "fuzz", "FuzzParseDiagDump")
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		t.Skip(err)
	}
	defer unix.Close(fd)
	req := make([]byte, nlmsgHdrLen+diagReqLen)
	buf := make([]byte, diagRecvBufSize)
	for _, d := range diagDumps {
		putDiagRequest(req, 1, d.family, d.protocol, diagAllStates)
		if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			n, err := unix.Read(fd, buf)
			if err != nil {
				t.Fatal(err)
			}
			write(fmt.Sprintf("captured-%v-%d-%d", d.proto, d.family, i), buf[:n])
			if done, err := parseDiagDump(buf[:n], 1, d.proto, func(Socket) {}); done || err != nil {
				break
			}
		}
	}
	write("constructed-mixed", cat(nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, listen4), nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, est6), nlMsg(unix.SOCK_DIAG_BY_FAMILY, 9, mapped), nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, tw4), doneMsg(1, 0)))
	write("constructed-error", nlMsg(unix.NLMSG_ERROR, 1, errPayload(-int32(unix.ENOENT))))
	write("constructed-done-error", doneMsg(1, -int32(unix.EPERM)))
	write("constructed-truncated", nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, listen4)[:50])
	write("constructed-short-msg", nlMsg(unix.SOCK_DIAG_BY_FAMILY, 1, listen4[:40]))
}

func countSockets(socks []Socket) map[Socket]int {
	m := make(map[Socket]int, len(socks))
	for _, s := range socks {
		m[s]++
	}
	return m
}

// TestDiagMatchesProc lists the sockets of this namespace through netlink
// and through /proc/net and checks the two agree exactly: the same sockets
// with the same ends, states, uids and inodes. The table is read from /proc
// before and after the netlink listing, so that sockets other processes
// open or close meanwhile do not fail the test: every socket in both /proc
// listings must be in the netlink one, and every socket netlink lists must
// be in one of them. This test's own sockets must be in all three.
func TestDiagMatchesProc(t *testing.T) {
	if _, err := readDiag(false, nil); err != nil {
		t.Skipf("netlink sock_diag unavailable: %v", err)
	}
	tl, ul := listenBoth(t)
	tl6, err := net.ListenTCP("tcp6", &net.TCPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer tl6.Close()
	ul6, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	defer ul6.Close()
	c, sc := connect(t, tl)
	c6, sc6 := connect(t, tl6)

	ctx := context.Background()
	var mismatch []string
	for attempt := 0; attempt < 5; attempt++ {
		before, err := readTables(ctx, "/proc/net", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		viaNetlink, err := readDiag(false, nil)
		if err != nil {
			t.Fatal(err)
		}
		after, err := readTables(ctx, "/proc/net", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, n, a := countSockets(before), countSockets(viaNetlink), countSockets(after)
		mismatch = mismatch[:0]
		for s, cnt := range b {
			if cnt2, ok := a[s]; ok && n[s] < min(cnt, cnt2) {
				mismatch = append(mismatch, fmt.Sprintf("in /proc (%d, %d times), netlink has %d: %+v", cnt, cnt2, n[s], s))
			}
		}
		for s := range n {
			if cnt := n[s]; cnt > max(b[s], a[s]) {
				mismatch = append(mismatch, fmt.Sprintf("netlink has %d, /proc %d and %d: %+v", cnt, b[s], a[s], s))
			}
		}
		if len(mismatch) == 0 {
			t.Logf("attempt %d: %d sockets via netlink, %d and %d via /proc", attempt, len(viaNetlink), len(before), len(after))
			mustHave(t, viaNetlink, tl.Addr(), ul.LocalAddr(), tl6.Addr(), ul6.LocalAddr(), c.LocalAddr(), sc.LocalAddr(), c6.LocalAddr(), sc6.LocalAddr())
			return
		}
	}
	sort.Strings(mismatch)
	t.Errorf("netlink and /proc disagree:\n%s", strings.Join(mismatch, "\n"))
}

// mustHave checks that every one of addrs is the local end of a socket in
// socks that has an inode.
func mustHave(t *testing.T, socks []Socket, addrs ...net.Addr) {
	t.Helper()
	for _, a := range addrs {
		want := netip.MustParseAddrPort(a.String())
		var proto key.Proto = key.TCP
		if _, ok := a.(*net.UDPAddr); ok {
			proto = key.UDP
		}
		found := false
		for _, s := range socks {
			if s.Proto == proto && s.Local == want && s.Inode != 0 && s.UID == int32(os.Getuid()) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %v socket on %v with an inode and uid %d", proto, want, os.Getuid())
		}
	}
}

// TestRefreshFallsBackToProc checks that a refresh whose netlink listing
// fails reads /proc/net instead, and that netlink is given up on after
// maxNetlinkFails failures in a row.
func TestRefreshFallsBackToProc(t *testing.T) {
	tl, _ := listenBoth(t)
	s := NewScanner(Options{RelistEvery: 1})
	ls := s.sockets.(*linuxSockets)
	calls := 0
	ls.listDiag = func(bool, []Socket) ([]Socket, error) {
		calls++
		return nil, unix.ENOENT
	}
	for i := 1; i <= maxNetlinkFails+2; i++ {
		tb, err := s.Refresh(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		mustHave(t, tb.Sockets, tl.Addr())
	}
	if calls != maxNetlinkFails || !ls.noNetlink {
		t.Errorf("netlink tried %d times (noNetlink %v), want %d then given up", calls, ls.noNetlink, maxNetlinkFails)
	}
}

// TestFixtureSkipsNetlink checks that a fixture /proc is read as such, not
// replaced by this host's sockets from netlink.
func TestFixtureSkipsNetlink(t *testing.T) {
	s := NewScanner(Options{})
	s.sockets.(*linuxSockets).listDiag = func(bool, []Socket) ([]Socket, error) {
		t.Fatal("netlink used for a fixture /proc")
		return nil, nil
	}
	if _, err := s.Refresh(fixtureCtx(filepath.Join("testdata", "proc"))); err != nil {
		t.Fatal(err)
	}
}

// hasLocal reports whether socks holds a socket of proto whose local end is a.
func hasLocal(socks []Socket, proto key.Proto, a net.Addr) bool {
	want := netip.MustParseAddrPort(a.String())
	for _, s := range socks {
		if s.Proto == proto && s.Local == want {
			return true
		}
	}
	return false
}

// TestListenOnlyRefreshes checks the cheap refreshes: a listen-only
// netlink listing has the TCP listeners and UDP sockets but no TCP
// connection; a Scanner lists connections on its first refresh, every
// ConnectionsEvery-th after that and after WantConnections, and carries
// the last listed connections, owners included, into the others.
func TestListenOnlyRefreshes(t *testing.T) {
	if _, err := readDiag(false, nil); err != nil {
		t.Skipf("netlink sock_diag unavailable: %v", err)
	}
	tl, ul := listenBoth(t)
	c1, _ := connect(t, tl)
	lo, err := readDiag(true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasLocal(lo, key.TCP, tl.Addr()) || !hasLocal(lo, key.UDP, ul.LocalAddr()) || hasLocal(lo, key.TCP, c1.LocalAddr()) {
		t.Fatalf("listen-only listing: listener %v, UDP %v, connection %v; want true, true, false",
			hasLocal(lo, key.TCP, tl.Addr()), hasLocal(lo, key.UDP, ul.LocalAddr()), hasLocal(lo, key.TCP, c1.LocalAddr()))
	}

	s := NewScanner(Options{ConnectionsEvery: 3, RelistEvery: 1})
	ls := s.sockets.(*linuxSockets)
	var listenOnly []bool
	ls.listDiag = func(l bool, socks []Socket) ([]Socket, error) {
		listenOnly = append(listenOnly, l)
		return readDiag(l, socks)
	}
	var c2 net.Conn
	for i, step := range []struct {
		want     func()
		fresh    bool
		has, not []net.Conn
	}{
		{fresh: true},  // seq 1: the first lists everything
		{fresh: false}, // seq 2: carried over
		{fresh: false}, // seq 3: carried over
		{fresh: true},  // seq 4: the 3rd since the last listing
		{fresh: false, want: func() { c2, _ = connect(t, tl) }}, // seq 5: c2 is not listed yet
		{fresh: true, want: s.WantConnections},                  // seq 6: asked for
	} {
		if step.want != nil {
			step.want()
		}
		tb, err := s.Refresh(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tb.Stats.Connections != step.fresh || listenOnly[i] == step.fresh {
			t.Fatalf("refresh %d: Connections %v, listen-only listing %v; want %v, %v", i+1, tb.Stats.Connections, listenOnly[i], step.fresh, !step.fresh)
		}
		_, own, _ := tb.owner(key.TCP, netip.MustParseAddrPort(c1.LocalAddr().String()), netip.MustParseAddrPort(c1.RemoteAddr().String()))
		if !hasLocal(tb.Sockets, key.TCP, c1.LocalAddr()) || !own {
			t.Fatalf("refresh %d: the first connection listed %v, owned %v; want both", i+1, hasLocal(tb.Sockets, key.TCP, c1.LocalAddr()), own)
		}
		if c2 != nil && hasLocal(tb.Sockets, key.TCP, c2.LocalAddr()) != step.fresh {
			t.Fatalf("refresh %d: the second connection listed %v, want %v", i+1, !step.fresh, step.fresh)
		}
	}
}

// TestWatcherAsksForConnections checks that annotating a flow that a
// carried-over table lacks asks for a fresh listing at once, and that a
// flow no fresh listing knows (not a local socket's) does not keep asking.
func TestWatcherAsksForConnections(t *testing.T) {
	if _, err := readDiag(false, nil); err != nil {
		t.Skipf("netlink sock_diag unavailable: %v", err)
	}
	tl, _ := listenBoth(t)
	s := NewScanner(Options{ConnectionsEvery: 1000})
	w := NewWatcher(s, time.Hour) // not started: the test refreshes by hand
	refresh := func() *Table {
		t.Helper()
		tb, err := s.Refresh(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		w.latest.Store(tb)
		return tb
	}
	asked := func() bool {
		kicked := false
		select {
		case <-w.kick:
			kicked = true
		default:
		}
		want := s.wantConns.Load()
		if want != kicked {
			t.Fatalf("WantConnections %v but Kick %v", want, kicked)
		}
		return want
	}
	svc := netip.MustParseAddrPort(tl.Addr().String())
	row := key.Key{Proto: key.TCP, Port: svc.Port(), Side: key.Local}
	stranger := snapshot.Flow{Key: row, Local: netip.MustParseAddrPort("192.0.2.1:" + fmt.Sprint(svc.Port())), Peer: netip.MustParseAddrPort("198.51.100.7:40000")}
	annotate := func(flows ...snapshot.Flow) {
		w.Annotate([]snapshot.Port{{Key: row}}, flows)
	}

	refresh() // lists connections
	c, _ := connect(t, tl)
	if tb := refresh(); tb.Stats.Connections {
		t.Fatal("second refresh listed connections")
	}
	flow := snapshot.Flow{Key: row, Local: netip.MustParseAddrPort(c.RemoteAddr().String()), Peer: netip.MustParseAddrPort(c.LocalAddr().String())}
	annotate(flow, stranger)
	if !asked() {
		t.Fatal("a connection the table lacks did not ask for a listing")
	}
	if tb := refresh(); !tb.Stats.Connections {
		t.Fatal("the refresh after WantConnections did not list connections")
	}
	ports := []snapshot.Port{{Key: row}}
	w.Annotate(ports, []snapshot.Flow{flow, stranger})
	if ports[0].PID != int32(os.Getpid()) || asked() {
		t.Fatalf("after a fresh listing: pid %d (want %d), asked again %v", ports[0].PID, os.Getpid(), s.wantConns.Load())
	}
	refresh() // carried over again
	annotate(flow, stranger)
	if asked() {
		t.Fatal("a flow of no local socket keeps asking for listings")
	}
}
