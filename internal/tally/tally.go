// Package tally keeps the per-interval counters of one capture goroutine:
// bytes and packets each way per row (proto, port, side), the flows
// (4-tuples) seen on each row, and the "other" traffic.
//
// A Tally is written by exactly one goroutine at a time and never locked.
// At each tick the capture goroutine hands its Tally to the aggregator and
// continues on a fresh one (swap, don't copy); the aggregator reads it,
// calls Reset and hands it back. Counting a packet does not allocate once
// a row exists and the flow table has room: a row's first packet may grow
// the row slice or make a page of the row index, and the flow table starts
// small and doubles (up to its capacity) when it is three-quarters full,
// so memory follows the busiest interval instead of the worst case. A
// Tally keeps what it grew to across Reset.
package tally

import (
	"github.com/porttop/porttop/internal/classify"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// Row is the counters of one key during the interval.
type Row struct {
	Index uint32 // key.Key.Index()
	C     snapshot.Counters
	// Conns is the number of distinct flows seen on the row.
	Conns uint32
}

// Key returns the row's key.
func (r *Row) Key() key.Key { return key.FromIndex(r.Index) }

// Flow is one 4-tuple's counters during the interval.
type Flow struct {
	Tuple      classify.Tuple
	ServiceIsA bool
	Row        uint32 // key index of the row the flow counts under
	C          snapshot.Counters
}

// flowSlot is the part of a flow touched by every packet (48 bytes); the
// tuple, needed only when the flow is created and at the tick, lives in a
// parallel array so a lookup touches one cache line. Flows are told apart
// by their 64-bit tuple hash and row.
type flowSlot struct {
	hash uint64
	gen  uint32
	row  uint32
	c    snapshot.Counters
}

// flowID is the cold part of a flow.
type flowID struct {
	tuple      classify.Tuple
	serviceIsA bool
}

// Tally is the counters of one interval. See the package comment.
type Tally struct {
	// slots maps a key index to 1 + its position in Rows (0 = absent), in
	// pages of slotPage entries made on a row's first packet: a lookup is
	// two loads and no hashing, and only the pages of ports that had
	// traffic take memory (a flat array would be 1 MiB per tally, which
	// the GC counts as live and lets that much garbage pile up on top).
	slots [key.NumIndex / slotPage]*[slotPage]int32
	// Rows are the rows with traffic in this interval, in first-seen order.
	Rows []Row
	// Other counts frames that are not counted per port.
	Other snapshot.Counters

	flows     []flowSlot
	flowIDs   []flowID
	flowMask  uint64
	flowLimit int // flows the table holds before it grows (3/4 of its slots)
	maxSlots  int // the table never grows beyond this
	gen       uint32
	usedFlows []int32

	// Packets and Bytes count every frame (wire bytes), Skipped the
	// duplicate frames not counted at all.
	Packets, Bytes uint64
	Skipped        uint64
	// DecodeErrors counts frames with a malformed or truncated header,
	// Truncated those whose transport header was cut after the ports.
	DecodeErrors, Truncated uint64
	// FlowOverflow counts packets whose flow did not fit in the flow table.
	FlowOverflow uint64
}

// DefaultFlowCapacity is the most flow slots a Tally made by New with
// capacity 0 grows to; at most 3/4 of them are used.
const DefaultFlowCapacity = 1 << 14

// initialFlowSlots is the size of a new Tally's flow table: 768 flows
// before it first grows.
const initialFlowSlots = 1 << 10

// New returns an empty Tally whose flow table grows up to flowCapacity
// slots (rounded up to a power of two; 0 = DefaultFlowCapacity).
func New(flowCapacity int) *Tally {
	if flowCapacity <= 0 {
		flowCapacity = DefaultFlowCapacity
	}
	slots := 16
	for slots < flowCapacity {
		slots <<= 1
	}
	t := &Tally{Rows: make([]Row, 0, 1024), maxSlots: slots}
	t.makeFlows(min(slots, initialFlowSlots))
	return t
}

// makeFlows gives the tally an empty flow table of n slots.
func (t *Tally) makeFlows(n int) {
	t.flows = make([]flowSlot, n)
	t.flowIDs = make([]flowID, n)
	t.flowMask = uint64(n - 1)
	t.flowLimit = n / 4 * 3
	t.usedFlows = make([]int32, 0, t.flowLimit)
	t.gen = 1
}

// growFlows doubles the flow table and moves this interval's flows into
// it. It reports false when the table is already at its capacity.
func (t *Tally) growFlows() bool {
	if len(t.flows) >= t.maxSlots {
		return false
	}
	oldFlows, oldIDs, used := t.flows, t.flowIDs, t.usedFlows
	t.makeFlows(2 * len(oldFlows))
	for _, i := range used {
		s := oldFlows[i]
		j := s.hash & t.flowMask
		for t.flows[j].gen == t.gen {
			j = (j + 1) & t.flowMask
		}
		s.gen = t.gen
		t.flows[j] = s
		t.flowIDs[j] = oldIDs[i]
		t.usedFlows = append(t.usedFlows, int32(j))
	}
	return true
}

// slotPage is the number of key indexes per page of Tally.slots.
const slotPage = 256

// Add counts a packet of wireLen bytes classified as r.
func (t *Tally) Add(r *classify.Result, wireLen uint64) {
	idx := r.Key.Index()
	page := t.slots[idx/slotPage]
	if page == nil {
		page = new([slotPage]int32)
		t.slots[idx/slotPage] = page
	}
	s := page[idx%slotPage]
	if s == 0 {
		t.Rows = append(t.Rows, Row{Index: idx})
		s = int32(len(t.Rows))
		page[idx%slotPage] = s
	}
	row := &t.Rows[s-1]
	count(&row.C, r.Dir, wireLen)
	f, isNew := t.flow(r, idx)
	if f == nil {
		t.FlowOverflow++
		return
	}
	count(&f.c, r.Dir, wireLen)
	if isNew {
		row.Conns++
	}
}

// AddOther counts a packet that is not counted per port.
func (t *Tally) AddOther(d key.Dir, wireLen uint64) {
	count(&t.Other, d, wireLen)
}

func count(c *snapshot.Counters, d key.Dir, n uint64) {
	if d == key.Rx {
		c.RxBytes += n
		c.RxPackets++
	} else {
		c.TxBytes += n
		c.TxPackets++
	}
}

// flow finds or inserts r's flow (open addressing, linear probing). It
// returns nil when the table is full and at its capacity.
func (t *Tally) flow(r *classify.Result, row uint32) (*flowSlot, bool) {
	for i := r.Hash & t.flowMask; ; i = (i + 1) & t.flowMask {
		f := &t.flows[i]
		if f.gen != t.gen {
			if len(t.usedFlows) >= t.flowLimit {
				if !t.growFlows() {
					return nil, false
				}
				return t.flow(r, row)
			}
			*f = flowSlot{hash: r.Hash, gen: t.gen, row: row}
			t.flowIDs[i] = flowID{tuple: r.Tuple, serviceIsA: r.ServiceIsA}
			t.usedFlows = append(t.usedFlows, int32(i))
			return f, true
		}
		if f.hash == r.Hash && f.row == row {
			return f, false
		}
	}
}

// Flows calls fn for every flow of the interval. The *Flow is only valid
// during the call.
func (t *Tally) Flows(fn func(f *Flow)) {
	var f Flow
	for _, i := range t.usedFlows {
		s, id := &t.flows[i], &t.flowIDs[i]
		f = Flow{Tuple: id.tuple, ServiceIsA: id.serviceIsA, Row: s.row, C: s.c}
		fn(&f)
	}
}

// NumFlows returns the number of flows in the interval.
func (t *Tally) NumFlows() int { return len(t.usedFlows) }

// Reset empties the tally for the next interval, in time proportional to
// what it held.
func (t *Tally) Reset() {
	for i := range t.Rows {
		idx := t.Rows[i].Index
		t.slots[idx/slotPage][idx%slotPage] = 0
	}
	t.Rows = t.Rows[:0]
	t.Other = snapshot.Counters{}
	t.usedFlows = t.usedFlows[:0]
	t.gen++
	if t.gen == 0 { // wrapped: old generations could look current
		for i := range t.flows {
			t.flows[i].gen = 0
		}
		t.gen = 1
	}
	t.Packets, t.Bytes, t.Skipped = 0, 0, 0
	t.DecodeErrors, t.Truncated, t.FlowOverflow = 0, 0, 0
}
