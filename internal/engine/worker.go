package engine

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/classify"
	"github.com/porttop/porttop/internal/decode"
	"github.com/porttop/porttop/internal/tally"
)

// worker is the capture goroutine of one source: it reads packets, decodes,
// classifies and tallies them. It is the only writer of its tally, takes no
// lock and does not allocate per packet. On each tick (epoch change) it
// hands its tally to the aggregator and continues on the spare one.
type worker struct {
	src  capture.Source
	link int
	cls  *classify.Classifier
	cur  *tally.Tally

	// free holds the spare tally (returned by the aggregator, reset);
	// out carries full tallies to the aggregator. Both have capacity 1.
	free chan *tally.Tally
	out  chan interval
	// epoch is bumped by the aggregator on every tick, after boundary is
	// set to the tick's time (Unix nanoseconds).
	epoch    *atomic.Uint64
	boundary *atomic.Int64
	seen     uint64
	// holder is the source as a capture.Holder, nil when it is not one
	// (the tally is then handed over at once). asked is when the worker
	// noticed a tick it has not yet handed its tally over for, by now
	// (time.Now; a fake in tests), and pending counts the packets read
	// since.
	holder  capture.Holder
	now     func() time.Time
	asked   time.Time
	pending uint32

	ci  capture.Info // the packet being handled, filled in place
	pkt decode.Packet
	res classify.Result
	// panics counts packets whose handling panicked (a bug, or a decoder
	// edge case): they are counted as decode errors and skipped.
	panics uint64
}

// interval is what a worker hands the aggregator at a tick.
type interval struct {
	t        *tally.Tally
	stats    capture.Stats
	statsErr error
}

func newWorker(src capture.Source, cls *classify.Classifier, flowCap int, epoch *atomic.Uint64, boundary *atomic.Int64) *worker {
	w := &worker{
		src:      src,
		link:     src.LinkType(),
		cls:      cls,
		cur:      tally.New(flowCap),
		free:     make(chan *tally.Tally, 1),
		out:      make(chan interval, 1),
		epoch:    epoch,
		boundary: boundary,
		now:      time.Now,
	}
	w.holder, _ = src.(capture.Holder)
	w.free <- tally.New(flowCap)
	return w
}

// handle counts one packet. data is only valid during the call.
func (w *worker) handle(data []byte, ci *capture.Info) {
	t := w.cur
	n := uint64(ci.Length)
	decode.Decode(w.link, data, &w.pkt)
	if w.pkt.Kind == decode.Skip {
		t.Skipped++
		return
	}
	t.Packets++
	t.Bytes += n
	if w.pkt.Problem != decode.NoProblem {
		t.DecodeErrors++
	}
	if w.pkt.Truncated {
		t.Truncated++
	}
	if w.cls.Classify(&w.pkt, uint32(ci.Timestamp.Unix()), &w.res) == 0 {
		t.AddOther(w.cls.OtherDir(&w.pkt), n)
		return
	}
	t.Add(&w.res, n)
}

// errPanicked reports that handling a packet panicked.
var errPanicked = errors.New("panic while handling a packet")

// readSome reads and handles packets until the source ends or fails
// (returning io.EOF or the error), calling maybeSwap before handling every
// packet (with its Info) and after every read timeout (with nil): a direct
// call, which costs less per packet than one through a func value. A
// panic while handling a packet is recovered and returned as errPanicked,
// so the caller can count it and go on.
func (w *worker) readSome() (err error) {
	defer w.recoverPacket(&err)
	ci := &w.ci
	for {
		data, err := w.src.ReadPacket(ci)
		switch {
		case err == nil:
			w.maybeSwap(ci)
			w.handle(data, ci)
		case errors.Is(err, capture.ErrTimeout):
			w.maybeSwap(nil)
		default:
			return err
		}
	}
}

// recoverPacket, deferred, turns a panic while handling a packet into a
// decode error and errPanicked in *err.
func (w *worker) recoverPacket(err *error) {
	if r := recover(); r != nil {
		w.panics++
		w.cur.DecodeErrors++
		*err = fmt.Errorf("%w: %v", errPanicked, r)
	}
}

// run is the live capture loop. It returns nil at end of source (Close)
// and the error when the source fails.
func (w *worker) run() error {
	for {
		err := w.readSome()
		switch {
		case errors.Is(err, errPanicked):
			continue
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}

// maybeSwap hands the current tally to the aggregator when a tick asked
// for it, the interval is complete (see complete) and a spare tally is
// available. ci is the packet about to be handled, nil after a read
// timeout. It costs one atomic load when there is nothing to do.
func (w *worker) maybeSwap(ci *capture.Info) {
	if e := w.epoch.Load(); e != w.seen {
		w.swap(e, ci)
	}
}

// swap is maybeSwap once a tick (epoch e) has asked for the tally; kept
// apart so that maybeSwap inlines into the per-packet loop.
func (w *worker) swap(e uint64, ci *capture.Info) {
	if w.holder != nil && !w.complete(ci) {
		return
	}
	select {
	case fresh := <-w.free:
		st, err := w.src.Stats()
		w.out <- interval{t: w.cur, stats: st, statsErr: err}
		w.cur = fresh
		w.seen = e
		w.pending, w.asked = 0, time.Time{}
		if w.holder != nil {
			w.holder.WaitUntil(time.Time{})
		}
	default:
		// The aggregator still holds the spare: keep counting into the
		// current tally and hand it over at a later packet.
	}
}

// holdSlack is added to a source's HoldTime for the kernel's timer and the
// scheduler to hand a held packet over.
const holdSlack = 50 * time.Millisecond

// complete reports whether every packet that arrived before the pending
// tick has been read, so that intervals split at the tick by packet
// timestamp, not by when the source handed packets over: ci (the packet
// about to be handled) arrived at or after the tick; or, after a read
// timeout (ci nil), the source holds nothing back; or the source's
// HoldTime (and holdSlack) has passed since the worker noticed the tick.
// The clock is read when the tick is noticed, after timeouts and every
// 256th packet (a wall clock set back would otherwise keep packets
// "before" the tick for long); after a timeout the source's waits are
// bounded by that limit.
func (w *worker) complete(ci *capture.Info) bool {
	if w.asked.IsZero() {
		w.asked = w.now()
	}
	if ci != nil {
		if ci.Timestamp.UnixNano() >= w.boundary.Load() {
			return true
		}
		w.pending++
		if w.pending%256 != 0 {
			return false
		}
	} else if !w.holder.Holding() {
		return true
	}
	limit := w.asked.Add(w.holder.HoldTime() + holdSlack)
	if !w.now().Before(limit) {
		return true
	}
	if ci == nil {
		w.holder.WaitUntil(limit)
	}
	return false
}
