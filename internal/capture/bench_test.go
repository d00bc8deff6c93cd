//go:build unix

package capture

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
	"github.com/google/gopacket/pcapgo"
)

// benchPackets is the size of the generated benchmark capture.
const benchPackets = 100_000

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

// processCPU returns the process's CPU time (user+system), which the load
// of other processes on a shared machine disturbs less than wall time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPerPacket reports wall and CPU nanoseconds per packet since
// start/cpu0 for b.N reads of the benchmark file.
func reportPerPacket(b *testing.B, start time.Time, cpu0 time.Duration) {
	n := float64(b.N * benchPackets)
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/n, "ns/packet")
	b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/n, "cpu-ns/packet")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchFile writes (once per test binary) a pcap of benchPackets
// 1500-byte UDP frames cut to a 128-byte snaplen, like porttop's captures.
func benchFile(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		if benchDir, benchErr = os.MkdirTemp("", "capture-bench"); benchErr != nil {
			return
		}
		f, err := os.Create(filepath.Join(benchDir, "bench.pcap"))
		if err != nil {
			benchErr = err
			return
		}
		defer f.Close()
		bw := bufio.NewWriter(f)
		defer func() {
			if err := bw.Flush(); benchErr == nil {
				benchErr = err
			}
		}()
		w := pcapgo.NewWriter(bw)
		if benchErr = w.WriteFileHeader(DefaultSnaplen, layers.LinkTypeEthernet); benchErr != nil {
			return
		}
		frame := udpFrame(b, 40000, 443, 1458, 0)
		ts := time.Unix(1700000000, 0)
		for i := 0; i < benchPackets; i++ {
			ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond),
				CaptureLength: DefaultSnaplen, Length: len(frame)}
			if benchErr = w.WritePacket(ci, frame[:DefaultSnaplen]); benchErr != nil {
				return
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchDir, "bench.pcap")
}

// BenchmarkReadPcapgo is a bare read loop over OpenFile (pcapgo); one op
// reads the whole file.
func BenchmarkReadPcapgo(b *testing.B) {
	path := benchFile(b)
	b.ReportAllocs()
	start, cpu0 := time.Now(), processCPU(b)
	for b.Loop() {
		src, err := OpenFile(path, "")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		var ci Info
		for {
			_, err := src.ReadPacket(&ci)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		src.Close()
		if n != benchPackets {
			b.Fatalf("read %d packets, want %d", n, benchPackets)
		}
	}
	reportPerPacket(b, start, cpu0)
}

// BenchmarkReadLibpcap is the same bare loop over libpcap's file reader
// (gopacket/pcap, ZeroCopyReadPacketData).
func BenchmarkReadLibpcap(b *testing.B) {
	path := benchFile(b)
	b.ReportAllocs()
	start, cpu0 := time.Now(), processCPU(b)
	for b.Loop() {
		h, err := pcap.OpenOffline(path)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, _, err := h.ZeroCopyReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		h.Close()
		if n != benchPackets {
			b.Fatalf("read %d packets, want %d", n, benchPackets)
		}
	}
	reportPerPacket(b, start, cpu0)
}

// BenchmarkReadPcapgoFiltered is the pcapgo loop with a per-packet BPF
// filter that matches every packet (the cost of filtering a file).
func BenchmarkReadPcapgoFiltered(b *testing.B) {
	path := benchFile(b)
	b.ReportAllocs()
	start, cpu0 := time.Now(), processCPU(b)
	for b.Loop() {
		src, err := OpenFile(path, "udp port 443")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		var ci Info
		for {
			if _, err := src.ReadPacket(&ci); err != nil {
				break
			}
			n++
		}
		src.Close()
		if n != benchPackets {
			b.Fatalf("read %d packets, want %d", n, benchPackets)
		}
	}
	reportPerPacket(b, start, cpu0)
}
