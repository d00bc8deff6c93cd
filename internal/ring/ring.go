// Package ring keeps the recent history of the engine's per-tick snapshots:
// rates averaged over a window (2 s, 10 s, 40 s), each port's per-tick
// history for sparklines and the detail chart, and each interface's NIC
// rates for the interface charts.
//
// The engine's aggregator goroutine calls Push once per tick; the dashboard
// and reports read from any goroutine. A sync.RWMutex guards the ring; it is
// taken once per tick and per read, never per packet.
//
// # Storage
//
// Full snapshots are not kept (only the latest one, for Latest). Each tick
// stores, for each port with traffic in that tick, one 16-byte entry: the
// key's index and the tick's rx and tx bytes (48 bits each; a tick or bucket
// carrying 256 TiB or more in one direction on one port saturates). Two tiers:
//
//   - fine: the last Config.FineTicks ticks at full resolution (default 240:
//     four minutes at 1 s, enough for the 40 s window and a 200-column chart);
//   - coarse: Config.CoarseBuckets buckets, each the sum of
//     Config.CoarseTicks consecutive ticks (default 60 × 60: one hour of
//     per-minute sums at 1 s ticks).
//
// Each tier's slices are reused when a slot is overwritten, so once warm a
// Push allocates nothing unless more ports are active than ever before in
// that slot.
//
// # Memory bound
//
// With P ports active per tick (and per coarse bucket) and I interfaces:
//
//	fine:    FineTicks     × (16 B × P + 24 B × I + 80 B)
//	coarse:  CoarseBuckets × (16 B × P + 24 B × I + 88 B)
//	merge:   2 × 16 B × P  (two buffers summing the open coarse bucket)
//	+ Go's allocation rounding (≤ 12.5% per block up to 32 KiB, ≤ 8 KiB above)
//
// so 16 B per active port per tick held, 300 ticks held by default. Before
// rounding, 1,000 active ports take 240×16,000 + 60×16,000 + 32,000 B ≈
// 4.8 MB, and 10,000 ports ≈ 48 MB. With rounding and bookkeeping,
// Config{}.MemoryBound gives, for two interfaces:
//
//	 1,000 active ports:  5,547,120 B (5.3 MiB); measured 4,994,392 B
//	10,000 active ports: 49,588,384 B (47.3 MiB)
//
// A test pushes 3,600 ticks of 1,000 active ports and asserts that the bytes
// allocated stay within MemoryBound (and that a warm Push allocates
// nothing). A smaller FineTicks shrinks the dominant term (FineTicks=64:
// about 2 MB for 1,000 ports, 20 MB for 10,000).
package ring

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// Defaults and limits of Config.
const (
	// DefaultFineTicks is the fine tier's length: four minutes at 1 s.
	DefaultFineTicks = 240
	// DefaultCoarseTicks is the ticks per coarse bucket: a minute at 1 s.
	DefaultCoarseTicks = 60
	// DefaultCoarseBuckets is the coarse tier's length: an hour of minutes.
	DefaultCoarseBuckets = 60
	// MaxTicks caps each Config field, so a bad value cannot exhaust memory.
	MaxTicks = 86400
	// MaxInterfaces caps the distinct interface names remembered; charts of
	// further names are not kept.
	MaxInterfaces = 256
)

// Config sizes a Ring. Zero or negative fields take their defaults; fields
// above MaxTicks are cut to it.
type Config struct {
	// FineTicks is how many recent ticks are kept at full resolution.
	FineTicks int
	// CoarseTicks is how many ticks one coarse bucket sums.
	CoarseTicks int
	// CoarseBuckets is how many coarse buckets are kept.
	CoarseBuckets int
}

func (c Config) normalized() Config {
	fix := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return min(v, MaxTicks)
	}
	return Config{
		FineTicks:     fix(c.FineTicks, DefaultFineTicks),
		CoarseTicks:   fix(c.CoarseTicks, DefaultCoarseTicks),
		CoarseBuckets: fix(c.CoarseBuckets, DefaultCoarseBuckets),
	}
}

// Sizes of the stored records, in bytes (see the package comment).
const (
	entrySize      = 16 // entry
	ifaceSize      = 24 // ifaceSample
	tickHeader     = 80 // tick without its slices' contents
	bucketHeader   = 88 // bucket without its slices' contents
	fixedOverhead  = 64 << 10
	smallBlockSize = 32 << 10
	pageSize       = 8 << 10
)

// MemoryBound returns the most bytes a Ring with this config allocates for
// history when at most activePorts ports are active in any tick and at most
// interfaces interfaces are reported, once warmed up: every slot of both
// tiers full, Go's allocation rounding and a fixed 64 KiB for the ring's own
// bookkeeping (interface names, the latest snapshot pointer) included. It
// excludes the snapshots themselves.
func (c Config) MemoryBound(activePorts, interfaces int) int64 {
	c = c.normalized()
	p, n := int64(max(activePorts, 0)), int64(min(max(interfaces, 0), MaxInterfaces))
	fine := int64(c.FineTicks) * (tickHeader + rounded(entrySize*p) + rounded(ifaceSize*n))
	coarse := int64(c.CoarseBuckets) * (bucketHeader + rounded(entrySize*p) + rounded(ifaceSize*n))
	merge := 2*rounded(entrySize*p) + 2*rounded(16*n)
	return fine + coarse + merge + fixedOverhead
}

// rounded is an upper bound of the bytes Go allocates for a block of n.
func rounded(n int64) int64 {
	if n <= 0 {
		return 0
	}
	if n <= smallBlockSize {
		return n + n/8 + 8
	}
	return (n + pageSize - 1) / pageSize * pageSize
}

// Sample is one point of a history: the average rates over one tick (or one
// coarse bucket) that ended at Time and lasted Interval.
type Sample struct {
	Time         time.Time
	Interval     time.Duration
	RxBps, TxBps float64
}

// entry is one port's bytes in one tick or bucket: 16 bytes.
type entry struct {
	idx    uint32 // key.Key.Index()
	hi     uint32 // rx bits 47..32 in the high half, tx bits 47..32 in the low half
	rx, tx uint32 // bits 31..0
}

const max48 = 1<<48 - 1

func makeEntry(idx uint32, rx, tx uint64) entry {
	rx, tx = min(rx, max48), min(tx, max48)
	return entry{idx: idx, hi: uint32(rx>>32)<<16 | uint32(tx>>32), rx: uint32(rx), tx: uint32(tx)}
}

func (e entry) rxBytes() uint64 { return uint64(e.hi>>16)<<32 | uint64(e.rx) }
func (e entry) txBytes() uint64 { return uint64(e.hi&0xffff)<<32 | uint64(e.tx) }

// add sums two entries of the same index, saturating at 48 bits.
func (e entry) add(o entry) entry {
	return makeEntry(e.idx, sat(e.rxBytes(), o.rxBytes()), sat(e.txBytes(), o.txBytes()))
}

func sat(a, b uint64) uint64 { return min(a+b, max48) } // a, b ≤ max48: no overflow

func cmpEntry(a, b entry) int {
	switch {
	case a.idx < b.idx:
		return -1
	case a.idx > b.idx:
		return 1
	}
	return 0
}

// find returns idx's rx and tx bytes in es (sorted by idx), 0 when absent.
func find(es []entry, idx uint32) (rx, tx uint64) {
	i, ok := slices.BinarySearchFunc(es, entry{idx: idx}, cmpEntry)
	if !ok {
		return 0, 0
	}
	return es[i].rxBytes(), es[i].txBytes()
}

// ifaceSample is one interface's NIC rates in a tick, or in a coarse bucket
// its bytes-weighted average: 24 bytes.
type ifaceSample struct {
	slot         int32 // index into Ring.ifNames
	rxBps, txBps float64
}

func findIface(is []ifaceSample, slot int32) (rx, tx float64) {
	for _, s := range is {
		if s.slot == slot {
			return s.rxBps, s.txBps
		}
	}
	return 0, 0
}

// tick is one fine slot.
type tick struct {
	end    time.Time
	dur    time.Duration
	ports  []entry // sorted by idx; only ports with traffic in the tick
	ifaces []ifaceSample
}

// bucket is one coarse slot: the sum of CoarseTicks ticks.
type bucket struct {
	end    time.Time
	dur    time.Duration
	ticks  int
	ports  []entry
	ifaces []ifaceSample
}

// Ring is the history. Create it with New; all methods are safe for
// concurrent use, with Push called from one goroutine at a time.
//
// Both tiers are circular arrays indexed the same way:
//
//	slots: 0      1      2      3      4      5      6      7     (size 8, n = 8 held)
//	     [ t9 ] [ t10] [ t11] [ t4 ] [ t5 ] [ t6 ] [ t7 ] [ t8 ]
//	                           ^ head: next write; the oldest once full
//
//	i-th oldest (0 ≤ i < n):  (head - n + i + size) % size
//	j-th newest (0 ≤ j < n):  (head - 1 - j + size) % size
//
// Push writes fine[head], then head = (head+1) % size and n = min(n+1, size).
// Every CoarseTicks pushes, the summed ticks become coarse[cHead] the same way.
type Ring struct {
	cfg Config

	mu     sync.RWMutex
	latest *snapshot.Snapshot

	fine        []tick
	head, count int

	coarse        []bucket
	cHead, cCount int

	// The open coarse bucket: acc holds its per-port sums sorted by idx;
	// spare is the second buffer of the merge. accIf is indexed by slot
	// and holds bytes (rate × seconds).
	acc, spare []entry
	accIf      []ifBytes
	accDur     time.Duration
	accTicks   int

	ifNames []string
	ifSlots map[string]int32
}

type ifBytes struct{ rx, tx float64 }

// New returns an empty ring sized by cfg (see Config for defaults).
func New(cfg Config) *Ring {
	cfg = cfg.normalized()
	return &Ring{
		cfg:     cfg,
		fine:    make([]tick, cfg.FineTicks),
		coarse:  make([]bucket, cfg.CoarseBuckets),
		ifSlots: make(map[string]int32),
	}
}

// Config returns the ring's configuration, defaults filled in.
func (r *Ring) Config() Config { return r.cfg }

// Push records s as the newest tick: each port's Delta and each interface's
// NIC rates over s.Interval. The ring keeps s itself only as Latest. A nil
// snapshot is ignored; a negative interval counts as zero.
func (r *Ring) Push(s *snapshot.Snapshot) {
	if s == nil {
		return
	}
	active := 0
	for i := range s.Ports {
		if d := &s.Ports[i].Delta; d.RxBytes != 0 || d.TxBytes != 0 {
			active++
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.latest = s

	t := &r.fine[r.head]
	t.end, t.dur = s.Time, max(s.Interval, 0)
	t.ports = resize(t.ports, active)
	n := 0
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Delta.RxBytes != 0 || p.Delta.TxBytes != 0 {
			t.ports[n] = makeEntry(p.Key.Index(), p.Delta.RxBytes, p.Delta.TxBytes)
			n++
		}
	}
	t.ports = mergeDuplicates(t.ports)

	nIf := 0
	for i := range s.Interfaces {
		if r.slot(s.Interfaces[i].Name) >= 0 {
			nIf++
		}
	}
	t.ifaces = resizeIf(t.ifaces, nIf)
	nIf = 0
	for i := range s.Interfaces {
		f := &s.Interfaces[i]
		if slot := r.slot(f.Name); slot >= 0 {
			t.ifaces[nIf] = ifaceSample{slot: slot, rxBps: finite(f.RxBps), txBps: finite(f.TxBps)}
			nIf++
		}
	}

	r.head = (r.head + 1) % len(r.fine)
	r.count = min(r.count+1, len(r.fine))
	r.accumulate(t)
}

// resize returns es with length n, reusing its array when big enough and
// otherwise allocating exactly n (so the memory bound stays exact).
func resize(es []entry, n int) []entry {
	if cap(es) >= n {
		return es[:n]
	}
	return make([]entry, n)
}

func resizeIf(is []ifaceSample, n int) []ifaceSample {
	if cap(is) >= n {
		return is[:n]
	}
	return make([]ifaceSample, n)
}

// mergeDuplicates sorts es by idx and sums entries of the same index, which
// a well-formed snapshot never has.
func mergeDuplicates(es []entry) []entry {
	slices.SortFunc(es, cmpEntry)
	out := 0
	for i := range es {
		if out > 0 && es[out-1].idx == es[i].idx {
			es[out-1] = es[out-1].add(es[i])
			continue
		}
		es[out] = es[i]
		out++
	}
	return es[:out]
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

// slot returns the interface name's slot, adding it when there is room;
// -1 once MaxInterfaces names are known.
func (r *Ring) slot(name string) int32 {
	if s, ok := r.ifSlots[name]; ok {
		return s
	}
	if len(r.ifNames) >= MaxInterfaces {
		return -1
	}
	s := int32(len(r.ifNames))
	r.ifNames = append(r.ifNames, name)
	r.ifSlots[name] = s
	return s
}

// accumulate adds tick t to the open coarse bucket and closes the bucket
// after CoarseTicks ticks.
func (r *Ring) accumulate(t *tick) {
	// Merge the sorted t.ports into the sorted acc, through spare.
	size := len(r.acc) + len(t.ports)
	for i, j := 0, 0; i < len(r.acc) && j < len(t.ports); {
		switch c := cmpEntry(r.acc[i], t.ports[j]); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			size--
			i++
			j++
		}
	}
	out := resize(r.spare, size)
	i, j, k := 0, 0, 0
	for i < len(r.acc) || j < len(t.ports) {
		switch {
		case j == len(t.ports) || (i < len(r.acc) && r.acc[i].idx < t.ports[j].idx):
			out[k] = r.acc[i]
			i++
		case i == len(r.acc) || t.ports[j].idx < r.acc[i].idx:
			out[k] = t.ports[j]
			j++
		default:
			out[k] = r.acc[i].add(t.ports[j])
			i++
			j++
		}
		k++
	}
	r.acc, r.spare = out, r.acc

	secs := t.dur.Seconds()
	if len(r.accIf) < len(r.ifNames) {
		r.accIf = append(r.accIf, make([]ifBytes, len(r.ifNames)-len(r.accIf))...)
	}
	for _, f := range t.ifaces {
		r.accIf[f.slot].rx += f.rxBps * secs
		r.accIf[f.slot].tx += f.txBps * secs
	}
	r.accDur += t.dur
	r.accTicks++
	if r.accTicks < r.cfg.CoarseTicks {
		return
	}

	b := &r.coarse[r.cHead]
	b.end, b.dur, b.ticks = t.end, r.accDur, r.accTicks
	b.ports = resize(b.ports, len(r.acc))
	copy(b.ports, r.acc)
	nIf := 0
	for _, a := range r.accIf {
		if a != (ifBytes{}) {
			nIf++
		}
	}
	b.ifaces = resizeIf(b.ifaces, nIf)
	nIf = 0
	accSecs := r.accDur.Seconds()
	for slot, a := range r.accIf {
		if a == (ifBytes{}) {
			continue
		}
		s := ifaceSample{slot: int32(slot)}
		if accSecs > 0 {
			s.rxBps, s.txBps = a.rx/accSecs, a.tx/accSecs
		}
		b.ifaces[nIf] = s
		nIf++
	}
	r.cHead = (r.cHead + 1) % len(r.coarse)
	r.cCount = min(r.cCount+1, len(r.coarse))

	r.acc = r.acc[:0]
	clear(r.accIf)
	r.accDur, r.accTicks = 0, 0
}

// Latest returns the most recently pushed snapshot, nil before the first.
func (r *Ring) Latest() *snapshot.Snapshot {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.latest
}

// Len returns the number of ticks held at full resolution: the most History
// can return (at most Config.FineTicks).
func (r *Ring) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}

// CoarseLen returns the number of closed coarse buckets held.
func (r *Ring) CoarseLen() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cCount
}

// fineAt returns the j-th newest tick (j = 0 is the newest). r.mu is held.
func (r *Ring) fineAt(j int) *tick {
	return &r.fine[(r.head-1-j+len(r.fine))%len(r.fine)]
}

// Rate returns k's receive and transmit rates in bytes per second averaged
// over the last window of ticks, measured with the snapshots' own Interval
// values (packet time when reading a file). When the oldest tick in the
// window reaches past it, only its share inside the window counts, assuming
// its bytes were spread evenly. While the ring holds less than window, the
// average is over what it holds. A window of zero or less, or a ring with no
// time recorded, gives 0, 0.
func (r *Ring) Rate(k key.Key, window time.Duration) (rxBps, txBps float64) {
	if window <= 0 {
		return 0, 0
	}
	idx := k.Index()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var rx, tx float64
	var covered time.Duration
	for j := 0; j < r.count && covered < window; j++ {
		t := r.fineAt(j)
		rb, tb := find(t.ports, idx)
		d := t.dur
		if covered+d > window {
			frac := float64(window-covered) / float64(d)
			rx += float64(rb) * frac
			tx += float64(tb) * frac
			covered = window
			break
		}
		rx += float64(rb)
		tx += float64(tb)
		covered += d
	}
	if covered <= 0 {
		return 0, 0
	}
	secs := covered.Seconds()
	return rx / secs, tx / secs
}

// History returns k's per-tick rates for the last n ticks held, oldest
// first; a tick in which the port had no traffic is a zero sample. It
// returns min(n, Len()) samples.
func (r *Ring) History(k key.Key, n int) []Sample {
	return r.AppendHistory(nil, k, n)
}

// AppendHistory is History appending to dst, so a caller drawing many rows
// can reuse one slice.
func (r *Ring) AppendHistory(dst []Sample, k key.Key, n int) []Sample {
	idx := k.Index()
	r.mu.RLock()
	defer r.mu.RUnlock()
	n = min(max(n, 0), r.count)
	for j := n - 1; j >= 0; j-- {
		t := r.fineAt(j)
		rb, tb := find(t.ports, idx)
		dst = append(dst, sample(t.end, t.dur, float64(rb), float64(tb)))
	}
	return dst
}

// IfaceHistory returns the named interface's NIC rates for the last n ticks
// held, oldest first; ticks where the interface was absent are zero samples.
// An unknown name gives no samples.
func (r *Ring) IfaceHistory(name string, n int) []Sample {
	r.mu.RLock()
	defer r.mu.RUnlock()
	slot, ok := r.ifSlots[name]
	if !ok {
		return nil
	}
	n = min(max(n, 0), r.count)
	out := make([]Sample, 0, n)
	for j := n - 1; j >= 0; j-- {
		t := r.fineAt(j)
		rx, tx := findIface(t.ifaces, slot)
		out = append(out, Sample{Time: t.end, Interval: t.dur, RxBps: rx, TxBps: tx})
	}
	return out
}

// CoarseHistory returns k's average rates over the last n closed coarse
// buckets (each Config.CoarseTicks ticks, a minute by default), oldest
// first, zero where the port was idle for a whole bucket. The open bucket
// is not included; the fine tier (History) covers it.
func (r *Ring) CoarseHistory(k key.Key, n int) []Sample {
	idx := k.Index()
	r.mu.RLock()
	defer r.mu.RUnlock()
	n = min(max(n, 0), r.cCount)
	out := make([]Sample, 0, n)
	for j := n - 1; j >= 0; j-- {
		b := &r.coarse[(r.cHead-1-j+len(r.coarse))%len(r.coarse)]
		rb, tb := find(b.ports, idx)
		out = append(out, sample(b.end, b.dur, float64(rb), float64(tb)))
	}
	return out
}

// CoarseIfaceHistory is CoarseHistory for an interface's NIC rates.
func (r *Ring) CoarseIfaceHistory(name string, n int) []Sample {
	r.mu.RLock()
	defer r.mu.RUnlock()
	slot, ok := r.ifSlots[name]
	if !ok {
		return nil
	}
	n = min(max(n, 0), r.cCount)
	out := make([]Sample, 0, n)
	for j := n - 1; j >= 0; j-- {
		b := &r.coarse[(r.cHead-1-j+len(r.coarse))%len(r.coarse)]
		rx, tx := findIface(b.ifaces, slot)
		out = append(out, Sample{Time: b.end, Interval: b.dur, RxBps: rx, TxBps: tx})
	}
	return out
}

func sample(end time.Time, d time.Duration, rx, tx float64) Sample {
	s := Sample{Time: end, Interval: d}
	if d > 0 {
		s.RxBps, s.TxBps = rx/d.Seconds(), tx/d.Seconds()
	}
	return s
}
