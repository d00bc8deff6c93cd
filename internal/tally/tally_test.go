package tally

import (
	"net/netip"
	"testing"

	"github.com/porttop/porttop/internal/classify"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

func result(port uint16, dir key.Dir, clientPort uint16) *classify.Result {
	a := netip.MustParseAddr("10.0.0.1").As16()
	b := netip.MustParseAddr("10.0.0.2").As16()
	t, srcIsA := classify.MakeTuple(6, &a, &b, clientPort, port)
	return &classify.Result{
		Key: key.Key{Proto: key.TCP, Port: port}, Dir: dir, Tuple: t, Hash: t.Hash(), ServiceIsA: !srcIsA,
	}
}

func TestAddAndReset(t *testing.T) {
	tl := New(64)
	tl.Add(result(443, key.Rx, 50000), 100)
	tl.Add(result(443, key.Tx, 50000), 1500)
	tl.Add(result(443, key.Rx, 50001), 60)
	tl.Add(result(22, key.Rx, 50002), 70)
	tl.AddOther(key.Tx, 42)
	if len(tl.Rows) != 2 {
		t.Fatalf("%d rows", len(tl.Rows))
	}
	r := tl.Rows[0]
	if r.Key() != (key.Key{Proto: key.TCP, Port: 443}) {
		t.Fatalf("first row %v", r.Key())
	}
	want := snapshot.Counters{RxBytes: 160, TxBytes: 1500, RxPackets: 2, TxPackets: 1}
	if r.C != want || r.Conns != 2 {
		t.Fatalf("443: %+v conns %d", r.C, r.Conns)
	}
	if tl.Other != (snapshot.Counters{TxBytes: 42, TxPackets: 1}) {
		t.Fatalf("other %+v", tl.Other)
	}
	var flows int
	tl.Flows(func(f *Flow) {
		flows++
		if f.Row == (key.Key{Proto: key.TCP, Port: 443}).Index() && f.Tuple == result(443, key.Rx, 50000).Tuple {
			if f.C != (snapshot.Counters{RxBytes: 100, TxBytes: 1500, RxPackets: 1, TxPackets: 1}) {
				t.Errorf("flow counters %+v", f.C)
			}
		}
	})
	if flows != 3 || tl.NumFlows() != 3 {
		t.Fatalf("%d flows", flows)
	}
	tl.Reset()
	if len(tl.Rows) != 0 || tl.NumFlows() != 0 || !tl.Other.IsZero() {
		t.Fatal("reset left data")
	}
	// After a reset the same key starts a new row with fresh counters and
	// the same flow counts as a new connection again.
	tl.Add(result(443, key.Rx, 50000), 10)
	if len(tl.Rows) != 1 || tl.Rows[0].C.RxBytes != 10 || tl.Rows[0].Conns != 1 {
		t.Fatalf("after reset: %+v", tl.Rows)
	}
}

func TestFlowOverflow(t *testing.T) {
	tl := New(16) // 12 usable flow slots
	for i := 0; i < 20; i++ {
		tl.Add(result(80, key.Rx, uint16(40000+i)), 100)
	}
	if tl.NumFlows() != 12 || tl.FlowOverflow != 8 {
		t.Fatalf("%d flows, %d overflow", tl.NumFlows(), tl.FlowOverflow)
	}
	// Bytes are counted even when the flow does not fit.
	if tl.Rows[0].C.RxBytes != 2000 || tl.Rows[0].Conns != 12 {
		t.Fatalf("row %+v", tl.Rows[0])
	}
}

func TestGenerationWrap(t *testing.T) {
	tl := New(16)
	tl.Add(result(80, key.Rx, 1), 1)
	tl.gen = ^uint32(0)
	tl.Reset() // wraps to 0: every slot must be cleared
	if tl.gen != 1 {
		t.Fatalf("gen %d", tl.gen)
	}
	tl.Add(result(80, key.Rx, 1), 1)
	if tl.Rows[0].Conns != 1 || tl.NumFlows() != 1 {
		t.Fatal("stale flow survived the wrap")
	}
}

func TestAddAllocs(t *testing.T) {
	tl := New(0)
	r := result(443, key.Rx, 50000)
	tl.Add(r, 1)
	if n := testing.AllocsPerRun(1000, func() { tl.Add(r, 100) }); n != 0 {
		t.Fatalf("Add allocates %v", n)
	}
}

// TestFlowTableGrows fills a tally with more flows than its first table
// holds: the table doubles as needed, every flow keeps its counters across
// the moves (a flow seen again is not a new connection), nothing
// overflows, and the grown table stays after Reset.
func TestFlowTableGrows(t *testing.T) {
	tl := New(0)
	if len(tl.flows) != initialFlowSlots {
		t.Fatalf("new tally has %d flow slots, want %d", len(tl.flows), initialFlowSlots)
	}
	const n = 10000 // needs 16,384 slots: 12,288 usable
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < n; i++ {
			port := uint16(80 + i%3)
			tl.Add(result(port, key.Rx, uint16(20000+i)), uint64(100+i))
		}
	}
	if tl.NumFlows() != n || tl.FlowOverflow != 0 || len(tl.flows) != DefaultFlowCapacity {
		t.Fatalf("%d flows, %d overflow, %d slots; want %d, 0, %d", tl.NumFlows(), tl.FlowOverflow, len(tl.flows), n, DefaultFlowCapacity)
	}
	conns := 0
	for _, r := range tl.Rows {
		conns += int(r.Conns)
	}
	if conns != n {
		t.Fatalf("rows count %d connections, want %d", conns, n)
	}
	seen := 0
	tl.Flows(func(f *Flow) {
		seen++
		client := f.Tuple.APort
		if f.ServiceIsA {
			client = f.Tuple.BPort
		}
		i := uint64(client) - 20000
		if f.C != (snapshot.Counters{RxBytes: 2 * (100 + i), RxPackets: 2}) {
			t.Fatalf("flow from port %d: %+v", client, f.C)
		}
	})
	if seen != n {
		t.Fatalf("Flows visited %d, want %d", seen, n)
	}
	tl.Reset()
	if len(tl.flows) != DefaultFlowCapacity {
		t.Fatalf("after Reset %d slots, want the grown %d", len(tl.flows), DefaultFlowCapacity)
	}
	r := result(443, key.Rx, 50000)
	tl.Add(r, 1)
	if a := testing.AllocsPerRun(100, func() { tl.Add(r, 1) }); a != 0 {
		t.Fatalf("Add on a grown table allocates %v", a)
	}
}
