package engine

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/nic"
	"github.com/porttop/porttop/internal/snapshot"
)

// fakeSource replays frames, then reports read timeouts until closed, or
// fails with err after the frames when err is set.
type fakeSource struct {
	name   string
	frames [][]byte
	wire   []int // wire lengths of frames (default len)
	ts     time.Time
	err    error

	mu     sync.Mutex
	closed bool
	next   int
	gate   chan struct{} // one frame per receive, when non-nil
}

func (f *fakeSource) ReadPacket(ci *capture.Info) ([]byte, error) {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return nil, io.EOF
	}
	if f.next < len(f.frames) {
		if f.gate != nil {
			select {
			case <-f.gate:
			case <-time.After(time.Millisecond):
				return nil, capture.ErrTimeout
			}
		}
		d := f.frames[f.next]
		n := len(d)
		if f.next < len(f.wire) {
			n = f.wire[f.next]
		}
		f.next++
		*ci = capture.Info{Timestamp: f.ts, CaptureLength: len(d), Length: n}
		return d, nil
	}
	if f.err != nil {
		return nil, f.err
	}
	time.Sleep(time.Millisecond) // a read timeout, shortened
	return nil, capture.ErrTimeout
}

func (f *fakeSource) LinkType() int { return 1 }
func (f *fakeSource) Name() string  { return f.name }
func (f *fakeSource) Stats() (capture.Stats, error) {
	return capture.Stats{Received: uint64(f.next)}, nil
}
func (f *fakeSource) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

// fakeClock ticks when the test says so.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	ch      chan time.Time
	started chan struct{} // closed by NewTicker: Run has read its start time
	once    sync.Once
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) startedCh() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started == nil {
		c.started = make(chan struct{})
	}
	return c.started
}

func (c *fakeClock) NewTicker(time.Duration) Ticker {
	ch := c.startedCh()
	c.once.Do(func() { close(ch) })
	return c
}
func (c *fakeClock) C() <-chan time.Time { return c.ch }
func (c *fakeClock) Stop()               {}

// tick advances the clock by d and delivers a tick. It first waits for
// Run to make its ticker: Run reads its start time before that, and a
// clock advanced before it would make the first interval zero long.
func (c *fakeClock) tick(d time.Duration) {
	select {
	case <-c.startedCh():
	case <-time.After(10 * time.Second):
		panic("fakeClock: Run made no ticker within 10s")
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	c.ch <- now
}

// chanSink hands every snapshot to the test.
type chanSink chan *snapshot.Snapshot

func (c chanSink) Publish(s *snapshot.Snapshot) error {
	c <- s
	return nil
}

type fakeNIC struct {
	mu sync.Mutex
	m  map[string]nic.Counters
}

func (f *fakeNIC) Read(context.Context) (map[string]nic.Counters, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]nic.Counters)
	for k, v := range f.m {
		out[k] = v
	}
	return out, nil
}

func (f *fakeNIC) add(name string, rx, tx uint64) {
	f.mu.Lock()
	c := f.m[name]
	c.RxBytes += rx
	c.TxBytes += tx
	f.m[name] = c
	f.mu.Unlock()
}

type fakeProcs struct{ listen []key.Key }

func (f fakeProcs) ListeningKeys() []key.Key { return f.listen }
func (f fakeProcs) Annotate(ports []snapshot.Port, _ []snapshot.Flow) {
	for i := range ports {
		if ports[i].Key.Port == 443 {
			ports[i].Process, ports[i].PID = "nginx", 42
		}
	}
}

func referenceFrames(t *testing.T) ([][]byte, []int, uint64) {
	t.Helper()
	data, want := reference(t)
	src, err := capture.NewReader(strings.NewReader(string(data)), "ref", "")
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	var wire []int
	for {
		var ci capture.Info
		d, err := src.ReadPacket(&ci)
		if err != nil {
			break
		}
		frames = append(frames, append([]byte(nil), d...))
		wire = append(wire, ci.Length)
	}
	return frames, wire, want.Bytes
}

func TestLiveTicksSwapAndPublish(t *testing.T) {
	frames, wire, wantBytes := referenceFrames(t)
	clock := &fakeClock{now: genStart, ch: make(chan time.Time)}
	src := &fakeSource{name: "eth0", frames: frames, wire: wire, ts: genStart}
	nics := &fakeNIC{m: map[string]nic.Counters{"eth0": {Name: "eth0"}}}
	sink := make(chanSink, 16)
	e, err := New(Config{Interval: time.Second}, Inputs{
		Sources:   []capture.Source{src},
		NIC:       nics,
		Processes: fakeProcs{listen: []key.Key{{Proto: key.TCP, Port: 9999}}},
		Clock:     clock,
	}, sink)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	// Tick until every frame has been counted (bounded).
	var total uint64
	var last *snapshot.Snapshot
	for i := 0; i < 200 && total < wantBytes; i++ {
		clock.tick(time.Second)
		last = <-sink
		nics.add("eth0", 1000, 500) // after the first reading: deterministic
		total = last.Capture.Bytes
		if last.Seq != uint64(i+1) {
			t.Fatalf("seq %d at tick %d", last.Seq, i+1)
		}
	}
	if total != wantBytes {
		t.Fatalf("captured %d bytes, want %d", total, wantBytes)
	}
	// An idle tick still publishes, with zero deltas.
	clock.tick(time.Second)
	idle := <-sink
	for _, p := range idle.Ports {
		if !p.Delta.IsZero() {
			t.Errorf("idle tick: %v has delta %+v", p.Key, p.Delta)
		}
	}
	var sawListen, sawProc bool
	for _, p := range idle.Ports {
		if p.Key.Port == 9999 && p.Listening && p.Total.IsZero() {
			sawListen = true
		}
		if p.Key.Port == 443 && p.Process == "nginx" {
			sawProc = true
		}
	}
	if !sawListen {
		t.Error("listening port 9999 without traffic is not a row")
	}
	if !sawProc {
		t.Error("process annotation missing")
	}
	if len(idle.Interfaces) != 1 {
		t.Fatalf("interfaces: %+v", idle.Interfaces)
	}
	ifc := idle.Interfaces[0]
	// The NIC moved 1500 bytes during the idle tick, the capture saw none.
	if !ifc.NICValid || ifc.RxBps != 1000 || ifc.TxBps != 500 || ifc.CapturedBytes != wantBytes ||
		ifc.RxBytes != 1000*uint64(idle.Seq-1) || ifc.Coverage != 0 || ifc.ReceivedPackets != uint64(len(frames)) {
		t.Errorf("interface: %+v (seq %d, frames %d, want bytes %d)", ifc, idle.Seq, len(frames), wantBytes)
	}
	if idle.Interval != time.Second {
		t.Errorf("interval %v", idle.Interval)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
}

func TestLiveKeepsGoingWhileAnySourceWorks(t *testing.T) {
	clock := &fakeClock{now: genStart, ch: make(chan time.Time)}
	bad := &fakeSource{name: "eth1", err: errors.New("interface went down")}
	good := &fakeSource{name: "lo"}
	sink := make(chanSink, 16)
	e, err := New(Config{}, Inputs{Sources: []capture.Source{bad, good}, Clock: clock}, sink)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	// The failing source's error shows on its interface row.
	deadline := time.Now().Add(10 * time.Second)
	for {
		clock.tick(time.Second)
		s := <-sink
		if s.Interfaces[0].Err != "" {
			if !strings.Contains(s.Interfaces[0].Err, "went down") || s.Interfaces[1].Err != "" {
				t.Fatalf("interfaces: %+v", s.Interfaces)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("failed interface never reported")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLiveAllSourcesFail(t *testing.T) {
	clock := &fakeClock{now: genStart, ch: make(chan time.Time)}
	a := &fakeSource{name: "eth0", err: errors.New("boom")}
	b := &fakeSource{name: "eth1", err: errors.New("bang")}
	e, err := New(Config{}, Inputs{Sources: []capture.Source{a, b}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "bang") {
		t.Fatalf("Run = %v, want both errors", err)
	}
}

func TestNewNeedsASource(t *testing.T) {
	if _, err := New(Config{}, Inputs{}); err == nil {
		t.Fatal("New without sources succeeded")
	}
}

// wakeableSource hands out its frames, then blocks in ReadPacket until
// Wake (or 30 s, standing in for a long read timeout).
type wakeableSource struct {
	fakeSource
	wake    chan struct{}
	blocked chan struct{} // closed when it first blocks: every frame read
	once    sync.Once
}

func (w *wakeableSource) ReadPacket(ci *capture.Info) ([]byte, error) {
	if w.next < len(w.frames) {
		return w.fakeSource.ReadPacket(ci)
	}
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return nil, io.EOF
	}
	w.once.Do(func() { close(w.blocked) })
	select {
	case <-w.wake:
	case <-time.After(30 * time.Second):
	}
	return nil, capture.ErrTimeout
}

func (w *wakeableSource) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *wakeableSource) Close() error {
	w.fakeSource.Close()
	w.Wake()
	return nil
}

// TestLiveWakesSourcesAtTick checks that a tick wakes a source that
// implements capture.Waker, so a worker waiting with a long read timeout
// hands its tally over at once instead of being merged a tick late.
func TestLiveWakesSourcesAtTick(t *testing.T) {
	frames, wire, wantBytes := referenceFrames(t)
	clock := &fakeClock{now: genStart, ch: make(chan time.Time)}
	src := &wakeableSource{fakeSource: fakeSource{name: "eth0", frames: frames, wire: wire, ts: genStart},
		wake: make(chan struct{}, 1), blocked: make(chan struct{})}
	sink := make(chanSink, 16)
	e, err := New(Config{Interval: time.Second, SwapWait: 5 * time.Second}, Inputs{Sources: []capture.Source{src}, Clock: clock}, sink)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	select { // let the worker read every frame and block
	case <-src.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not read the frames within 10s")
	}
	start := time.Now()
	clock.tick(time.Second)
	s := <-sink
	if s.Capture.Bytes != wantBytes {
		t.Errorf("first tick captured %d bytes, want %d: the blocked worker was not woken", s.Capture.Bytes, wantBytes)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the tick took %v: the worker waited out its read timeout", d)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
}
