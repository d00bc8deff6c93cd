package procs

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clockReader is a socketReader listing no socket that records the fake
// clock's minute at each read.
type clockReader struct {
	clock *atomic.Int64 // minutes
	mu    sync.Mutex
	reads []int64
}

func (r *clockReader) read(context.Context, string, bool, bool) ([]Socket, RefreshStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, r.clock.Load())
	return nil, RefreshStats{Connections: true}, nil
}

func (r *clockReader) recycle([]Socket) {}
func (r *clockReader) skip(string) bool { return false }

// TestWatcherTicks checks that a Tick refreshes only once the next refresh
// is due within half an interval, and that a Kick refreshes at once when
// the last refresh was cheap. The interval is an hour, so the Watcher's
// own timer never fires during the test; the clock is fake.
func TestWatcherTicks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var minute atomic.Int64
	now := func() time.Time { return time.Unix(0, 0).Add(time.Duration(minute.Load()) * time.Minute) }
	r := &clockReader{clock: &minute}
	s := NewScanner(Options{})
	s.sockets, s.now = r, now
	w := NewWatcher(s, time.Hour)
	w.now = now
	w.Start(ctx)
	wait := func(seq uint64) {
		t.Helper()
		if _, err := w.Wait(ctx, seq); err != nil {
			t.Fatalf("waiting for table %d: %v", seq+1, err)
		}
	}
	wait(0) // the first refresh, at minute 0

	minute.Store(10)
	w.Tick() // due at minute 60: not within half an hour yet
	minute.Store(31)
	w.Tick() // within half an hour of due
	wait(1)
	w.Tick() // just refreshed: not due
	w.Kick()
	wait(2)
	minute.Store(62)
	w.Tick()
	wait(3)

	cancel()
	<-w.Done()
	r.mu.Lock()
	defer r.mu.Unlock()
	// A Tick at minute 10 read at minute 10, or at 31 if taken late; a
	// wrong refresh adds a read either way.
	if want := []int64{0, 31, 31, 62}; !slices.Equal(r.reads, want) {
		t.Errorf("refreshes at minutes %v, want %v", r.reads, want)
	}
}

// TestWatcherTickedHasNoTimer checks that once ticks come, the Watcher
// refreshes on them alone: its own timer would wake the process between
// ticks. (With a 100ms interval, the old half-interval fallback refreshed
// every 150ms.)
func TestWatcherTickedHasNoTimer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := NewWatcher(NewScanner(Options{}), 100*time.Millisecond)
	w.scanner.sockets = &clockReader{clock: new(atomic.Int64)}
	w.Tick() // an owner that ticks from the start
	w.Start(ctx)
	first, err := w.Wait(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // five intervals without a tick
	if got := w.Latest().Seq; got != first.Seq {
		t.Errorf("refreshed %d times with no tick after ticks came, want 0", got-first.Seq)
	}
	w.Tick()
	if _, err := w.Wait(ctx, first.Seq); err != nil {
		t.Fatalf("no refresh on a tick after a pause: %v", err)
	}
}

// TestWatcherKickGuard checks that a Kick after a costly refresh waits
// for ten times that cost.
func TestWatcherKickGuard(t *testing.T) {
	w := NewWatcher(NewScanner(Options{}), time.Hour)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	w.Kick()
	begun := time.Now()
	if !w.waitNext(context.Background(), timer, begun, time.Hour, 20*time.Millisecond) {
		t.Fatal("waitNext returned false with a live context")
	}
	if waited := time.Since(begun); waited < 200*time.Millisecond {
		t.Errorf("a Kick after a 20ms refresh refreshed after %v, want at least 200ms", waited)
	}
}
