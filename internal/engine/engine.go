// Package engine runs porttop's pipeline: one capture goroutine (worker) per
// packet source decodes, classifies and tallies packets; on every tick the
// aggregator swaps each worker's interval tally out, merges it into the
// cumulative state with the NIC counters and the socket table, and
// publishes an immutable snapshot to the sinks (ring buffer, dashboard,
// batch writers, exporters).
//
// Live mode ticks on the wall clock (Clock); offline mode (a capture file)
// ticks on packet timestamps, so the same file always gives the same output.
//
// Goroutines: each worker owns its source, classifier and current tally;
// the goroutine calling Run owns the aggregator and calls the sinks.
// Everything slow (NIC counters, process lookup) happens on the tick, never
// per packet.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/classify"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/nic"
	"github.com/porttop/porttop/internal/services"
	"github.com/porttop/porttop/internal/snapshot"
)

// Sink receives every published snapshot, on the engine's goroutine. A
// sink must return quickly; an error is counted, never fatal to capture.
type Sink interface {
	Publish(s *snapshot.Snapshot) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(s *snapshot.Snapshot) error

// Publish calls f(s).
func (f SinkFunc) Publish(s *snapshot.Snapshot) error { return f(s) }

// NICReader reads the per-NIC counters (cumulative, keyed by name).
type NICReader interface {
	Read(ctx context.Context) (map[string]nic.Counters, error)
}

// Processes is the socket table as the engine needs it.
type Processes interface {
	// ListeningKeys returns the ports with a listening socket on this host.
	ListeningKeys() []key.Key
	// Annotate fills the process fields of ports (in place) from the
	// socket table and the flows.
	Annotate(ports []snapshot.Port, flows []snapshot.Flow)
}

// Inputs are every outside input of the engine, so the whole pipeline runs
// in tests with fakes.
type Inputs struct {
	// Sources are the packet sources: live interfaces, or exactly one
	// capture file for RunOffline.
	Sources []capture.Source
	// NIC reads the NIC counters (live only; nil = none).
	NIC NICReader
	// LocalAddrs returns this host's addresses (live only; nil = none).
	LocalAddrs func() ([]netip.Prefix, error)
	// Processes is the socket table (live only; nil = none).
	Processes Processes
	// Clock drives live ticks (nil = the system clock).
	Clock Clock
}

// Config configures an Engine.
type Config struct {
	// Interval is the live refresh interval (default 1 s).
	Interval time.Duration
	// Every is the offline report interval in packet time; 0 = a single
	// report at the end of the file.
	Every time.Duration
	// Local are this host's addresses given with --local (added to the
	// learned ones in live mode; the only ones offline).
	Local []netip.Prefix
	// Services names ports (nil = built-in table).
	Services *services.Table
	// FlowCapacity sizes each worker's per-interval flow table (0 =
	// default).
	FlowCapacity int
	// LocalRefresh is how often live mode re-reads this host's addresses
	// (default 10 s).
	LocalRefresh time.Duration
	// SwapWait bounds how long a tick waits for a worker's tally (default
	// 500 ms; a source's read timeout must be shorter).
	SwapWait time.Duration
}

// Engine is the pipeline. Build one with New and call Run or RunOffline
// once.
type Engine struct {
	cfg     Config
	in      Inputs
	sinks   []Sink
	workers []*worker
	epoch   atomic.Uint64
	// boundary is the newest tick's time (Unix nanoseconds), set before
	// epoch changes: packets stamped before it belong to the interval the
	// tick ends.
	boundary atomic.Int64
	// maxHold is the longest a worker may take to hand its tally over
	// after a tick, beyond SwapWait (the longest source HoldTime and
	// holdSlack; 0 when no source holds packets back).
	maxHold time.Duration
	agg     *aggregator

	// SinkErrors counts snapshots a sink failed to take.
	sinkErrors atomic.Uint64
	// listenSet is true once the classifiers have a listening set, made
	// from listenKeys (as Processes gave them).
	listenSet  bool
	listenKeys []key.Key
}

// New builds an engine over in, publishing to sinks.
func New(cfg Config, in Inputs, sinks ...Sink) (*Engine, error) {
	if len(in.Sources) == 0 {
		return nil, errors.New("no packet source")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Services == nil {
		cfg.Services = services.Builtin()
	}
	if cfg.LocalRefresh <= 0 {
		cfg.LocalRefresh = 10 * time.Second
	}
	if cfg.SwapWait <= 0 {
		cfg.SwapWait = 500 * time.Millisecond
	}
	if in.Clock == nil {
		in.Clock = SystemClock{}
	}
	e := &Engine{cfg: cfg, in: in, sinks: sinks}
	names := make([]string, len(in.Sources))
	for i, src := range in.Sources {
		names[i] = src.Name()
		cls := classify.New(classify.Options{Services: cfg.Services})
		e.workers = append(e.workers, newWorker(src, cls, cfg.FlowCapacity, &e.epoch, &e.boundary))
		if h, ok := src.(capture.Holder); ok {
			e.maxHold = max(e.maxHold, h.HoldTime()+holdSlack)
		}
	}
	e.agg = newAggregator(cfg.Services, names)
	return e, nil
}

// SinkErrors returns how many times a sink failed to take a snapshot.
func (e *Engine) SinkErrors() uint64 { return e.sinkErrors.Load() }

func (e *Engine) publish(s *snapshot.Snapshot) {
	for _, sk := range e.sinks {
		if err := sk.Publish(s); err != nil {
			e.sinkErrors.Add(1)
		}
	}
}

// setLocal gives every classifier the local address set: the --local
// prefixes plus learned (loopback always counts as local in live mode).
func (e *Engine) setLocal(learned []netip.Prefix) {
	all := append(append([]netip.Prefix(nil), e.cfg.Local...), learned...)
	set := classify.NewLocalSet(all)
	for _, w := range e.workers {
		w.cls.SetLocal(set)
	}
}

func (e *Engine) refreshLocal() {
	learned := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if e.in.LocalAddrs != nil {
		if addrs, err := e.in.LocalAddrs(); err == nil {
			learned = append(learned, addrs...)
		}
	}
	e.setLocal(learned)
}

func (e *Engine) refreshListening() {
	if e.in.Processes == nil {
		return
	}
	keys := e.in.Processes.ListeningKeys()
	if e.listenSet && sameKeys(keys, e.listenKeys) {
		return // unchanged: keep the classifiers' set
	}
	e.listenKeys, e.listenSet = keys, true
	e.agg.setListening(keys)
	l := classify.NewListening(keys)
	for _, w := range e.workers {
		w.cls.SetListening(l)
	}
}

// sameKeys reports whether a and b hold the same keys. The socket table
// hands out the same slice while it has not changed, which is checked
// first.
func sameKeys(a, b []key.Key) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return slices.Equal(a, b)
}

// Run captures live until ctx is cancelled (returning nil) or every source
// has failed (returning their errors). It publishes a snapshot on every
// tick, also when no packet arrived.
func (e *Engine) Run(ctx context.Context) error {
	clock := e.in.Clock
	e.refreshLocal()
	e.refreshListening()
	now := clock.Now()
	e.agg.start, e.agg.last = now, now
	if e.in.NIC != nil {
		if m, err := e.in.NIC.Read(ctx); err == nil {
			e.agg.updateNIC(m, 0)
		}
	}

	type result struct {
		i   int
		err error
	}
	done := make(chan result, len(e.workers))
	var wg sync.WaitGroup
	for i, w := range e.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done <- result{i, w.run()}
		}()
	}
	stop := func() {
		for _, w := range e.workers {
			if w != nil {
				w.src.Close()
			}
		}
		wg.Wait()
	}

	ticker := clock.NewTicker(e.cfg.Interval)
	defer ticker.Stop()
	alive := len(e.workers)
	var errs []string
	lastLocal := now
	for {
		select {
		case <-ctx.Done():
			stop()
			return nil
		case r := <-done:
			alive--
			if r.err == nil {
				r.err = errors.New("capture ended")
			}
			msg := r.err.Error()
			e.agg.ifaces[r.i].err = msg
			errs = append(errs, e.workers[r.i].src.Name()+": "+msg)
			// Keep the slot (nil) so interface indexes stay put.
			e.workers[r.i].src.Close()
			e.workers[r.i] = nil
			if alive == 0 {
				wg.Wait()
				return fmt.Errorf("capture failed on every interface: %s", strings.Join(errs, "; "))
			}
		case <-ticker.C():
			now := clock.Now()
			if now.Sub(lastLocal) >= e.cfg.LocalRefresh {
				e.refreshLocal()
				lastLocal = now
			}
			e.refreshListening()
			e.tick(ctx, now)
		}
	}
}

// tick collects every worker's interval tally and publishes a snapshot.
func (e *Engine) tick(ctx context.Context, now time.Time) {
	a := e.agg
	a.beginInterval()
	e.boundary.Store(now.UnixNano())
	e.epoch.Add(1)
	for _, w := range e.workers {
		if w == nil {
			continue
		}
		if wk, ok := w.src.(capture.Waker); ok {
			wk.Wake() // hand the tally over now, not at the next read timeout
		}
	}
	e.collect(ctx, now)
	d := now.Sub(a.last)
	a.last = now
	if e.in.NIC != nil {
		if m, err := e.in.NIC.Read(ctx); err == nil {
			a.updateNIC(m, d)
		}
	}
	s := a.snapshot(now, d, false)
	if e.in.Processes != nil {
		e.in.Processes.Annotate(s.Ports, s.Flows)
	}
	e.publish(s)
}

// collect merges every worker's interval tally, waiting at most SwapWait
// (plus maxHold, for sources that hold packets back) in all. A worker that
// is late (a read blocked longer than its timeout) is merged at a later
// tick; once one is late, or ctx ends, the others are only taken if they
// are already waiting.
func (e *Engine) collect(ctx context.Context, now time.Time) {
	deadline := time.NewTimer(e.cfg.SwapWait + e.maxHold)
	defer deadline.Stop()
	done := ctx.Done()
	late := false
	for i, w := range e.workers {
		if w == nil {
			continue
		}
		if late {
			select {
			case iv := <-w.out:
				e.take(i, w, iv, now)
			default:
			}
			continue
		}
		select {
		case iv := <-w.out:
			e.take(i, w, iv, now)
		case <-deadline.C:
			late = true
		case <-done:
			late = true
		}
	}
}

// take merges a worker's interval and gives the tally back.
func (e *Engine) take(i int, w *worker, iv interval, now time.Time) {
	e.agg.merge(i, iv.t, now)
	if iv.statsErr == nil {
		e.agg.ifaces[i].stats = iv.stats
	}
	iv.t.Reset()
	w.free <- iv.t
}

// RunOffline reads the single capture-file source to its end, publishing a
// snapshot every Config.Every of packet time (each one, also those with no
// packet) and a final one at the end of the file. A read error other than
// end of file (a truncated capture) is returned after the final snapshot
// of what was read. Cancelling ctx stops early (returning ctx.Err()).
func (e *Engine) RunOffline(ctx context.Context) error {
	if len(e.workers) != 1 {
		return errors.New("offline mode reads exactly one capture file")
	}
	w := e.workers[0]
	a := e.agg
	if len(e.cfg.Local) > 0 {
		e.setLocal(nil)
	}
	var (
		started  bool
		next     time.Time
		lastTS   time.Time
		pending  bool
		readErr  error
		canceled = ctx.Done()
		n        uint64
	)
	flush := func(at time.Time) {
		a.beginInterval()
		a.merge(0, w.cur, at)
		w.cur.Reset()
		d := at.Sub(a.last)
		a.last = at
		e.publish(a.snapshot(at, d, true))
		pending = false
	}
	for {
		err := w.readSomeOffline(func(ts time.Time) {
			if !started {
				started = true
				a.start, a.last = ts, ts
				next = ts.Add(e.cfg.Every)
			}
			for e.cfg.Every > 0 && !ts.Before(next) {
				flush(next)
				next = next.Add(e.cfg.Every)
			}
			lastTS = ts
			pending = true
		}, func() bool {
			n++
			if n%4096 == 0 {
				select {
				case <-canceled:
					return false
				default:
				}
			}
			return true
		})
		if errors.Is(err, errPanicked) {
			continue
		}
		if errors.Is(err, errCanceled) {
			return ctx.Err()
		}
		if !errors.Is(err, io.EOF) {
			readErr = err
		}
		break
	}
	if pending || a.seq == 0 {
		at := lastTS
		if !started {
			a.start, a.last = at, at
		}
		flush(at)
	}
	return readErr
}

// errCanceled reports that the offline loop stopped because ctx ended.
var errCanceled = errors.New("canceled")

// readSomeOffline is the offline read loop: before counting each packet it
// calls before(ts) (which may publish the intervals that ended), and every
// packet it asks more() whether to go on.
func (w *worker) readSomeOffline(before func(ts time.Time), more func() bool) (err error) {
	defer w.recoverPacket(&err)
	ci := &w.ci
	for {
		data, err := w.src.ReadPacket(ci)
		if err != nil {
			if errors.Is(err, capture.ErrTimeout) {
				continue
			}
			return err
		}
		before(ci.Timestamp)
		w.handle(data, ci)
		if !more() {
			return errCanceled
		}
	}
}
