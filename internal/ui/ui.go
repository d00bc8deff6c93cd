// Package ui is porttop's interactive dashboard: a tview screen with the
// interfaces' counters in a header, a sortable and filterable table of
// service ports with sparklines, a detail view per port (its connections,
// peers, processes and history), an interfaces panel and a help screen.
//
// ui reads the engine only through the Feed interface and a channel that
// says a new snapshot was published, and draws on any tcell.Screen, so the
// whole dashboard runs in tests on tcell's SimulationScreen. Rows are
// prepared off the UI goroutine from immutable snapshots (numbers formatted
// by package render) and swapped in with QueueUpdateDraw; the table reads
// them through a tview.TableContent, so only visible rows are drawn.
//
// ui is the only package that imports tview and tcell.
package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/portset"
	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/ring"
	"github.com/porttop/porttop/internal/snapshot"
)

// MinWidth and MinHeight are the smallest terminal the dashboard draws in;
// below it, it says "terminal too small".
const (
	MinWidth  = 80
	MinHeight = 24
)

// Feed is what the dashboard reads from the engine. Every method must be
// safe to call from any goroutine; snapshots are never modified once
// published.
type Feed interface {
	// Latest returns the newest published snapshot, nil before the first.
	Latest() *snapshot.Snapshot
	// Rate returns row k's rx and tx bytes/s averaged over window.
	Rate(k key.Key, window time.Duration) (rx, tx float64)
	// History returns up to n of row k's last per-tick samples, oldest first.
	History(k key.Key, n int) []ring.Sample
	// IfaceHistory returns up to n of an interface's last per-tick samples,
	// oldest first.
	IfaceHistory(name string, n int) []ring.Sample
}

// Options configure the dashboard. The zero value works with a Feed alone:
// 1 s refresh, sort by rate, bytes, colour unless NO_COLOR is set, the real
// terminal.
type Options struct {
	// Refresh is the engine's tick, shown in the header. When Updates is
	// nil the dashboard polls Feed.Latest at this interval (default 1 s).
	Refresh time.Duration
	// Updates receives a value after each snapshot is published; the
	// engine should send without blocking on a channel with a buffer of 1.
	Updates <-chan struct{}

	// Sort and Reverse are the initial order (-s); Ports keeps only these
	// ports (-p); Bits starts with rates in bits per second.
	Sort    render.SortKey
	Reverse bool
	Ports   portset.Set
	Bits    bool
	// Window is the initial rate window: 2 s, 10 s or 40 s (default 2 s).
	Window time.Duration

	// NoColor draws without colour (--no-color); NO_COLOR in the
	// environment does the same.
	NoColor bool
	// Hostname is shown in the header.
	Hostname string
	// Now is the clock shown in the header (default time.Now).
	Now func() time.Time

	// SSHConnection is the value of SSH_CONNECTION, if any: the session is
	// marked in its row and in the row's detail view.
	SSHConnection string
	// ExcludeOwnSSH says the engine leaves that session's bytes out (with
	// a capture filter); the dashboard shows which is the case.
	ExcludeOwnSSH bool

	// Screen, when set, is drawn on instead of the terminal (tests use
	// tcell's SimulationScreen). Run initialises and finalizes it.
	Screen tcell.Screen
	// Guard restores the terminal when any goroutine panics; Run attaches
	// its screen to it. Nil: Run uses a guard of its own for its goroutines.
	Guard *Guard

	// signals replaces the process's SIGTERM/SIGHUP/SIGINT in tests.
	signals <-chan os.Signal
	// stdoutIsTerminal replaces the check of os.Stdout in tests.
	stdoutIsTerminal func() bool
	// onFrame is called by the builder after each frame is drawn (tests).
	onFrame func()
	// onTableDraw is called when tview draws the port table, rather than
	// the table's last drawing being kept (tests).
	onTableDraw func()
}

// SignalError is returned by Run when SIGTERM, SIGHUP or SIGINT ended the
// dashboard (the terminal is restored by then).
type SignalError struct {
	Signal os.Signal
}

// Error says which signal stopped the dashboard.
func (e *SignalError) Error() string { return "stopped by signal: " + e.Signal.String() }

// ErrNoTerminal is returned (wrapped) by Run when the dashboard cannot run
// on this output; its message tells the user to use batch output.
var ErrNoTerminal = errors.New("the dashboard needs a terminal")

// config is Options resolved once at start.
type config struct {
	refresh     time.Duration
	window      time.Duration
	host        string
	now         func() time.Time
	color       bool
	ssh         sshConn
	excludeSSH  bool
	ports       portset.Set
	onFrame     func()
	onTableDraw func()
}

func resolve(o *Options) *config {
	c := &config{
		refresh:     o.Refresh,
		window:      o.Window,
		host:        o.Hostname,
		now:         o.Now,
		color:       !o.NoColor && os.Getenv("NO_COLOR") == "",
		ssh:         parseSSHConnection(o.SSHConnection),
		excludeSSH:  o.ExcludeOwnSSH,
		ports:       o.Ports,
		onFrame:     o.onFrame,
		onTableDraw: o.onTableDraw,
	}
	if c.refresh <= 0 {
		c.refresh = time.Second
	}
	if c.window <= 0 {
		c.window = windows[0]
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.host == "" {
		c.host, _ = os.Hostname()
	}
	return c
}

// Run shows the dashboard over feed until the user quits (q, Ctrl-C), ctx
// is cancelled, or SIGTERM, SIGHUP or SIGINT arrives (then it returns a
// *SignalError). The terminal is restored before Run returns. When stdout
// is not a terminal or TERM is unusable, Run returns an error wrapping
// ErrNoTerminal whose message suggests -b.
func Run(ctx context.Context, opts Options, feed Feed) error {
	if opts.Screen == nil {
		isTerm := opts.stdoutIsTerminal
		if isTerm == nil {
			isTerm = stdoutIsTerminal
		}
		if !isTerm() {
			return fmt.Errorf("%w, and stdout is not one (use -b for batch output)", ErrNoTerminal)
		}
		if t := os.Getenv("TERM"); t == "" || t == "dumb" {
			return fmt.Errorf("%w: TERM=%q cannot draw it (use -b for batch output)", ErrNoTerminal, t)
		}
	}
	cfg := resolve(&opts)
	guard := opts.Guard
	if guard == nil {
		guard = NewGuard()
	}
	sigs := opts.signals
	if sigs == nil && opts.Screen == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
		defer signal.Stop(ch)
		sigs = ch
	}

	screen := opts.Screen
	if screen == nil {
		s, err := tcell.NewScreen()
		if err != nil {
			return fmt.Errorf("%w: %v (use -b for batch output)", ErrNoTerminal, err)
		}
		screen = s
	}
	ds := newDiffScreen(screen)
	st := viewState{sort: opts.Sort, reverse: opts.Reverse, bits: opts.Bits, window: cfg.window}
	d := newDashboard(cfg, feed, guard, st, opts.Updates)
	d.app.SetScreen(ds) // initialises it
	if ds.initErr != nil {
		return fmt.Errorf("%w: %v (use -b for batch output)", ErrNoTerminal, ds.initErr)
	}

	watchDone := make(chan struct{})
	defer close(watchDone)
	go func() {
		defer guard.Recover()
		select {
		case <-ctx.Done():
			d.quit(nil)
		case s := <-sigs:
			d.quit(&SignalError{Signal: s})
		case <-watchDone:
		}
	}()

	err := d.app.Run()
	close(d.loopDone)
	guard.attach(nil)
	d.stopBuilder()
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return d.quitErr
}

// stdoutIsTerminal reports whether os.Stdout is a character device.
func stdoutIsTerminal() bool {
	fi, err := os.Stdout.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// helpText is the help screen. It fits 80×24 (a test checks).
func helpText(th theme) string {
	keys := [][2]string{
		{"↑ ↓ j k PgUp PgDn Home End", "move; the selection stays on its port"},
		{"< >   r", "sort by the column left / right; reverse"},
		{"click a column header", "sort by it (the mouse is for this only)"},
		{"t", "sort rate columns by totals since start ↔ rates"},
		{"/", "filter as you type; Enter keeps it, Esc clears it:"},
		{"", "443 8000-8100 tcp udp local remote, service or"},
		{"", "process names; kinds AND-ed: tcp 8000-9000 java"},
		{"space", "pause the screen (counting goes on)"},
		{"u", "bytes/s (KiB/s: 1024 B/s) ↔ bits/s (Mb/s: 10⁶ b/s)"},
		{"l", "listening ports only (SIDE listen)"},
		{"1 2 3", "rate window 2 s / 10 s / 40 s"},
		{"Enter", "port detail: connections, peers, history, processes"},
		{"n", "interfaces panel with per-NIC history"},
		{"Esc", "back to the table"},
		{"q Ctrl-C", "quit"},
	}
	var b strings.Builder
	b.WriteString(th.b("porttop — keys") + "                              " + th.c("gray", "Esc, ? or F1: back") + "\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-26s %s\n", k[0], k[1])
	}
	b.WriteString("\n" + th.b("How bytes are counted") + "\n")
	b.WriteString("  Frame length on the wire, link-layer header included (pcap's original\n" +
		"  length, tshark's frame.len); tools counting IP or TCP payload show less.\n" +
		"  rx is toward this host, tx from it (on loopback: toward the service port).\n" +
		"  Each packet counts once, under its service port; SIDE local = served here.\n" +
		"  Rates: over the rate window; PKT/s: last refresh; HISTORY: rx+tx per\n" +
		"  refresh (sorting by it sorts by rate). Coverage: captured / NIC bytes.\n")
	return b.String()
}
