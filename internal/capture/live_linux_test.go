package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestAFPacketProgram checks the kernel program: on loopback it starts by
// dropping PACKET_OUTGOING, then runs libpcap's program unchanged; the
// accepting returns carry the snaplen.
func TestAFPacketProgram(t *testing.T) {
	plain, err := afpacketProgram(128, "udp", false)
	if err != nil {
		t.Fatal(err)
	}
	lo, err := afpacketProgram(128, "udp", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(lo) != len(plain)+3 {
		t.Fatalf("loopback program has %d instructions, want %d+3", len(lo), len(plain))
	}
	head, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 0xfffff000 + 4, Size: 4}, // SKF_AD_OFF + SKF_AD_PKTTYPE
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 4, SkipFalse: 1},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range head {
		if lo[i] != head[i] {
			t.Fatalf("instruction %d: %+v, want %+v", i, lo[i], head[i])
		}
	}
	for i := range plain {
		if lo[i+3] != plain[i] {
			t.Fatalf("user instruction %d changed: %+v, want %+v", i, lo[i+3], plain[i])
		}
	}
	if _, err := afpacketProgram(128, "port 99999", true); err == nil {
		t.Fatal("bad filter compiled")
	}
}

// threadCPU returns the CPU time (user+system) of the calling OS thread.
func threadCPU(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLiveLo measures each engine's CPU per packet on lo: b.N UDP
// datagrams (64-byte payload) are sent to 127.0.0.1 as fast as one
// goroutine can, and the reading thread's own CPU time (getrusage
// RUSAGE_THREAD) is divided by the packets it read. Run with a packet
// count, e.g. -bench LiveLo -benchtime 200000x.
func BenchmarkLiveLo(b *testing.B) {
	needRoot(b)
	for _, e := range []Engine{EnginePcap, EngineAFPacket} {
		b.Run(e.String(), func(b *testing.B) {
			ln, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			src, err := OpenLive(LiveOptions{Interface: "lo", Engine: e,
				Filter: fmt.Sprintf("udp and dst port %d", ln.LocalAddr().(*net.UDPAddr).Port)})
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			sent := make(chan struct{})
			b.ResetTimer()
			go func() {
				defer close(sent)
				conn, err := net.Dial("udp4", ln.LocalAddr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				buf := make([]byte, 64)
				for i := 0; i < b.N; i++ {
					binary.BigEndian.PutUint32(buf, uint32(i))
					conn.Write(buf)
				}
			}()
			cpu0, wall0 := threadCPU(b), time.Now()
			got, idle := 0, 0
			var ci Info
			for got < b.N && idle < 3 {
				_, err := src.ReadPacket(&ci)
				switch {
				case err == ErrTimeout:
					select {
					case <-sent:
						idle++ // the sender is done: a few timeouts end the run
					default:
					}
				case err != nil:
					b.Fatal(err)
				default:
					got++
				}
			}
			cpu, wall := threadCPU(b)-cpu0, time.Since(wall0)
			b.StopTimer()
			<-sent
			st, _ := src.Stats()
			if got == 0 {
				b.Fatal("no packets captured")
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(got), "cpu-ns/pkt")
			b.ReportMetric(float64(got)/wall.Seconds(), "pkts/s")
			b.ReportMetric(float64(st.Dropped), "drops")
		})
	}
}

// TestRingCloseWhileHoldingPacket closes an AF_PACKET source from another
// goroutine while the reader still handles a packet that lives in the ring:
// the packet must stay readable (an unmapped ring would crash the test),
// the next ReadPacket must return io.EOF, and the ring and socket must be
// gone after it. Closing an idle source (no packet out) tears it down at
// once.
func TestRingCloseWhileHoldingPacket(t *testing.T) {
	needRoot(t)
	ln, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.LocalAddr().(*net.UDPAddr).Port
	src, err := OpenLive(LiveOptions{Interface: loopback(t), Engine: EngineAFPacket, Filter: fmt.Sprintf("udp and dst port %d", port)})
	if err != nil {
		t.Fatal(err)
	}
	r := src.(*ring)
	udpBlast(t, "udp4", ln.LocalAddr(), 3, 100)
	var data []byte
	for deadline := time.Now().Add(3 * time.Second); data == nil; {
		d, err := src.ReadPacket(new(Info))
		if err == ErrTimeout && time.Now().Before(deadline) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		data = d
	}
	closed := make(chan error)
	go func() { closed <- src.Close() }()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if r.state.Load() != ringClosing || r.mem == nil {
		t.Fatalf("after Close with a packet out: state %d, ring mapped %v; want closing and mapped", r.state.Load(), r.mem != nil)
	}
	// The datagram's payload starts with its sequence number 0.
	if got := binary.BigEndian.Uint32(data[14+20+8:]); got != 0 {
		t.Fatalf("packet held across Close reads sequence %d, want 0", got)
	}
	if _, err := src.ReadPacket(new(Info)); err != io.EOF {
		t.Fatalf("ReadPacket after Close: %v, want io.EOF", err)
	}
	if r.state.Load() != ringClosed || r.mem != nil {
		t.Fatalf("after the reader saw Close: state %d, ring mapped %v; want closed and unmapped", r.state.Load(), r.mem != nil)
	}
	if _, err := src.Stats(); err == nil {
		t.Fatal("Stats after close: no error")
	}

	idle, err := OpenLive(LiveOptions{Interface: loopback(t), Engine: EngineAFPacket, Filter: "udp and port 9 and host 192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if s := idle.(*ring).state.Load(); s != ringClosed {
		t.Fatalf("idle source after Close: state %d, want closed", s)
	}
	if _, err := idle.ReadPacket(new(Info)); err != io.EOF {
		t.Fatalf("ReadPacket on a closed idle source: %v, want io.EOF", err)
	}
}

// TestRingGeometry checks how --buffer sizes are cut into blocks.
func TestRingGeometry(t *testing.T) {
	for _, c := range []struct{ size, blockSize, blocks int }{
		{4 << 20, 1 << 20, 4},
		{8 << 20, 1 << 20, 8},
		{2 << 20, 512 << 10, 4},
		{1 << 20, 256 << 10, 4},
		{100 << 10, 64 << 10, 4}, // too small: rounded up to four of the smallest blocks
		{5 << 20, 1 << 20, 5},
	} {
		bs, n := ringGeometry(c.size)
		if bs != c.blockSize || n != c.blocks {
			t.Errorf("ringGeometry(%d) = %d x %d, want %d x %d", c.size, n, bs, c.blocks, c.blockSize)
		}
	}
}

// TestRingWake checks that Wake cuts a long wait short, whether it comes
// while ReadPacket waits or before it, and that the ring's default read
// timeout is the long one.
func TestRingWake(t *testing.T) {
	needRoot(t)
	src, err := OpenLive(LiveOptions{Interface: loopback(t), Engine: EngineAFPacket, Filter: "udp and port 9 and host 192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if r := src.(*ring); r.timeout != DefaultWakeableTimeout {
		t.Fatalf("read timeout %v, want %v", r.timeout, DefaultWakeableTimeout)
	}
	src.Close()
	src, err = OpenLive(LiveOptions{Interface: loopback(t), Engine: EngineAFPacket, Timeout: time.Minute, Filter: "udp and port 9 and host 192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w := src.(Waker)
	var ci Info
	for _, early := range []bool{false, true} {
		if early {
			w.Wake()
		}
		done := make(chan error, 1)
		go func() {
			_, err := src.ReadPacket(&ci)
			done <- err
		}()
		if !early {
			time.Sleep(50 * time.Millisecond) // let it wait (the test passes either way)
			w.Wake()
		}
		select {
		case err := <-done:
			if err != ErrTimeout {
				t.Fatalf("woken ReadPacket (wake before the read %v): %v, want ErrTimeout", early, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadPacket with a 1-minute timeout not woken within 10s (wake before the read %v)", early)
		}
	}
}
