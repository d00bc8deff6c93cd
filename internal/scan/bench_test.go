package scan

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"github.com/porttop/porttop/internal/key"
)

// The full-range comparison with nmap is bench_nmap.sh; these benchmarks
// measure the per-port cost behind it, on ports of 127.0.0.1 that nothing
// listens on.

func BenchmarkQuickConnectClosed(b *testing.B) {
	port := benchClosedPort(b)
	if _, _, ok := quickConnect(loopback4, port); !ok {
		b.Skip("no fast path here")
	}
	b.ReportAllocs()
	for b.Loop() {
		if st, _, _ := quickConnect(loopback4, port); st != Closed {
			b.Fatalf("state %v", st)
		}
	}
}

func BenchmarkDialClosed(b *testing.B) {
	address := netip.AddrPortFrom(loopback4, benchClosedPort(b)).String()
	d := net.Dialer{Timeout: DefaultTimeout}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Dial("tcp", address); err == nil {
			b.Fatal("connected to a closed port")
		}
	}
}

// BenchmarkSweep1024 is a sweep of 1,024 ports through the worker pool;
// ns/op divided by 1,024 is the cost of one port.
func BenchmarkSweep1024(b *testing.B) {
	ports := make([]uint16, 0, 1024)
	for p := range uint16(1024) {
		ports = append(ports, 40000+p)
	}
	o := Options{Ports: ports, Concurrency: 1000, ServiceName: func(_ key.Proto, _ uint16) string { return "" }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ScanAddr(context.Background(), loopback4, o); err != nil {
			b.Fatal(err)
		}
	}
}

func benchClosedPort(b *testing.B) uint16 {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	return p
}
