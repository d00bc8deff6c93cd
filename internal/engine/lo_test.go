package engine

import (
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture on lo needs root (CI runs as root); skipped")
	}
}

// latest keeps the last published snapshot.
type latest struct {
	p atomic.Pointer[snapshot.Snapshot]
}

func (l *latest) Publish(s *snapshot.Snapshot) error {
	l.p.Store(s)
	return nil
}

func (l *latest) row(k key.Key) snapshot.Counters {
	s := l.p.Load()
	if s == nil {
		return snapshot.Counters{}
	}
	for _, p := range s.Ports {
		if p.Key == k {
			return p.Total
		}
	}
	return snapshot.Counters{}
}

// referenceCount counts, with gopacket's own decoder on a separate libpcap
// handle, the frames to and from a TCP port on lo: an independent check of
// porttop's byte counts.
type referenceCount struct {
	mu     sync.Mutex
	rx, tx uint64
	h      *pcap.Handle
	done   chan struct{}
}

func startReference(t *testing.T, port int) *referenceCount {
	t.Helper()
	h, err := pcap.OpenLive("lo", 256, false, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetBPFFilter("tcp port " + strconv.Itoa(port)); err != nil {
		t.Fatal(err)
	}
	r := &referenceCount{h: h, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		src := gopacket.NewPacketSource(h, h.LinkType())
		for {
			p, err := src.NextPacket()
			if err == io.EOF {
				return
			}
			if err != nil {
				if err == pcap.NextErrorTimeoutExpired {
					continue
				}
				return
			}
			tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if tcp == nil {
				continue
			}
			r.mu.Lock()
			if int(tcp.DstPort) == port {
				r.rx += uint64(p.Metadata().Length)
			} else {
				r.tx += uint64(p.Metadata().Length)
			}
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *referenceCount) get() (uint64, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rx, r.tx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runEngine runs e live until the test ends, then stops it and reports
// an error Run returns.
func runEngine(t *testing.T, e *Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// bothEngines runs fn as a subtest for each live capture engine.
func bothEngines(t *testing.T, fn func(t *testing.T, eng capture.Engine)) {
	for _, eng := range []capture.Engine{capture.EnginePcap, capture.EngineAFPacket} {
		t.Run(eng.String(), func(t *testing.T) { fn(t, eng) })
	}
}

func TestLiveLoopback(t *testing.T) {
	needRoot(t)
	bothEngines(t, liveLoopback)
}

func liveLoopback(t *testing.T, eng capture.Engine) {
	// Servers first, so their ports are known before capture starts.
	udp4, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp4.Close()
	udp6, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer udp6.Close()
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	p4 := udp4.LocalAddr().(*net.UDPAddr).Port
	p6 := udp6.LocalAddr().(*net.UDPAddr).Port
	pt := tl.Addr().(*net.TCPAddr).Port

	src, err := capture.OpenLive(capture.LiveOptions{Interface: "lo", Engine: eng,
		Filter: "port " + strconv.Itoa(p4) + " or port " + strconv.Itoa(p6) + " or port " + strconv.Itoa(pt)})
	if err != nil {
		t.Fatal(err)
	}
	ref := startReference(t, pt)
	defer func() { ref.h.Close(); <-ref.done }()
	var last latest
	// The UDP servers are listening sockets (rule 1); the TCP service end
	// is found by its SYN (rule 2).
	procs := fakeProcs{listen: []key.Key{{Proto: key.UDP, Port: uint16(p4)}, {Proto: key.UDP, Port: uint16(p6)}}}
	e, err := New(Config{Interval: 100 * time.Millisecond}, Inputs{Sources: []capture.Source{src}, Processes: procs}, &last)
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	eventually(t, 5*time.Second, "the first snapshot", func() bool { return last.p.Load() != nil })

	// UDP: n requests of 100 bytes, each answered with 300 bytes.
	const n = 20
	echo := func(pc net.PacketConn) {
		buf := make([]byte, 2048)
		for i := 0; i < n; i++ {
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(make([]byte, 300), addr)
		}
	}
	go echo(udp4)
	go echo(udp6)
	for _, c := range []struct {
		network, addr string
	}{{"udp4", udp4.LocalAddr().String()}, {"udp6", udp6.LocalAddr().String()}} {
		conn, err := net.Dial(c.network, c.addr)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		for i := 0; i < n; i++ {
			conn.Write(make([]byte, 100))
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Read(buf); err != nil {
				t.Fatal(err)
			}
		}
		conn.Close()
	}
	// TCP: 10 kB up, 50 kB down.
	go func() {
		c, err := tl.Accept()
		if err != nil {
			return
		}
		io.CopyN(io.Discard, c, 10000)
		c.Write(make([]byte, 50000))
		c.Close()
	}()
	c, err := net.Dial("tcp4", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write(make([]byte, 10000))
	io.Copy(io.Discard, c)
	c.Close()

	k4 := key.Key{Proto: key.UDP, Port: uint16(p4)}
	k6 := key.Key{Proto: key.UDP, Port: uint16(p6)}
	want4 := snapshot.Counters{RxBytes: n * (14 + 20 + 8 + 100), TxBytes: n * (14 + 20 + 8 + 300), RxPackets: n, TxPackets: n}
	want6 := snapshot.Counters{RxBytes: n * (14 + 40 + 8 + 100), TxBytes: n * (14 + 40 + 8 + 300), RxPackets: n, TxPackets: n}
	eventually(t, 5*time.Second, "the UDP rows", func() bool { return last.row(k4) == want4 && last.row(k6) == want6 })

	kt := key.Key{Proto: key.TCP, Port: uint16(pt)}
	eventually(t, 5*time.Second, "the TCP row to match the reference count", func() bool {
		rx, tx := ref.get()
		got := last.row(kt)
		return rx > 10000 && tx > 50000 && got.RxBytes == rx && got.TxBytes == tx
	})
	for _, p := range last.p.Load().Ports {
		if p.Key.Side != key.Local {
			t.Errorf("loopback row %v is not side local", p.Key)
		}
	}
}

// TestLiveSplitsAtTick checks on lo that an interval holds exactly the
// packets that arrived before its tick, also when the source had not
// handed them over yet at the tick (the AF_PACKET ring holds a partly
// filled block for up to half a second): datagrams sent before and after
// a moment are split there by a tick at that moment, and the next tick
// has them all.
func TestLiveSplitsAtTick(t *testing.T) {
	needRoot(t)
	bothEngines(t, liveSplitsAtTick)
}

func liveSplitsAtTick(t *testing.T, eng capture.Engine) {
	srv, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	port := srv.LocalAddr().(*net.UDPAddr).Port
	src, err := capture.OpenLive(capture.LiveOptions{Interface: "lo", Engine: eng,
		Filter: "udp port " + strconv.Itoa(port), HoldTime: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now(), ch: make(chan time.Time)}
	snaps := make(chanSink, 4)
	k := key.Key{Proto: key.UDP, Port: uint16(port)}
	e, err := New(Config{}, Inputs{Sources: []capture.Source{src}, Clock: clock,
		Processes: fakeProcs{listen: []key.Key{k}}}, snaps)
	if err != nil {
		t.Fatal(err)
	}
	runEngine(t, e)
	tickAt := func(at time.Time) snapshot.Counters {
		t.Helper()
		<-clock.startedCh()
		clock.mu.Lock()
		clock.now = at
		clock.mu.Unlock()
		clock.ch <- at
		select {
		case s := <-snaps:
			for _, p := range s.Ports {
				if p.Key == k {
					return p.Total
				}
			}
			return snapshot.Counters{}
		case <-time.After(10 * time.Second):
			t.Fatal("no snapshot within 10s of a tick")
			return snapshot.Counters{}
		}
	}

	c, err := net.Dial("udp4", srv.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := c.Write(make([]byte, 100)); err != nil {
				t.Fatal(err)
			}
		}
	}
	const frame = 14 + 20 + 8 + 100
	send(5)
	time.Sleep(2 * time.Millisecond)
	mid := time.Now()
	time.Sleep(2 * time.Millisecond)
	send(3)
	if got := tickAt(mid); got.RxPackets != 5 || got.RxBytes != 5*frame {
		t.Errorf("interval ending between the datagrams: %d packets, %d bytes; want 5, %d", got.RxPackets, got.RxBytes, 5*frame)
	}
	time.Sleep(2 * time.Millisecond)
	if got := tickAt(time.Now()); got.RxPackets != 8 || got.RxBytes != 8*frame {
		t.Errorf("next interval: %d packets, %d bytes in total; want 8, %d", got.RxPackets, got.RxBytes, 8*frame)
	}
}
