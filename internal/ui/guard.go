package ui

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"github.com/gdamore/tcell/v2"
)

// Guard restores the terminal before a panic in any goroutine is printed,
// so a crash never leaves a half-drawn screen in raw mode behind. Create
// one with NewGuard, pass it to Run in Options.Guard, and start every other
// goroutine of the program with Guard.Go (or begin it with
// `defer g.Recover()`).
type Guard struct {
	mu     sync.Mutex
	screen tcell.Screen
	stderr io.Writer
	exit   func(int)
}

// NewGuard returns a Guard that prints panics to stderr and exits with
// status 2, as an unrecovered panic does.
func NewGuard() *Guard {
	return &Guard{stderr: os.Stderr, exit: os.Exit}
}

// Go runs fn in a new goroutine under the guard.
func (g *Guard) Go(fn func()) {
	go func() {
		defer g.Recover()
		fn()
	}()
}

// Recover, deferred directly (`defer g.Recover()`), catches a panic of the
// goroutine, restores the terminal, prints the panic and its stack, and
// exits. Without a panic it does nothing.
func (g *Guard) Recover() {
	if r := recover(); r != nil {
		g.crash(r, debug.Stack())
	}
}

func (g *Guard) crash(r any, stack []byte) {
	g.Restore()
	fmt.Fprintf(g.stderr, "panic: %v\n\n%s", r, stack)
	g.exit(2)
}

// Restore finalizes the dashboard's screen if one is active: the terminal
// leaves raw mode and the alternate screen and the mouse is released. It
// is safe to call more than once and from any goroutine.
func (g *Guard) Restore() {
	g.mu.Lock()
	s := g.screen
	g.screen = nil
	g.mu.Unlock()
	if s != nil {
		s.Fini()
	}
}

// attach records the active screen (nil when it is gone).
func (g *Guard) attach(s tcell.Screen) {
	g.mu.Lock()
	g.screen = s
	g.mu.Unlock()
}
