package procs

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// ownName is the process name the kernel shows for this test binary.
func ownName(t testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(exe)
}

func listenBoth(t *testing.T) (*net.TCPListener, *net.UDPConn) {
	t.Helper()
	tl, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	ul, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ul.Close() })
	return tl, ul
}

// connect opens a TCP connection to the listener tl and returns both ends
// (closed with the test).
func connect(t *testing.T, tl *net.TCPListener) (client, server net.Conn) {
	t.Helper()
	c, err := net.DialTimeout("tcp", tl.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc, err := tl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return c, sc
}

func TestLiveOwnListeners(t *testing.T) {
	tl, ul := listenBoth(t)
	tport := uint16(tl.Addr().(*net.TCPAddr).Port)
	uport := uint16(ul.LocalAddr().(*net.UDPAddr).Port)

	// A connection from this process to its own listener.
	c, _ := connect(t, tl)

	tb, err := NewScanner(Options{}).Refresh(context.Background())
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	pid := int32(os.Getpid())
	name := ownName(t)
	for _, want := range []struct {
		proto key.Proto
		port  uint16
	}{{key.TCP, tport}, {key.UDP, uport}} {
		var found *Socket
		for _, s := range tb.Listening() {
			if s.Proto == want.proto && s.Local.Port() == want.port {
				found = &s
				break
			}
		}
		if found == nil {
			t.Errorf("%v port %d not listed as listening", want.proto, want.port)
			continue
		}
		if found.PID != pid || found.Local.Addr() != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("%v port %d: got %+v, want pid %d on 127.0.0.1", want.proto, want.port, *found, pid)
		}
		p, ok := tb.Process(found.PID)
		if !ok || p.Name != name || p.PID != pid || p.Cmdline == "" || p.User == "" {
			t.Errorf("%v port %d: process %+v, want name %q", want.proto, want.port, p, name)
		}
	}

	local := key.Key{Proto: key.TCP, Port: tport, Side: key.Local}
	remote := key.Key{Proto: key.TCP, Port: tport, Side: key.Remote}
	client := netip.MustParseAddrPort(c.LocalAddr().String())
	server := netip.MustParseAddrPort(c.RemoteAddr().String())
	ports := []snapshot.Port{{Key: local}, {Key: remote}}
	flows := []snapshot.Flow{{Key: remote, Local: client, Peer: server, Total: snapshot.Counters{TxBytes: 10}}}
	Annotate(ports, flows, tb)
	if !ports[0].Listening || ports[0].PID != pid || ports[0].Process != name {
		t.Errorf("local row: got %+v", ports[0])
	}
	if ports[1].PID != pid || len(ports[1].Processes) != 1 || ports[1].Processes[0].Bytes != 10 {
		t.Errorf("remote row: got %+v", ports[1])
	}
	found := false
	for _, k := range ListeningPorts(tb) {
		found = found || k == local
	}
	if !found {
		t.Errorf("ListeningPorts lacks %v", local)
	}
}

func TestWatcher(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := NewWatcher(NewScanner(Options{}), time.Hour)
	if w.Latest() != nil {
		t.Fatal("Latest before Start: want nil")
	}
	w.Start(ctx)
	w.Start(ctx) // a second Start does nothing
	first, err := w.Wait(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	tl, _ := listenBoth(t)
	port := uint16(tl.Addr().(*net.TCPAddr).Port)
	w.Kick()
	second, err := w.Wait(ctx, first.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if second.Seq <= first.Seq || w.Latest().Seq < second.Seq {
		t.Errorf("seq did not advance: %d then %d", first.Seq, second.Seq)
	}
	listed := false
	for _, k := range ListeningPorts(second) {
		listed = listed || k.Port == port && k.Proto == key.TCP
	}
	if !listed {
		t.Errorf("port %d opened before Kick is not in the next table", port)
	}
	st := w.Stats()
	if st.Refreshes < 2 || st.Err != nil || st.Max < st.Last || st.Total < st.Max || st.Last <= 0 {
		t.Errorf("stats: %+v", st)
	}
	cancel()
	select {
	case <-w.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("watcher did not stop after cancel")
	}
	if _, err := w.Wait(context.Background(), second.Seq+100); !errors.Is(err, ErrStopped) {
		t.Errorf("Wait on a stopped watcher: got %v, want ErrStopped", err)
	}
}

func TestNextWait(t *testing.T) {
	if got := nextWait(time.Second, 20*time.Millisecond); got != time.Second {
		t.Errorf("cheap refresh: got %v, want the interval", got)
	}
	if got := nextWait(time.Second, 300*time.Millisecond); got != 3*time.Second {
		t.Errorf("costly refresh: got %v, want 3s", got)
	}
}

// A UDP socket on an ephemeral port (what sendto() on an unbound socket
// gets) is not a service for the service-port rule; a UDP socket bound to
// a port outside that range, and TCP listeners anywhere, are.
func TestListeningPortsSkipsEphemeralUDP(t *testing.T) {
	eph, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer eph.Close()
	lo, hi := ephemeralRange()
	ephPort := uint16(eph.LocalAddr().(*net.UDPAddr).Port)
	if ephPort < lo || ephPort > hi {
		t.Skipf("kernel gave port %d outside its range %d-%d", ephPort, lo, hi)
	}
	var fixed *net.UDPConn
	for p := 20000; p < 20100 && fixed == nil; p++ { // bounded search for a free port below the range
		fixed, _ = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
	}
	if fixed == nil {
		t.Skip("no free UDP port in 20000-20099")
	}
	defer fixed.Close()
	tcpL, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tcpL.Close()
	tb, err := NewScanner(Options{}).Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	has := map[key.Key]bool{}
	for _, k := range ListeningPorts(tb) {
		has[k] = true
	}
	if has[key.Key{Proto: key.UDP, Port: ephPort}] {
		t.Errorf("ephemeral UDP port %d counted as a service", ephPort)
	}
	if !has[key.Key{Proto: key.UDP, Port: uint16(fixed.LocalAddr().(*net.UDPAddr).Port)}] {
		t.Error("UDP port below the ephemeral range missing")
	}
	if !has[key.Key{Proto: key.TCP, Port: uint16(tcpL.Addr().(*net.TCPAddr).Port)}] {
		t.Error("TCP listener missing")
	}
}
