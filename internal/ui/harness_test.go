package ui

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/ring"
	"github.com/porttop/porttop/internal/snapshot"
)

// The real history ring is a Feed.
var _ Feed = (*ring.Ring)(nil)

// fixedNow is the fake clock of every test.
var fixedNow = time.Date(2026, 11, 28, 12, 34, 56, 0, time.UTC)

// fakeFeed serves fixed snapshots. Rates are the snapshot's Delta over its
// interval, times the window in units of 2 s, so each window shows
// different numbers.
type fakeFeed struct {
	mu      sync.Mutex
	snap    *snapshot.Snapshot
	updates chan struct{}
}

func newFakeFeed(s *snapshot.Snapshot) *fakeFeed {
	return &fakeFeed{snap: s, updates: make(chan struct{}, 1)}
}

// publish replaces the snapshot and tells the dashboard.
func (f *fakeFeed) publish(s *snapshot.Snapshot) {
	f.mu.Lock()
	f.snap = s
	f.mu.Unlock()
	select {
	case f.updates <- struct{}{}:
	default:
	}
}

func (f *fakeFeed) Latest() *snapshot.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeFeed) port(k key.Key) *snapshot.Port {
	s := f.Latest()
	for i := range s.Ports {
		if s.Ports[i].Key == k {
			return &s.Ports[i]
		}
	}
	return nil
}

func (f *fakeFeed) Rate(k key.Key, window time.Duration) (float64, float64) {
	p := f.port(k)
	if p == nil {
		return 0, 0
	}
	scale := float64(window / (2 * time.Second))
	iv := f.Latest().Interval
	return p.RxBps(iv) * scale, p.TxBps(iv) * scale
}

func (f *fakeFeed) History(k key.Key, n int) []ring.Sample {
	p := f.port(k)
	if p == nil {
		return nil
	}
	out := make([]ring.Sample, n)
	for i := range out {
		// A ramp up to the current rate.
		frac := float64(i+1) / float64(n)
		out[i] = ring.Sample{RxBps: float64(p.Delta.RxBytes) * frac, TxBps: float64(p.Delta.TxBytes) * frac}
	}
	return out
}

func (f *fakeFeed) IfaceHistory(name string, n int) []ring.Sample {
	out := make([]ring.Sample, n)
	for i := range out {
		out[i] = ring.Sample{RxBps: float64(1000 * (i % 7)), TxBps: float64(500 * (i % 5))}
	}
	return out
}

func tcp(port uint16, side key.Side) key.Key {
	return key.Key{Proto: key.TCP, Side: side, Port: port}
}

// fixture is the fixed snapshot of the tests: six rows, one of them a
// listening port without traffic, and the ssh row with two connections.
func fixture() *snapshot.Snapshot {
	start := fixedNow.Add(-time.Hour)
	ap := netip.MustParseAddrPort
	return &snapshot.Snapshot{
		Seq: 3600, Time: fixedNow, Start: start, Interval: time.Second,
		Interfaces: []snapshot.Interface{
			{Name: "eth0", NICValid: true, RxBytes: 5 << 30, TxBytes: 1 << 30, RxBps: 2.5e6, TxBps: 150e3,
				CapturedBytes: 5<<30 + 1<<30, Coverage: 0.998, DroppedPackets: 12, DecodeErrors: 3},
			{Name: "lo", NICValid: true, RxBytes: 1 << 20, TxBytes: 1 << 20, RxBps: 100, TxBps: 100,
				CapturedBytes: 2 << 20, Coverage: 1},
		},
		Ports: []snapshot.Port{
			{Key: tcp(22, key.Local), Service: "ssh", Listening: true, Process: "sshd", PID: 812,
				Total: snapshot.Counters{RxBytes: 9 << 20, TxBytes: 30 << 20, RxPackets: 40000, TxPackets: 50000},
				Delta: snapshot.Counters{RxBytes: 3000, TxBytes: 12000, RxPackets: 40, TxPackets: 30}, Connections: 2,
				Processes: []snapshot.Process{{PID: 812, Name: "sshd", User: "root", Cmdline: "sshd: /usr/sbin/sshd -D"}}},
			{Key: tcp(443, key.Remote), Service: "https", Process: "firefox", PID: 4242,
				Total: snapshot.Counters{RxBytes: 3 << 30, TxBytes: 200 << 20, RxPackets: 2000000, TxPackets: 900000},
				Delta: snapshot.Counters{RxBytes: 2_000_000, TxBytes: 90_000, RxPackets: 1400, TxPackets: 700}, Connections: 9},
			{Key: tcp(80, key.Local), Service: "http", Listening: true, Process: "nginx", PID: 901,
				Total: snapshot.Counters{RxBytes: 700 << 20, TxBytes: 4 << 30, RxPackets: 600000, TxPackets: 3000000},
				Delta: snapshot.Counters{RxBytes: 40_000, TxBytes: 600_000, RxPackets: 300, TxPackets: 450}, Connections: 31},
			{Key: key.Key{Proto: key.UDP, Side: key.Remote, Port: 53}, Service: "domain", Process: "systemd-resolved", PID: 300,
				Total: snapshot.Counters{RxBytes: 2 << 20, TxBytes: 1 << 20, RxPackets: 9000, TxPackets: 9000},
				Delta: snapshot.Counters{RxBytes: 800, TxBytes: 400, RxPackets: 6, TxPackets: 6}, Connections: 3},
			{Key: tcp(8080, key.Local), Service: "http-alt", Listening: true, Process: "java", PID: 1500},
			{Key: key.Key{Proto: key.UDP, Side: key.Local, Port: 9000}, Listening: true, ProcessNote: "needs root",
				Total: snapshot.Counters{RxBytes: 5000, RxPackets: 10}},
		},
		Other: snapshot.Counters{RxBytes: 12345, TxBytes: 678},
		Flows: []snapshot.Flow{
			{Key: tcp(22, key.Local), Local: ap("10.0.0.1:22"), Peer: ap("10.0.0.5:51234"),
				Total: snapshot.Counters{RxBytes: 8 << 20, TxBytes: 29 << 20}, Delta: snapshot.Counters{RxBytes: 2500, TxBytes: 11000},
				First: fixedNow.Add(-25 * time.Minute), Last: fixedNow},
			{Key: tcp(22, key.Local), Local: ap("10.0.0.1:22"), Peer: ap("192.0.2.7:40000"),
				Total: snapshot.Counters{RxBytes: 1 << 20, TxBytes: 1 << 20}, Delta: snapshot.Counters{RxBytes: 500, TxBytes: 1000},
				First: fixedNow.Add(-42 * time.Second), Last: fixedNow},
			{Key: tcp(80, key.Local), Local: ap("10.0.0.1:80"), Peer: ap("198.51.100.9:5555"),
				Total: snapshot.Counters{RxBytes: 1000, TxBytes: 9000}, First: fixedNow.Add(-3 * time.Second), Last: fixedNow},
		},
	}
}

// testScreen is a SimulationScreen of a given size that keeps a copy of
// what the last Show put on it, taken on the drawing goroutine.
type testScreen struct {
	tcell.SimulationScreen
	w, h int

	mu     sync.Mutex
	text   []string
	styles [][]tcell.Style
	shown  chan struct{} // a value after each Show
}

func newTestScreen(w, h int) *testScreen {
	return &testScreen{SimulationScreen: tcell.NewSimulationScreen("UTF-8"), w: w, h: h, shown: make(chan struct{}, 1)}
}

func (s *testScreen) Init() error {
	if err := s.SimulationScreen.Init(); err != nil {
		return err
	}
	s.SimulationScreen.SetSize(s.w, s.h)
	return nil
}

func (s *testScreen) Show() {
	s.SimulationScreen.Show()
	cells, w, h := s.GetContents()
	text := make([]string, h)
	styles := make([][]tcell.Style, h)
	for y := range h {
		var b strings.Builder
		styles[y] = make([]tcell.Style, w)
		for x := range w {
			c := cells[y*w+x]
			styles[y][x] = c.Style
			if len(c.Runes) == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteString(string(c.Runes))
			}
		}
		text[y] = b.String()
	}
	s.mu.Lock()
	s.text, s.styles = text, styles
	s.mu.Unlock()
	select {
	case s.shown <- struct{}{}:
	default:
	}
}

// resize changes the screen's size as a terminal would.
func (s *testScreen) resize(w, h int) {
	s.SimulationScreen.SetSize(w, h)
	_ = s.PostEvent(tcell.NewEventResize(w, h))
}

// lines returns the screen as last shown.
func (s *testScreen) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.text
}

func (s *testScreen) String() string { return strings.Join(s.lines(), "\n") }

// key sends a key press, waiting for room in the event queue (InjectKey
// drops events when the queue is full).
func (s *testScreen) key(k tcell.Key) { s.PostEventWait(tcell.NewEventKey(k, 0, tcell.ModNone)) }

// runes types text.
func (s *testScreen) runes(text string) {
	for _, r := range text {
		s.PostEventWait(tcell.NewEventKey(tcell.KeyRune, r, tcell.ModNone))
	}
}

// run is one dashboard under test.
type run struct {
	t      *testing.T
	scr    *testScreen
	feed   *fakeFeed
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
	// checked: the test looked at Run's error itself.
	checked bool
}

// wait waits (bounded) for Run to return and gives its error.
func (r *run) wait() error {
	r.t.Helper()
	r.checked = true
	r.once.Do(func() {
		select {
		case r.err = <-r.done:
		case <-time.After(10 * time.Second):
			r.err = errors.New("Run did not return")
		}
	})
	return r.err
}

// start runs the dashboard on a w×h simulation screen over feed.
func start(t *testing.T, w, h int, feed *fakeFeed, mod func(*Options)) *run {
	t.Helper()
	scr := newTestScreen(w, h)
	opts := Options{
		Screen:        scr,
		Updates:       feed.updates,
		Hostname:      "testhost",
		Now:           func() time.Time { return fixedNow },
		Refresh:       time.Second,
		SSHConnection: "10.0.0.5 51234 10.0.0.1 22",
		NoColor:       true,
	}
	if mod != nil {
		mod(&opts)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{t: t, scr: scr, feed: feed, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- Run(ctx, opts, feed) }()
	t.Cleanup(func() {
		cancel()
		checked := r.checked
		if err := r.wait(); err != nil && !checked {
			t.Errorf("Run: %v", err)
		}
	})
	return r
}

// waitFor waits until the screen satisfies ok, failing after a deadline.
func (r *run) waitFor(what string, ok func(screen string) bool) string {
	r.t.Helper()
	deadline := time.After(30 * time.Second) // generous: CI machines can be loaded
	for {
		s := r.scr.String()
		if ok(s) {
			return s
		}
		select {
		case <-r.scr.shown:
		case <-deadline:
			r.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
	}
}

// waitText waits until the screen contains all of texts.
func (r *run) waitText(texts ...string) string {
	r.t.Helper()
	return r.waitFor(strings.Join(texts, ", "), func(s string) bool {
		for _, t := range texts {
			if !strings.Contains(s, t) {
				return false
			}
		}
		return true
	})
}

// rowOrder returns the ports of the table's rows top to bottom: the first
// field of each line below the header row that starts with a number.
func rowOrder(screen string) []string {
	var out []string
	inTable := false
	for _, l := range strings.Split(screen, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 {
			if inTable {
				break
			}
			continue
		}
		if strings.HasPrefix(f[0], "PORT") {
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		if f[0][0] < '0' || f[0][0] > '9' {
			break
		}
		out = append(out, f[0]+"/"+f[1])
	}
	return out
}

// waitOrder waits until the table shows exactly these rows in order.
func (r *run) waitOrder(want ...string) string {
	r.t.Helper()
	return r.waitFor("rows "+strings.Join(want, " "), func(s string) bool {
		return strings.Join(rowOrder(s), " ") == strings.Join(want, " ")
	})
}

// selectedRow returns the first field of the row drawn in reverse video.
func (r *run) selectedRow() string {
	r.scr.mu.Lock()
	defer r.scr.mu.Unlock()
	for y, l := range r.scr.text {
		if len(r.scr.styles[y]) > 2 && attrs(r.scr.styles[y][2])&tcell.AttrReverse != 0 {
			if f := strings.Fields(l); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

func attrs(s tcell.Style) tcell.AttrMask {
	_, _, a := s.Decompose()
	return a
}
