package pcapgen

import (
	"testing"
	"time"

	"github.com/google/gopacket"

	"github.com/porttop/porttop/internal/snapshot"
)

// countWriter counts what a generator writes.
type countWriter struct {
	packets, wire, captured int
	maxCap                  int
}

func (c *countWriter) WritePacket(ci gopacket.CaptureInfo, data []byte) error {
	c.packets++
	c.wire += ci.Length
	c.captured += len(data)
	if ci.CaptureLength != len(data) || ci.Length < len(data) {
		panic("inconsistent capture info")
	}
	c.maxCap = max(c.maxCap, len(data))
	return nil
}

// The labels add up to everything written: every frame is counted exactly
// once, either under a row or under other.
func TestExpectAddsUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(g *Generator) error
	}{
		{"testdata", Testdata},
		{"bench", func(g *Generator) error { return Bench(g, 5000, 100) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w countWriter
			g := New(&w, time.Unix(0, 0), time.Millisecond, 128)
			if err := tc.gen(g); err != nil {
				t.Fatal(err)
			}
			var sum snapshot.Counters
			for _, c := range g.Expect.Rows {
				sum.Add(c)
			}
			sum.Add(g.Expect.Other)
			if sum.Packets() != uint64(w.packets) || sum.Bytes() != uint64(w.wire) ||
				g.Expect.Packets != uint64(w.packets) || g.Expect.Bytes != uint64(w.wire) {
				t.Fatalf("labels %d packets %d bytes; written %d packets %d bytes", sum.Packets(), sum.Bytes(), w.packets, w.wire)
			}
			if w.maxCap > 128 || w.captured >= w.wire {
				t.Fatalf("snaplen not applied: max captured %d", w.maxCap)
			}
		})
	}
	if err := Bench(New(&countWriter{}, time.Unix(0, 0), 0, 0), 10, 0); err == nil {
		t.Fatal("Bench accepted 0 ports")
	}
}
