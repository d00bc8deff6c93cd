package ui

import (
	"context"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/gdamore/tcell/v2/terminfo"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/ring"
	"github.com/porttop/porttop/internal/snapshot"
)

// manyPorts is a snapshot with n active ports, each with a flow.
func manyPorts(n int, t time.Time) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Time: t, Start: t.Add(-time.Hour), Interval: time.Second,
		Interfaces: []snapshot.Interface{{Name: "eth0", NICValid: true, Coverage: 1}}}
	for i := range n {
		k := key.Key{Proto: key.Proto(i % 2), Side: key.Side(i / 2 % 2), Port: uint16(1024 + i)}
		d := snapshot.Counters{RxBytes: uint64(1000 + i*7%5000), TxBytes: uint64(500 + i*13%3000), RxPackets: 3, TxPackets: 2}
		s.Ports = append(s.Ports, snapshot.Port{Key: k, Service: "svc" + strconv.Itoa(i%50),
			Process: "proc" + strconv.Itoa(i%300), Total: d, Delta: d, Connections: 1})
	}
	return s
}

// filledRing is a real history ring holding ticks snapshots of n ports.
func filledRing(n, ticks int) (*ring.Ring, *snapshot.Snapshot) {
	r := ring.New(ring.Config{})
	var s *snapshot.Snapshot
	for i := range ticks {
		s = manyPorts(n, fixedNow.Add(time.Duration(i-ticks)*time.Second))
		r.Push(s)
	}
	return r, s
}

// benchRefresh measures one refresh off and on the UI goroutine: reading
// the feed, preparing the frame, swapping it in and drawing the screen.
func benchRefresh(b *testing.B, ports, width, height int) {
	feed, snap := filledRing(ports, 60)
	cfg := resolve(&Options{Hostname: "bench", Now: func() time.Time { return fixedNow }, NoColor: true})
	d := newDashboard(cfg, feed, NewGuard(), viewState{window: 2 * time.Second, width: width, height: height}, nil)
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		b.Fatal(err)
	}
	scr.SetSize(width, height)
	d.screens.SetRect(0, 0, width, height)
	histN := 0
	for _, cw := range layoutFor(width).cols {
		if cw.c == colHistory {
			histN = cw.w
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s := takeSample(feed, snap, fixedNow, 2*time.Second, histN)
		d.state.gen++
		st := d.state
		d.apply(buildFrame(s, st, cfg))
		d.screens.Draw(scr)
		scr.Show()
	}
}

func BenchmarkRefresh20Ports(b *testing.B)    { benchRefresh(b, 20, 120, 40) }
func BenchmarkRefresh10000Ports(b *testing.B) { benchRefresh(b, 10000, 120, 40) }

// countingTty is a terminal that counts what is written to it.
type countingTty struct {
	mu      sync.Mutex
	written int
	closed  chan struct{}
	once    sync.Once
}

func (t *countingTty) Start() error           { return nil }
func (t *countingTty) Stop() error            { return nil }
func (t *countingTty) Drain() error           { return nil }
func (t *countingTty) NotifyResize(cb func()) {}
func (t *countingTty) WindowSize() (tcell.WindowSize, error) {
	return tcell.WindowSize{Width: 120, Height: 40}, nil
}

// Read reports no input; it returns every 50 ms so that tcell's input loop
// can notice the screen stopping whatever it does with the tty.
func (t *countingTty) Read(p []byte) (int, error) {
	select {
	case <-t.closed:
		return 0, io.EOF
	case <-time.After(50 * time.Millisecond):
		return 0, nil
	}
}
func (t *countingTty) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.written += len(p)
	t.mu.Unlock()
	return len(p), nil
}
func (t *countingTty) Close() error {
	t.once.Do(func() { close(t.closed) })
	return nil
}
func (t *countingTty) bytes() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.written
}

// TestBytesPerIdleRefresh measures what a refresh that changes nothing
// writes to a real terminal (xterm-256color through tcell's terminfo
// screen): tcell sends only changed cells, so it should be next to nothing.
func TestBytesPerIdleRefresh(t *testing.T) {
	ti, err := terminfo.LookupTerminfo("xterm-256color")
	if err != nil {
		t.Skipf("no terminfo for xterm-256color: %v", err)
	}
	tty := &countingTty{closed: make(chan struct{})}
	scr, err := tcell.NewTerminfoScreenFromTtyTerminfo(tty, ti)
	if err != nil {
		t.Fatal(err)
	}
	feed := newFakeFeed(fixture())
	applied := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Screen: scr, Updates: feed.updates, Hostname: "h", NoColor: true,
			Now: func() time.Time { return fixedNow }, onFrame: func() {
				select {
				case applied <- struct{}{}:
				default:
				}
			}}, feed)
	}()
	defer func() {
		cancel()
		<-done
	}()
	wait := func() {
		t.Helper()
		select {
		case <-applied:
		case <-time.After(30 * time.Second):
			t.Fatal("no frame applied")
		}
	}
	wait() // the first frame
	first := tty.bytes()
	const refreshes = 5
	for range refreshes {
		before := tty.bytes()
		feed.publish(fixture()) // a new snapshot with the same numbers
		wait()
		t.Logf("refresh wrote %d bytes", tty.bytes()-before)
	}
	per := (tty.bytes() - first) / refreshes
	t.Logf("first screen %d bytes; %d bytes per unchanged refresh", first, per)
	if first == 0 {
		t.Fatal("nothing was drawn")
	}
	if per > 64 {
		t.Errorf("an unchanged refresh writes %d bytes, want next to none", per)
	}
}
