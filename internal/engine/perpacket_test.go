package engine

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/classify"
	"github.com/porttop/porttop/internal/pcapgen"
)

// benchFrames returns the frames of the benchmark mix (1,000 service
// ports, full-size segments cut to a 128-byte snaplen, ACKs, DNS).
func benchFrames(tb testing.TB, n int) ([][]byte, []capture.Info) {
	tb.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(128, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	g := pcapgen.New(w, genStart, time.Microsecond, 128)
	if err := pcapgen.Bench(g, n, 1000); err != nil {
		tb.Fatal(err)
	}
	src, err := capture.NewReader(&buf, "bench", "")
	if err != nil {
		tb.Fatal(err)
	}
	var frames [][]byte
	var infos []capture.Info
	for {
		var ci capture.Info
		d, err := src.ReadPacket(&ci)
		if err != nil {
			break
		}
		frames = append(frames, append([]byte(nil), d...))
		infos = append(infos, ci)
	}
	return frames, infos
}

func newBenchWorker() *worker {
	var epoch atomic.Uint64
	var boundary atomic.Int64
	return newWorker(&fakeSource{name: "bench"}, classify.New(classify.Options{}), 0, &epoch, &boundary)
}

// TestPerPacketAllocs guards the hot path: decoding, classifying and
// tallying a packet must not allocate once its row exists.
func TestPerPacketAllocs(t *testing.T) {
	frames, infos := benchFrames(t, 4000)
	w := newBenchWorker()
	for i := range frames { // first pass: rows and flows are created
		w.handle(frames[i], &infos[i])
	}
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		w.handle(frames[i%len(frames)], &infos[i%len(frames)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet, want 0", allocs)
	}
	if w.cur.Packets == 0 || len(w.cur.Rows) != 1001 {
		t.Fatalf("tally: %d packets, %d rows (want 1001)", w.cur.Packets, len(w.cur.Rows))
	}
}

// BenchmarkPerPacket measures decode + classify + tally of one packet of
// the benchmark mix (steady state: rows and flows exist).
func BenchmarkPerPacket(b *testing.B) {
	frames, infos := benchFrames(b, 100000)
	w := newBenchWorker()
	for i := range frames {
		w.handle(frames[i], &infos[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.handle(frames[i], &infos[i])
		i++
		if i == len(frames) {
			i = 0
		}
	}
}

// panicSource panics on its first read, then ends.
type panicSource struct {
	fakeSource
	reads int
}

func (p *panicSource) ReadPacket(*capture.Info) ([]byte, error) {
	p.reads++
	if p.reads == 1 {
		panic("decoder bug")
	}
	return nil, io.EOF
}

// A panic while handling a packet is counted as a decode error and the
// capture goes on.
func TestWorkerRecoversFromPanic(t *testing.T) {
	var epoch atomic.Uint64
	var boundary atomic.Int64
	src := &panicSource{fakeSource: fakeSource{name: "x"}}
	w := newWorker(src, classify.New(classify.Options{}), 0, &epoch, &boundary)
	if err := w.run(); err != nil {
		t.Fatalf("run = %v", err)
	}
	if w.panics != 1 || w.cur.DecodeErrors != 1 || src.reads != 2 {
		t.Fatalf("panics %d, decode errors %d, reads %d", w.panics, w.cur.DecodeErrors, src.reads)
	}
}
