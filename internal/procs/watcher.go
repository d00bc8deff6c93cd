package procs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/porttop/porttop/internal/snapshot"
)

// ErrStopped is returned by Watcher.Wait when the Watcher has stopped
// before publishing the table waited for.
var ErrStopped = errors.New("socket table watcher stopped")

// Watcher refreshes a socket table every interval on its own goroutine, off
// the capture path, and publishes each new *Table through an atomic
// pointer. When a refresh costs more than a tenth of the interval (a host
// with very many sockets), the next one waits ten times that cost instead,
// so the Watcher never takes more than about 10% of a core.
//
// An owner with a periodic wake-up of its own (the engine's tick) calls
// Tick from it: the Watcher then refreshes on those ticks (and Kicks)
// alone, with no timer of its own, so that an idle process wakes once per
// interval. (A timer pushed back on every tick still wakes the process
// when it was first due: Go leaves a timer moved later at its old place
// until then.)
type Watcher struct {
	scanner  *Scanner
	interval time.Duration
	latest   atomic.Pointer[Table]
	kick     chan struct{}
	tick     chan struct{}
	ticked   atomic.Bool // Tick has been called
	now      func() time.Time
	once     sync.Once
	done     chan struct{}

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every refresh
	stats   WatcherStats

	// strangers are the connections that the newest table listing every
	// TCP connection (Seq strangersSeq) had no socket for: traffic of
	// no local socket, which a fresh listing would not find either.
	strangers    map[tupleKey]struct{}
	strangersSeq uint64
}

// WatcherStats sum up a Watcher's refreshes.
type WatcherStats struct {
	Refreshes uint64        // successful refreshes
	Failures  uint64        // failed refreshes
	Last, Max time.Duration // cost of the last and of the slowest refresh
	Total     time.Duration // cost of all refreshes
	Err       error         // error of the last refresh, nil when it worked
}

// NewWatcher returns a Watcher that refreshes s every interval (at least
// 100ms). s must not be used elsewhere afterwards.
func NewWatcher(s *Scanner, interval time.Duration) *Watcher {
	if interval < 100*time.Millisecond {
		interval = 100 * time.Millisecond
	}
	return &Watcher{
		scanner:  s,
		interval: interval,
		kick:     make(chan struct{}, 1),
		tick:     make(chan struct{}, 1),
		now:      time.Now,
		done:     make(chan struct{}),
		changed:  make(chan struct{}),
	}
}

// Start refreshes at once and then every interval until ctx ends, on a new
// goroutine. Calls after the first do nothing. ctx also carries the /proc
// directory to read (see the package doc).
func (w *Watcher) Start(ctx context.Context) {
	w.once.Do(func() { go w.run(ctx) })
}

// Done is closed when the Watcher's goroutine has stopped.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Latest returns the newest table, nil before the first refresh succeeded.
func (w *Watcher) Latest() *Table { return w.latest.Load() }

// Kick asks for a refresh now instead of at the next interval (but not
// sooner than the cost guard allows).
func (w *Watcher) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Tick tells the Watcher that its owner has just woken for its own
// periodic work: a refresh due within the next half interval runs now. It
// never blocks.
func (w *Watcher) Tick() {
	w.ticked.Store(true)
	select {
	case w.tick <- struct{}{}:
	default:
	}
}

// Annotate fills the ports' process fields from the newest table (see the
// package function Annotate); it does nothing before the first table.
//
// Most refreshes list only the TCP listeners (see
// Options.ConnectionsEvery). When a flow has no socket in a table that
// carried its connections over, and it is not one a full listing already
// failed to find, Annotate asks for a full listing at once, so a new
// connection gets its process within a refresh. Annotate is meant for one
// goroutine (the engine's).
func (w *Watcher) Annotate(ports []snapshot.Port, flows []snapshot.Flow) {
	t := w.latest.Load()
	if t == nil {
		return
	}
	unknown := annotate(ports, flows, t)
	w.mu.Lock()
	defer w.mu.Unlock()
	if t.Stats.Connections {
		if t.Seq != w.strangersSeq {
			w.strangers = make(map[tupleKey]struct{}, len(unknown))
			w.strangersSeq = t.Seq
		}
		for _, k := range unknown {
			w.strangers[k] = struct{}{}
		}
		return
	}
	for _, k := range unknown {
		if _, ok := w.strangers[k]; !ok {
			w.scanner.WantConnections()
			w.Kick()
			return
		}
	}
}

// Stats returns the Watcher's refresh counts and costs.
func (w *Watcher) Stats() WatcherStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Wait blocks until a table newer than seq is published (seq 0: any table)
// and returns it. It returns ctx's error when ctx ends first, and
// ErrStopped when the Watcher stops first.
func (w *Watcher) Wait(ctx context.Context, seq uint64) (*Table, error) {
	for {
		w.mu.Lock()
		ch := w.changed
		w.mu.Unlock()
		if t := w.latest.Load(); t != nil && t.Seq > seq {
			return t, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.done:
			if t := w.latest.Load(); t != nil && t.Seq > seq {
				return t, nil
			}
			return nil, ErrStopped
		}
	}
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	timer := time.NewTimer(w.interval)
	defer timer.Stop()
	for {
		begun := w.now()
		cost := w.refresh(ctx)
		wait := nextWait(w.interval, cost)
		if w.ticked.Load() {
			timer.Stop() // ticks drive the refreshes
		} else {
			timer.Reset(wait)
		}
		if !w.waitNext(ctx, timer, begun, wait, cost) {
			return
		}
	}
}

// waitNext waits until the next refresh is due: timer fires (it is
// stopped once ticks come); a Tick comes once the last refresh, begun at
// begun, is at most half an interval from being due (wait after it); or a
// Kick comes, then also until ten times the last refresh's cost has
// passed. It returns false when ctx ends.
func (w *Watcher) waitNext(ctx context.Context, timer *time.Timer, begun time.Time, wait, cost time.Duration) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case <-w.tick:
			if w.now().Sub(begun) >= wait-w.interval/2 {
				return true
			}
		case <-w.kick:
			guard := 10*cost - w.now().Sub(begun)
			if guard <= 0 {
				return true
			}
			timer.Reset(guard)
			select {
			case <-ctx.Done():
				return false
			case <-timer.C:
				return true
			}
		}
	}
}

// nextWait is the pause before the next refresh: the interval, stretched to
// ten times the last refresh's cost when that is longer.
func nextWait(interval, cost time.Duration) time.Duration {
	return max(interval, 10*cost)
}

// refresh reads one table, publishes it and returns what it cost.
func (w *Watcher) refresh(ctx context.Context) time.Duration {
	start := time.Now()
	t, err := w.scanner.Refresh(ctx)
	cost := time.Since(start)
	if err == nil {
		w.latest.Store(t)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stats.Err = err
	if err != nil {
		w.stats.Failures++
	} else {
		w.stats.Refreshes++
		w.stats.Last = cost
		w.stats.Total += cost
		w.stats.Max = max(w.stats.Max, cost)
	}
	close(w.changed)
	w.changed = make(chan struct{})
	return cost
}
