package capture

import (
	"encoding/binary"
	"fmt"
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
			for got < b.N && idle < 3 {
				_, _, err := src.ReadPacket()
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
