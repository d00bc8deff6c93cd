package ring

import (
	"math"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

var (
	t0   = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	ssh  = key.Key{Proto: key.TCP, Side: key.Local, Port: 22}
	web  = key.Key{Proto: key.TCP, Side: key.Remote, Port: 443}
	dns  = key.Key{Proto: key.UDP, Side: key.Local, Port: 53}
	idle = key.Key{Proto: key.UDP, Side: key.Remote, Port: 9}
)

// tk is one tick of a test: its length and rx/tx bytes per key.
type tk struct {
	d     time.Duration
	bytes map[key.Key][2]uint64
	nic   map[string][2]float64
}

// push feeds ticks to r, each ending d after the previous.
func push(r *Ring, ticks ...tk) {
	end := t0
	if l := r.Latest(); l != nil {
		end = l.Time
	}
	for _, t := range ticks {
		end = end.Add(t.d)
		s := &snapshot.Snapshot{Time: end, Interval: t.d}
		for k, b := range t.bytes {
			s.Ports = append(s.Ports, snapshot.Port{Key: k,
				Delta: snapshot.Counters{RxBytes: b[0], TxBytes: b[1], RxPackets: 1}})
		}
		s.Ports = append(s.Ports, snapshot.Port{Key: idle, Listening: true}) // never active
		for name, v := range t.nic {
			s.Interfaces = append(s.Interfaces, snapshot.Interface{Name: name, NICValid: true, RxBps: v[0], TxBps: v[1]})
		}
		r.Push(s)
	}
}

func sec(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestRate(t *testing.T) {
	// Oldest to newest: 1 s with 1000/100 B, 0.5 s idle, 2 s with 4000/0 B,
	// 0.5 s with 500/50 B.
	ticks := []tk{
		{d: time.Second, bytes: map[key.Key][2]uint64{ssh: {1000, 100}, web: {7, 7}}},
		{d: sec(0.5), bytes: map[key.Key][2]uint64{web: {1, 1}}},
		{d: 2 * time.Second, bytes: map[key.Key][2]uint64{ssh: {4000, 0}}},
		{d: sec(0.5), bytes: map[key.Key][2]uint64{ssh: {500, 50}}},
	}
	tests := []struct {
		name   string
		k      key.Key
		window time.Duration
		rx, tx float64
	}{
		{"newest tick exactly", ssh, sec(0.5), 1000, 100},
		{"prorated into the 2 s tick", ssh, sec(1.5), (500 + 2000) / 1.5, 50 / 1.5},
		{"two whole ticks", ssh, sec(2.5), 4500 / 2.5, 50 / 2.5},
		{"through the idle tick", ssh, 3 * time.Second, 4500 / 3.0, 50 / 3.0},
		{"all held", ssh, 4 * time.Second, 5500 / 4.0, 150 / 4.0},
		{"window longer than held: average over what is held", ssh, 40 * time.Second, 5500 / 4.0, 150 / 4.0},
		{"other port", web, 10 * time.Second, 8 / 4.0, 8 / 4.0},
		{"idle port", idle, 10 * time.Second, 0, 0},
		{"unknown port", dns, 2 * time.Second, 0, 0},
		{"zero window", ssh, 0, 0, 0},
		{"negative window", ssh, -time.Second, 0, 0},
	}
	r := New(Config{})
	push(r, ticks...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rx, tx := r.Rate(tt.k, tt.window)
			if !near(rx, tt.rx) || !near(tx, tt.tx) {
				t.Errorf("Rate(%v, %v) = %v, %v, want %v, %v", tt.k, tt.window, rx, tx, tt.rx, tt.tx)
			}
		})
	}
}

func TestRateEmptyAndZeroIntervals(t *testing.T) {
	r := New(Config{})
	if rx, tx := r.Rate(ssh, 2*time.Second); rx != 0 || tx != 0 {
		t.Fatalf("empty ring rate %v %v", rx, tx)
	}
	if r.Latest() != nil || r.Len() != 0 || len(r.History(ssh, 10)) != 0 {
		t.Fatal("empty ring is not empty")
	}
	push(r, tk{d: 0, bytes: map[key.Key][2]uint64{ssh: {10, 10}}})
	if rx, tx := r.Rate(ssh, 2*time.Second); rx != 0 || tx != 0 {
		t.Fatalf("zero-length tick gave rate %v %v", rx, tx)
	}
	r.Push(nil) // ignored
	r.Push(&snapshot.Snapshot{Time: t0, Interval: -time.Second, Ports: []snapshot.Port{{Key: ssh, Delta: snapshot.Counters{RxBytes: 5}}}})
	if got := r.History(ssh, 5); len(got) != 2 || got[1].Interval != 0 || got[1].RxBps != 0 {
		t.Fatalf("negative interval history %+v", got)
	}
}

func TestHistoryZeroFillAndWrap(t *testing.T) {
	r := New(Config{FineTicks: 4, CoarseTicks: 3, CoarseBuckets: 2})
	// Ten 1 s ticks; ssh has 100·i bytes rx in tick i when i is odd.
	for i := 1; i <= 10; i++ {
		b := map[key.Key][2]uint64{web: {1, 2}}
		if i%2 == 1 {
			b[ssh] = [2]uint64{uint64(100 * i), 0}
		}
		push(r, tk{d: time.Second, bytes: b, nic: map[string][2]float64{"eth0": {float64(i), 0}}})
	}
	if r.Len() != 4 {
		t.Fatalf("Len = %d, want 4 (wrapped)", r.Len())
	}
	tests := []struct {
		n    int
		want []float64
	}{
		{4, []float64{700, 0, 900, 0}}, // ticks 7..10
		{2, []float64{900, 0}},
		{100, []float64{700, 0, 900, 0}},
		{0, nil},
		{-1, nil},
	}
	for _, tt := range tests {
		h := r.History(ssh, tt.n)
		if len(h) != len(tt.want) {
			t.Fatalf("History(n=%d) has %d samples, want %d", tt.n, len(h), len(tt.want))
		}
		for i, s := range h {
			if s.RxBps != tt.want[i] || s.TxBps != 0 || s.Interval != time.Second {
				t.Errorf("History(n=%d)[%d] = %+v, want rx %v", tt.n, i, s, tt.want[i])
			}
		}
		for i := 1; i < len(h); i++ {
			if !h[i].Time.After(h[i-1].Time) {
				t.Errorf("History(n=%d) not oldest first: %v then %v", tt.n, h[i-1].Time, h[i].Time)
			}
		}
	}
	if h := r.History(ssh, 4); !h[3].Time.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("newest sample at %v, want %v", h[3].Time, t0.Add(10*time.Second))
	}
	if h := r.IfaceHistory("eth0", 3); len(h) != 3 || h[0].RxBps != 8 || h[2].RxBps != 10 {
		t.Errorf("IfaceHistory = %+v", h)
	}
	if h := r.IfaceHistory("wlan0", 3); h != nil {
		t.Errorf("unknown interface history = %+v", h)
	}

	// Coarse: buckets of ticks 1-3, 4-6, 7-9; two kept: 4-6 and 7-9.
	if r.CoarseLen() != 2 {
		t.Fatalf("CoarseLen = %d, want 2", r.CoarseLen())
	}
	c := r.CoarseHistory(ssh, 5)
	if len(c) != 2 || !near(c[0].RxBps, 500/3.0) || !near(c[1].RxBps, (700+900)/3.0) || c[1].Interval != 3*time.Second ||
		!c[1].Time.Equal(t0.Add(9*time.Second)) {
		t.Errorf("CoarseHistory = %+v", c)
	}
	if c := r.CoarseHistory(web, 1); len(c) != 1 || !near(c[0].RxBps, 1) || !near(c[0].TxBps, 2) {
		t.Errorf("CoarseHistory(web) = %+v", c)
	}
	if c := r.CoarseIfaceHistory("eth0", 2); len(c) != 2 || !near(c[0].RxBps, 5) || !near(c[1].RxBps, 8) {
		t.Errorf("CoarseIfaceHistory = %+v", c)
	}
	if c := r.CoarseHistory(dns, 2); len(c) != 2 || c[0].RxBps != 0 || c[1].RxBps != 0 {
		t.Errorf("idle port coarse history = %+v", c)
	}
}

func TestEntryPacking(t *testing.T) {
	tests := []struct {
		rx, tx         uint64
		wantRx, wantTx uint64
	}{
		{0, 0, 0, 0},
		{1, 2, 1, 2},
		{1<<32 + 5, 1<<40 + 7, 1<<32 + 5, 1<<40 + 7},
		{max48, max48, max48, max48},
		{math.MaxUint64, 1 << 50, max48, max48},
	}
	for _, tt := range tests {
		e := makeEntry(key.NumIndex-1, tt.rx, tt.tx)
		if e.rxBytes() != tt.wantRx || e.txBytes() != tt.wantTx || e.idx != key.NumIndex-1 {
			t.Errorf("makeEntry(%d, %d) = %d, %d", tt.rx, tt.tx, e.rxBytes(), e.txBytes())
		}
	}
	if s := makeEntry(1, max48, 3).add(makeEntry(1, 10, 4)); s.rxBytes() != max48 || s.txBytes() != 7 {
		t.Errorf("add = %d, %d", s.rxBytes(), s.txBytes())
	}
}

func TestDuplicateKeysAreSummed(t *testing.T) {
	r := New(Config{})
	r.Push(&snapshot.Snapshot{Time: t0, Interval: time.Second, Ports: []snapshot.Port{
		{Key: ssh, Delta: snapshot.Counters{RxBytes: 5}},
		{Key: web, Delta: snapshot.Counters{TxBytes: 1}},
		{Key: ssh, Delta: snapshot.Counters{RxBytes: 6, TxBytes: 1}},
	}})
	if rx, tx := r.Rate(ssh, time.Second); rx != 11 || tx != 1 {
		t.Fatalf("Rate = %v, %v, want 11, 1", rx, tx)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		in, want Config
	}{
		{Config{}, Config{FineTicks: 240, CoarseTicks: 60, CoarseBuckets: 60}},
		{Config{FineTicks: -1, CoarseTicks: 10, CoarseBuckets: 1 << 40}, Config{FineTicks: 240, CoarseTicks: 10, CoarseBuckets: MaxTicks}},
	}
	for _, tt := range tests {
		if got := New(tt.in).Config(); got != tt.want {
			t.Errorf("New(%+v).Config() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestConcurrentPushAndRead runs readers against the writer; run with -race.
func TestConcurrentPushAndRead(t *testing.T) {
	r := New(Config{FineTicks: 16, CoarseTicks: 4, CoarseBuckets: 4})
	const pushes = 500
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				rx, tx := r.Rate(ssh, 10*time.Second)
				if rx < 0 || tx < 0 || math.IsNaN(rx) {
					t.Errorf("bad rate %v %v", rx, tx)
					return
				}
				if h := r.History(ssh, 20); len(h) > 16 {
					t.Errorf("History returned %d samples from a 16-tick ring", len(h))
					return
				}
				r.IfaceHistory("eth0", 8)
				r.CoarseHistory(web, 4)
				if s := r.Latest(); s != nil && s.Interval != time.Second {
					t.Errorf("latest interval %v", s.Interval)
					return
				}
			}
		})
	}
	for i := range pushes {
		push(r, tk{d: time.Second, bytes: map[key.Key][2]uint64{ssh: {uint64(i), 1}, web: {1, 1}},
			nic: map[string][2]float64{"eth0": {1, 1}}})
	}
	close(done)
	wg.Wait()
	if rx, _ := r.Rate(ssh, 2*time.Second); rx != float64(pushes-1+pushes-2)/2 {
		t.Fatalf("final rate %v", rx)
	}
}

// TestMemoryBound pushes 3,600 one-second ticks with 1,000 active ports and
// two interfaces into a default ring and checks the bytes it allocated
// against Config.MemoryBound.
func TestMemoryBound(t *testing.T) {
	const ports, ticks = 1000, 3600
	s := &snapshot.Snapshot{Interval: time.Second}
	for i := range ports {
		s.Ports = append(s.Ports, snapshot.Port{
			Key:   key.Key{Proto: key.Proto(i % 2), Side: key.Side(i / 2 % 2), Port: uint16(1000 + i)},
			Delta: snapshot.Counters{RxBytes: uint64(i + 1), TxBytes: 1 << 33},
		})
	}
	s.Interfaces = []snapshot.Interface{{Name: "eth0", RxBps: 1, TxBps: 2}, {Name: "lo", RxBps: 3}}
	times := make([]time.Time, ticks)
	for i := range times {
		times[i] = t0.Add(time.Duration(i) * time.Second)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := New(Config{})
	for i := range ticks {
		s.Time = times[i]
		r.Push(s)
	}
	runtime.ReadMemStats(&after)
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	runtime.GC()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)

	bound := r.Config().MemoryBound(ports, 2)
	t.Logf("1,000 active ports, 3,600 pushes: allocated %d B (%.2f MiB), %.1f B per port per held tick; heap in use after GC %.2f MiB; bound %d B (%.2f MiB)",
		allocated, float64(allocated)/(1<<20), float64(allocated)/float64(ports*(DefaultFineTicks+DefaultCoarseBuckets)),
		float64(live.HeapAlloc)/(1<<20), bound, float64(bound)/(1<<20))
	if allocated > bound {
		t.Fatalf("allocated %d B, over the documented bound %d B", allocated, bound)
	}
	if bound > 6<<20 {
		t.Fatalf("bound %d B for 1,000 ports is over 6 MiB (the package comment gives 5.3 MiB)", bound)
	}
	if got, want := r.Len(), DefaultFineTicks; got != want {
		t.Fatalf("Len = %d, want %d", got, want)
	}
	if got := r.CoarseLen(); got != DefaultCoarseBuckets {
		t.Fatalf("CoarseLen = %d, want %d", got, DefaultCoarseBuckets)
	}
	if rx, tx := r.Rate(key.Key{Proto: key.TCP, Side: key.Local, Port: 1000}, 40*time.Second); rx != 1 || tx != 1<<33 {
		t.Fatalf("rate after 3,600 pushes %v %v", rx, tx)
	}
	// Warm: further pushes allocate nothing.
	if a := testing.AllocsPerRun(10, func() { r.Push(s) }); a != 0 {
		t.Fatalf("warm Push allocates %v times", a)
	}
}

func TestMemoryBoundFigures(t *testing.T) {
	tests := []struct {
		ports    int
		min, max int64
	}{
		{0, 0, 1 << 20},
		{1000, 4_800_000, 5_600_000},
		{10000, 48_000_000, 50_000_000},
	}
	for _, tt := range tests {
		b := Config{}.MemoryBound(tt.ports, 2)
		t.Logf("%d active ports: bound %d B (%.1f MiB)", tt.ports, b, float64(b)/(1<<20))
		if b < tt.min || b > tt.max {
			t.Errorf("MemoryBound(%d) = %d, want %d..%d", tt.ports, b, tt.min, tt.max)
		}
	}
}

func benchRing(b *testing.B, ports int) (*Ring, *snapshot.Snapshot) {
	b.Helper()
	s := &snapshot.Snapshot{Interval: time.Second, Time: t0}
	for i := range ports {
		s.Ports = append(s.Ports, snapshot.Port{Key: key.Key{Port: uint16(i)}, Delta: snapshot.Counters{RxBytes: 1, TxBytes: 1}})
	}
	r := New(Config{})
	for range DefaultFineTicks + DefaultCoarseTicks*DefaultCoarseBuckets {
		r.Push(s)
	}
	return r, s
}

// BenchmarkPush measures one tick with 1,000 active ports on a warm ring.
func BenchmarkPush(b *testing.B) {
	r, s := benchRing(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		r.Push(s)
	}
}

// BenchmarkRate40s measures one port's 40 s rate with 1,000 active ports.
func BenchmarkRate40s(b *testing.B) {
	r, _ := benchRing(b, 1000)
	k := key.Key{Port: 500}
	b.ReportAllocs()
	for b.Loop() {
		r.Rate(k, 40*time.Second)
	}
}
