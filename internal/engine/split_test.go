package engine

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/classify"
	"github.com/porttop/porttop/internal/tally"
)

// holdSource is a fakeSource that holds packets back like a TPACKET_V3
// ring (capture.Holder), with what it holds set by the test.
type holdSource struct {
	fakeSource
	hold    time.Duration
	holding bool
	until   time.Time
}

func (h *holdSource) HoldTime() time.Duration { return h.hold }
func (h *holdSource) Holding() bool           { return h.holding }
func (h *holdSource) WaitUntil(t time.Time)   { h.until = t }

// TestWorkerSplitsAtTickTimestamp checks that a worker whose source holds
// packets back splits intervals by packet timestamp: after a tick it keeps
// counting packets stamped before the tick into the interval the tick
// ends, and hands that interval over before the first packet stamped at
// or after the tick; or at a read timeout once the source holds nothing;
// or once the hold time has passed since it noticed the tick (checked at
// timeouts and every 256th packet, for a wall clock set back).
func TestWorkerSplitsAtTickTimestamp(t *testing.T) {
	frames, _ := benchFrames(t, 1)
	frame := frames[0]
	const hold = 500 * time.Millisecond
	var epoch atomic.Uint64
	var boundary atomic.Int64
	now := time.Unix(1000, 0)
	src := &holdSource{fakeSource: fakeSource{name: "ring"}, hold: hold, holding: true}
	w := newWorker(src, classify.New(classify.Options{}), 0, &epoch, &boundary)
	w.now = func() time.Time { return now }

	packet := func(ts time.Time) {
		ci := capture.Info{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}
		w.maybeSwap(&ci)
		w.handle(frame, &ci)
	}
	tick := func(at time.Time) {
		boundary.Store(at.UnixNano())
		epoch.Add(1)
	}
	handed := func() *tally.Tally {
		select {
		case iv := <-w.out:
			return iv.t
		default:
			return nil
		}
	}
	giveBack := func(tl *tally.Tally) {
		tl.Reset()
		w.free <- tl
	}

	t1 := time.Unix(1000, 0)
	packet(t1.Add(-2 * time.Millisecond))
	tick(t1)
	packet(t1.Add(-time.Millisecond)) // arrived before the tick, read after it
	w.maybeSwap(nil)                  // a timeout while the source holds packets
	if tl := handed(); tl != nil {
		t.Fatal("interval handed over while the source may hold packets from before the tick")
	}
	if want := t1.Add(hold + holdSlack); !src.until.Equal(want) {
		t.Fatalf("waits bounded by %v, want %v", src.until, want)
	}
	packet(t1.Add(time.Millisecond)) // the first packet of the next interval
	tl := handed()
	if tl == nil || tl.Packets != 2 || w.cur.Packets != 1 {
		t.Fatalf("after a packet stamped after the tick: handed %v, current tally %d packets; want 2 packets handed, 1 current", tl, w.cur.Packets)
	}
	if !src.until.IsZero() {
		t.Fatalf("wait bound %v left after the hand-over", src.until)
	}
	giveBack(tl)

	// A timeout when the source holds nothing hands over at once.
	t2 := t1.Add(time.Second)
	now = t2
	tick(t2)
	src.holding = false
	w.maybeSwap(nil)
	if tl = handed(); tl == nil || tl.Packets != 1 {
		t.Fatalf("a timeout with nothing held: handed %v, want the 1-packet interval", tl)
	}
	giveBack(tl)

	// A source that keeps holding is waited for HoldTime and holdSlack
	// from when the worker noticed the tick.
	t3 := t2.Add(time.Second)
	tick(t3)
	src.holding = true
	now = t3.Add(10 * time.Millisecond)
	w.maybeSwap(nil)
	now = now.Add(hold)
	w.maybeSwap(nil)
	if tl = handed(); tl != nil {
		t.Fatal("handed over before the hold time and slack had passed")
	}
	now = now.Add(holdSlack)
	w.maybeSwap(nil)
	if tl = handed(); tl == nil {
		t.Fatal("not handed over once the hold time and slack had passed")
	}
	giveBack(tl)

	// With the wall clock set back, packets stamped before the tick keep
	// coming: the clock is checked at the 256th.
	t4 := t3.Add(time.Second)
	tick(t4)
	now = t4
	packet(t4.Add(-time.Hour))
	now = t4.Add(time.Second)
	for i := 2; i <= 255; i++ {
		packet(t4.Add(-time.Hour))
	}
	if tl = handed(); tl != nil {
		t.Fatal("handed over before the 256th packet")
	}
	packet(t4.Add(-time.Hour))
	if tl = handed(); tl == nil || tl.Packets != 255 || w.cur.Packets != 1 {
		t.Fatalf("at the 256th packet past the hold time: handed %v, current %d packets; want 255 handed, 1 current", tl, w.cur.Packets)
	}
}
