package render

import (
	"testing"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// BenchmarkRowsAndCells sorts 10,000 rows by rate and formats every cell:
// the work of one dashboard refresh at the 10,000-port target.
func BenchmarkRowsAndCells(b *testing.B) {
	s := &snapshot.Snapshot{Interval: time.Second}
	for i := range 10000 {
		s.Ports = append(s.Ports, snapshot.Port{
			Key:   key.Key{Proto: key.Proto(i % 2), Port: uint16(i)},
			Delta: snapshot.Counters{RxBytes: uint64(i * 7919 % 100000), TxBytes: uint64(i % 13)},
			Total: snapshot.Counters{RxBytes: uint64(i) << 20, RxPackets: uint64(i)},
		})
	}
	cols := Columns()
	var cells []string
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range Rows(s, Options{}) {
			cells = Cells(cells[:0], cols, r, Options{})
		}
	}
}
