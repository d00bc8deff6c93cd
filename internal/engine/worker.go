package engine

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

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
	// epoch is bumped by the aggregator on every tick.
	epoch *atomic.Uint64
	seen  uint64

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

func newWorker(src capture.Source, cls *classify.Classifier, flowCap int, epoch *atomic.Uint64) *worker {
	w := &worker{
		src:   src,
		link:  src.LinkType(),
		cls:   cls,
		cur:   tally.New(flowCap),
		free:  make(chan *tally.Tally, 1),
		out:   make(chan interval, 1),
		epoch: epoch,
	}
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
// (returning io.EOF or the error), calling tick after every packet and
// every read timeout. A panic while handling a packet is recovered and
// returned as errPanicked, so the caller can count it and go on.
func (w *worker) readSome(tick func()) (err error) {
	defer w.recoverPacket(&err)
	ci := &w.ci
	for {
		data, err := w.src.ReadPacket(ci)
		switch {
		case err == nil:
			w.handle(data, ci)
		case errors.Is(err, capture.ErrTimeout):
		default:
			return err
		}
		tick()
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
		err := w.readSome(w.maybeSwap)
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
// for it and a spare tally is available. It costs one atomic load when
// there is nothing to do.
func (w *worker) maybeSwap() {
	e := w.epoch.Load()
	if e == w.seen {
		return
	}
	select {
	case fresh := <-w.free:
		st, err := w.src.Stats()
		w.out <- interval{t: w.cur, stats: st, statsErr: err}
		w.cur = fresh
		w.seen = e
	default:
		// The aggregator still holds the spare: keep counting into the
		// current tally and hand it over at a later packet.
	}
}
