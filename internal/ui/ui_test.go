package ui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

func TestFirstScreen(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	s := r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	for _, want := range []string{
		"testhost", "12:34:56", "refresh 1s", "rate window 2s",
		"eth0 rx 2.4 MiB/s tx 146.5 KiB/s", "coverage 99.8%", "drops 12", "decode errors 3",
		"HISTORY▼", "sort rate▼", "6 ports",
		"ssh*", "*ssh 10.0.0.5→:22 counted", // own ssh session marked
		"q quit",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	// The listening port without traffic is a zero row.
	if !regexpLine(s, `8080 +tcp +http-alt +listen +java +0 B/s +0 B/s +0 B +0 B`) {
		t.Errorf("no zero row for 8080:\n%s", s)
	}
}

func regexpLine(screen, pattern string) bool {
	return regexp.MustCompile(pattern).MatchString(screen)
}

func TestSortKeysAndReverse(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	steps := []struct {
		keys   string
		header string
		order  []string
	}{
		{">", "PORT▲", []string{"22/tcp", "53/udp", "80/tcp", "443/tcp", "8080/tcp", "9000/udp"}},
		{"r", "PORT▼", []string{"9000/udp", "8080/tcp", "443/tcp", "80/tcp", "53/udp", "22/tcp"}},
		{">", "PROCESS▲", []string{"443/tcp", "8080/tcp", "80/tcp", "22/tcp", "53/udp", "9000/udp"}},
		{">", "RX/s▼", []string{"443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp"}},
		{">", "TX/s▼", []string{"80/tcp", "443/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp"}},
		{">", "RX TOTAL▼", []string{"80/tcp", "443/tcp", "22/tcp", "53/udp", "9000/udp", "8080/tcp"}},
		{"r", "RX TOTAL▲", []string{"8080/tcp", "9000/udp", "53/udp", "22/tcp", "443/tcp", "80/tcp"}},
		{">", "HISTORY▼", []string{"443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp"}},
		{"t", "by totals", []string{"80/tcp", "443/tcp", "22/tcp", "53/udp", "9000/udp", "8080/tcp"}},
		{"t<", "TX TOTAL▼", []string{"80/tcp", "443/tcp", "22/tcp", "53/udp", "9000/udp", "8080/tcp"}},
		{"<", "TX/s▼", []string{"80/tcp", "443/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp"}},
	}
	for _, st := range steps {
		r.scr.runes(st.keys)
		r.waitFor(st.keys+" → "+st.header+" "+strings.Join(st.order, " "), func(s string) bool {
			return strings.Contains(s, st.header) && strings.Join(rowOrder(s), " ") == strings.Join(st.order, " ")
		})
	}
}

func TestHeaderClickSorts(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	s := r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	click := func(title string) {
		t.Helper()
		for y, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "PORT") {
				x := strings.Index(l, title)
				r.scr.InjectMouse(x, y, tcell.Button1, tcell.ModNone)
				r.scr.InjectMouse(x, y, tcell.ButtonNone, tcell.ModNone)
				return
			}
		}
		t.Fatalf("no header row:\n%s", s)
	}
	click("PORT")
	s = r.waitOrder("22/tcp", "53/udp", "80/tcp", "443/tcp", "8080/tcp", "9000/udp")
	click("PORT") // again: reversed
	s = r.waitOrder("9000/udp", "8080/tcp", "443/tcp", "80/tcp", "53/udp", "22/tcp")
	click("TX/s")
	r.waitOrder("80/tcp", "443/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
}

func TestFilterPrompt(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")

	r.scr.runes("/udp")
	r.waitOrder("53/udp", "9000/udp")
	r.scr.key(tcell.KeyEnter)
	r.waitText("filter udp", "2 of 6 ports match")

	// Esc in the prompt clears the filter.
	r.scr.runes("/")
	r.waitText("filter: udp")
	r.scr.key(tcell.KeyEscape)
	r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")

	// Narrowing as the user types; a bad expression says why and keeps the
	// last good filter; Enter does not accept it.
	r.scr.runes("/80")
	r.waitOrder("80/tcp")
	r.scr.runes("-")
	r.waitText(`range "80-" has no high end`)
	r.scr.key(tcell.KeyEnter)
	r.scr.runes("443")
	r.waitOrder("443/tcp", "80/tcp")
	r.scr.key(tcell.KeyEnter)
	s := r.waitText("filter 80-443")
	if strings.Contains(s, "no high end") {
		t.Errorf("error still shown:\n%s", s)
	}

	// Combinations.
	for _, c := range []struct {
		expr string
		rows []string
	}{
		{"tcp local http", []string{"80/tcp", "8080/tcp"}},
		{"java", []string{"8080/tcp"}},
		{"resolved", []string{"53/udp"}},
		{"remote 1-1000", []string{"443/tcp", "53/udp"}},
		{"22 9000", []string{"22/tcp", "9000/udp"}},
		{"tcp 8000-9000 java", []string{"8080/tcp"}},
	} {
		r.scr.runes("/")
		r.waitText("filter: 80-443")
		for range len("80-443") {
			r.scr.key(tcell.KeyBackspace2)
		}
		r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
		r.scr.runes(c.expr)
		r.scr.key(tcell.KeyEnter)
		r.waitText("filter " + c.expr)
		r.waitOrder(c.rows...)
		// Back to the 80-443 filter for the next round.
		r.scr.runes("/")
		r.waitText("filter: " + c.expr)
		for range len(c.expr) {
			r.scr.key(tcell.KeyBackspace2)
		}
		r.scr.runes("80-443")
		r.scr.key(tcell.KeyEnter)
		r.waitText("filter 80-443")
	}

	r.scr.runes("/8x")
	r.waitText(`"4438x" is not a port number`)
	r.scr.key(tcell.KeyEscape)
	r.waitText("6 ports")
}

func TestPauseFreezesAndUnpauseShowsCurrent(t *testing.T) {
	feed := newFakeFeed(fixture())
	r := start(t, 120, 40, feed, nil)
	r.waitText("1.9 MiB/s")
	r.scr.runes(" ")
	r.waitText("PAUSED")

	next := fixture()
	next.Ports[1].Delta.RxBytes = 5_000_000 // 443: 4.8 MiB/s
	next.Ports = append(next.Ports, snapshot.Port{Key: tcp(3306, key.Local), Service: "mysql",
		Delta: snapshot.Counters{RxBytes: 1000}, Total: snapshot.Counters{RxBytes: 1000}})
	feed.publish(next)

	// A redraw while paused (bits) still shows the old numbers.
	r.scr.runes("u")
	s := r.waitText("16.0 Mb/s")
	if strings.Contains(s, "3306") || strings.Contains(s, "40.0 Mb/s") {
		t.Fatalf("paused screen shows new data:\n%s", s)
	}
	r.scr.runes(" ")
	s = r.waitText("40.0 Mb/s", "3306")
	if strings.Contains(s, "PAUSED") {
		t.Errorf("still marked paused:\n%s", s)
	}
}

func TestDetailViewShowsPeers(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	r.scr.runes("jj")
	r.waitFor("22 selected", func(string) bool { return r.selectedRow() == "22" })
	r.scr.key(tcell.KeyEnter)
	s := r.waitText("CONNECTIONS (2)", "10.0.0.5:51234", "192.0.2.7:40000")
	for _, want := range []string{
		"22/tcp local · ssh", "PROCESSES", "812", "root", "sshd: /usr/sbin/sshd -D",
		"RX  peak", "TX  peak", "* this ssh session", "your ssh session 10.0.0.5:51234 → 10.0.0.1:22",
		"25m00s", "42s", "8.0 MiB", "29.0 MiB",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("detail lacks %q:\n%s", want, s)
		}
	}
	// The biggest connection first, and only this port's.
	if strings.Index(s, "10.0.0.5:51234") > strings.Index(s, "192.0.2.7:40000") || strings.Contains(s, "198.51.100.9") {
		t.Errorf("connections wrong:\n%s", s)
	}
	r.scr.key(tcell.KeyEscape)
	r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	if sel := r.selectedRow(); sel != "22" {
		t.Errorf("selection after Esc = %q, want 22", sel)
	}
}

func TestHelpScreen(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	r.waitText("443")
	for _, open := range []func(){func() { r.scr.runes("?") }, func() { r.scr.key(tcell.KeyF1) }} {
		open()
		s := r.waitText("porttop — keys", "Frame length on the wire, link-layer header included")
		for _, k := range []string{"PgUp", "Home", "< >", "reverse", "totals", "space", "bits/s", "2 s / 10 s / 40 s", "Enter", "interfaces panel", "quit", "Esc"} {
			if !strings.Contains(s, k) {
				t.Errorf("help lacks %q", k)
			}
		}
		r.scr.key(tcell.KeyEscape)
		r.waitText("HISTORY▼")
	}
}

func TestSelectionFollowsPort(t *testing.T) {
	feed := newFakeFeed(fixture())
	r := start(t, 120, 40, feed, nil)
	r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	r.waitFor("first row selected", func(string) bool { return r.selectedRow() == "443" })
	r.scr.key(tcell.KeyDown)
	r.waitFor("80 selected", func(string) bool { return r.selectedRow() == "80" })

	// Re-sort: 80 moves from the second row to the third.
	r.scr.runes(">")
	r.waitOrder("22/tcp", "53/udp", "80/tcp", "443/tcp", "8080/tcp", "9000/udp")
	if sel := r.selectedRow(); sel != "80" {
		t.Fatalf("after re-sort selected %q, want 80", sel)
	}
	// Refresh that reorders: back to rate order, and 80 becomes the top.
	r.scr.runes("<")
	r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	next := fixture()
	next.Ports[2].Delta.TxBytes = 90_000_000
	feed.publish(next)
	r.waitOrder("80/tcp", "443/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	if sel := r.selectedRow(); sel != "80" {
		t.Fatalf("after refresh selected %q, want 80", sel)
	}
	// Navigation keys.
	for _, c := range []struct {
		k    tcell.Key
		want string
	}{{tcell.KeyEnd, "9000"}, {tcell.KeyUp, "8080"}, {tcell.KeyHome, "80"}, {tcell.KeyPgDn, "9000"}, {tcell.KeyPgUp, "80"}} {
		r.scr.key(c.k)
		r.waitFor(c.want+" selected", func(string) bool { return r.selectedRow() == c.want })
	}
}

func TestTooSmallAndResize(t *testing.T) {
	r := start(t, 70, 20, newFakeFeed(fixture()), nil)
	r.waitText("terminal too small", "70×20, porttop needs 80×24")
	r.scr.resize(80, 24)
	s := r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	if strings.Contains(s, "HISTORY") {
		t.Errorf("80 columns should leave HISTORY out:\n%s", s)
	}
	r.scr.resize(160, 40)
	r.waitText("HISTORY▼", "CONNS")
	r.scr.resize(79, 30)
	r.waitText("terminal too small")
}

func TestBitsAndWindow(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	r.waitText("1.9 MiB/s", "· bytes")
	r.scr.runes("u")
	r.waitText("16.0 Mb/s", "· bits")
	r.scr.runes("u2")
	r.waitText("9.5 MiB/s", "rate window 10s")
	r.scr.runes("3")
	r.waitText("38.1 MiB/s", "rate window 40s")
	r.scr.runes("1")
	r.waitText("1.9 MiB/s", "rate window 2s")
}

func TestInterfacesPanel(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	r.waitText("443")
	r.scr.runes("n")
	s := r.waitText("INTERFACES", "RX  peak 5.9 KiB/s")
	if strings.Count(s, "TX  peak") != 2 {
		t.Errorf("want a TX chart per interface:\n%s", s)
	}
	r.scr.runes("n")
	r.waitText("HISTORY▼")
}

func TestQuitKeys(t *testing.T) {
	for _, c := range []struct {
		name string
		send func(*testScreen)
	}{
		{"q", func(s *testScreen) { s.runes("q") }},
		{"ctrl-c", func(s *testScreen) { s.PostEventWait(tcell.NewEventKey(tcell.KeyCtrlC, 0, tcell.ModCtrl)) }},
		{"q in detail", func(s *testScreen) { s.key(tcell.KeyEnter); s.runes("q") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := start(t, 100, 30, newFakeFeed(fixture()), nil)
			r.waitText("443")
			c.send(r.scr)
			if err := r.wait(); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
		})
	}
}

func TestSignalStops(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	r := start(t, 100, 30, newFakeFeed(fixture()), func(o *Options) { o.signals = sigs })
	r.waitText("443")
	sigs <- syscall.SIGHUP
	var se *SignalError
	if err := r.wait(); !errors.As(err, &se) || se.Signal != syscall.SIGHUP {
		t.Fatalf("Run = %v, want SignalError(SIGHUP)", err)
	}
}

func TestContextCancelStops(t *testing.T) {
	r := start(t, 100, 30, newFakeFeed(fixture()), nil)
	r.waitText("443")
	r.cancel()
	if err := r.wait(); err != nil {
		t.Fatalf("Run = %v", err)
	}
}

func TestNoTerminal(t *testing.T) {
	err := Run(context.Background(), Options{stdoutIsTerminal: func() bool { return false }}, newFakeFeed(fixture()))
	if !errors.Is(err, ErrNoTerminal) || !strings.Contains(err.Error(), "use -b for batch output") {
		t.Errorf("stdout not a terminal: %v", err)
	}
	t.Setenv("TERM", "dumb")
	err = Run(context.Background(), Options{stdoutIsTerminal: func() bool { return true }}, newFakeFeed(fixture()))
	if !errors.Is(err, ErrNoTerminal) || !strings.Contains(err.Error(), "use -b") || !strings.Contains(err.Error(), "dumb") {
		t.Errorf("TERM=dumb: %v", err)
	}
}

func TestColours(t *testing.T) {
	headerFg := func(r *run) tcell.Color {
		r.waitText("HISTORY▼")
		r.scr.mu.Lock()
		defer r.scr.mu.Unlock()
		for y, l := range r.scr.text {
			if x := strings.Index(l, "HISTORY▼"); x >= 0 {
				fg, _, _ := r.scr.styles[y][len([]rune(l[:x]))].Decompose()
				return fg
			}
		}
		return tcell.ColorDefault
	}
	t.Run("colour", func(t *testing.T) {
		t.Setenv("NO_COLOR", "")
		r := start(t, 120, 40, newFakeFeed(fixture()), func(o *Options) { o.NoColor = false })
		if fg := headerFg(r); fg != tcell.ColorYellow {
			t.Errorf("sort column colour %v, want yellow", fg)
		}
	})
	t.Run("NO_COLOR", func(t *testing.T) {
		t.Setenv("NO_COLOR", "1")
		r := start(t, 120, 40, newFakeFeed(fixture()), func(o *Options) { o.NoColor = false })
		if fg := headerFg(r); fg != tcell.ColorDefault {
			t.Errorf("sort column colour %v with NO_COLOR", fg)
		}
	})
}

func TestExcludedSSHShown(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), func(o *Options) { o.ExcludeOwnSSH = true })
	r.waitText("*ssh 10.0.0.5→:22 excluded")
}

func TestPollsWithoutUpdates(t *testing.T) {
	feed := newFakeFeed(nil)
	r := start(t, 100, 30, feed, func(o *Options) { o.Updates = nil; o.Refresh = 10 * time.Millisecond })
	r.waitText("0 ports")
	feed.publish(fixture())
	r.waitText("6 ports", "443")
}

// crashScreen records Fini.
type crashScreen struct {
	tcell.SimulationScreen
	finied chan struct{}
}

func (c *crashScreen) Fini() { close(c.finied); c.SimulationScreen.Fini() }

func TestGuardRestoresBeforePrinting(t *testing.T) {
	var out bytes.Buffer
	scr := &crashScreen{SimulationScreen: tcell.NewSimulationScreen("UTF-8"), finied: make(chan struct{})}
	if err := scr.Init(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan int, 1)
	g := &Guard{stderr: &out, exit: func(c int) {
		select {
		case <-scr.finied:
		default:
			t.Error("exit before the screen was restored")
		}
		exited <- c
	}}
	g.attach(scr)
	g.Go(func() { panic("boom") })
	select {
	case code := <-exited:
		if code != 2 {
			t.Errorf("exit code %d, want 2", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the guard did not exit")
	}
	if s := out.String(); !strings.HasPrefix(s, "panic: boom") || !strings.Contains(s, "goroutine") {
		t.Errorf("output %q", s)
	}
	g.Restore() // a second restore is harmless
}

func TestGuardWithoutPanic(t *testing.T) {
	g := &Guard{exit: func(int) { t.Error("exit without a panic") }}
	ran := false
	func() {
		defer g.Recover()
		ran = true
	}()
	if !ran {
		t.Fatal("fn did not run")
	}
}

func TestHelpFits80x24(t *testing.T) {
	lines := strings.Split(strings.TrimRight(helpText(theme{}), "\n"), "\n")
	if len(lines) > MinHeight {
		t.Errorf("help has %d lines, more than %d", len(lines), MinHeight)
	}
	for _, l := range lines {
		if n := len([]rune(strings.NewReplacer("[::b]", "", "[::-]", "").Replace(l))); n > MinWidth {
			t.Errorf("help line of %d cells: %q", n, l)
		}
	}
}

func TestListeningOnly(t *testing.T) {
	r := start(t, 120, 40, newFakeFeed(fixture()), nil)
	s := r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
	if !strings.Contains(s, "listen") {
		t.Errorf("listening rows not marked:\n%s", s)
	}
	r.scr.runes("l")
	r.waitOrder("80/tcp", "22/tcp", "8080/tcp", "9000/udp")
	r.waitText("listening only")
	r.scr.runes("l")
	r.waitOrder("443/tcp", "80/tcp", "22/tcp", "53/udp", "8080/tcp", "9000/udp")
}

// TestTableKeptWhenUnchanged checks that a refresh that changes nothing in
// the table, only the header's clock, does not make tview draw the table
// again, and that the kept table is the same on the screen; and that a
// refresh that changes a row, or a key that moves the selection, does.
func TestTableKeptWhenUnchanged(t *testing.T) {
	var draws atomic.Int64
	var now atomic.Int64
	now.Store(fixedNow.UnixNano())
	feed := newFakeFeed(fixture())
	r := start(t, 120, 40, feed, func(o *Options) {
		o.Now = func() time.Time { return time.Unix(0, now.Load()).UTC() }
		o.onTableDraw = func() { draws.Add(1) }
	})
	before := r.waitText("12:34:56", "1.9 MiB/s")
	drawn := draws.Load()
	if drawn == 0 {
		t.Fatal("the table was never drawn")
	}

	now.Add(int64(time.Second))
	same := fixture()
	same.Seq++
	feed.publish(same)
	after := r.waitText("12:34:57")
	if d := draws.Load() - drawn; d != 0 {
		t.Errorf("tview drew the unchanged table %d more times", d)
	}
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	for y := 2; y < len(b) && y < len(a); y++ { // below the header
		if b[y] != a[y] {
			t.Errorf("line %d changed:\n%q\n%q", y, b[y], a[y])
		}
	}

	changed := fixture()
	changed.Ports[1].Delta.RxBytes = 5_000_000 // 443: 4.8 MiB/s
	feed.publish(changed)
	r.waitText("4.8 MiB/s")
	if draws.Load() == drawn {
		t.Error("a changed row was shown without tview drawing the table")
	}
	drawn = draws.Load()
	r.scr.key(tcell.KeyDown)
	r.waitFor("80 selected", func(string) bool { return r.selectedRow() == "80" })
	if draws.Load() == drawn {
		t.Error("a moved selection was shown without tview drawing the table")
	}
}
