//go:build linux

package engine

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fdTicker is a Ticker driven by a periodic timerfd that a goroutine reads
// through Go's netpoller. A time.Ticker costs an idle porttop about a
// fifth of its CPU: Go's netpoller waits for a timer in whole
// milliseconds, rounded down, so it wakes about a millisecond before each
// tick and again at it, and the runtime's monitor thread (sysmon), which
// sleeps until the next timer, polls every 20 µs while the timer is due
// but not yet run. A timerfd is a file the netpoller waits on like a
// socket: one wake-up per tick, and no Go timer for sysmon to wait for.
type fdTicker struct {
	f    *os.File
	c    chan time.Time
	done chan struct{} // closed when run has returned
}

// newFDTicker returns a ticker firing every d, or false when the kernel
// refuses a timerfd or d is not positive (a zero period would disarm it).
func newFDTicker(d time.Duration) (Ticker, bool) {
	if d <= 0 {
		return nil, false
	}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, false
	}
	period := unix.NsecToTimespec(int64(d))
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: period, Value: period}, nil); err != nil {
		unix.Close(fd)
		return nil, false
	}
	// A non-blocking descriptor makes a pollable *os.File.
	t := &fdTicker{f: os.NewFile(uintptr(fd), "timerfd"), c: make(chan time.Time, 1), done: make(chan struct{})}
	go t.run()
	return t, true
}

// run delivers a tick per expiry read, dropping ticks for a slow receiver
// as a time.Ticker does, until Stop closes the timerfd.
func (t *fdTicker) run() {
	defer close(t.done)
	var expiries [8]byte
	for {
		if _, err := t.f.Read(expiries[:]); err != nil {
			return
		}
		select {
		case t.c <- time.Now():
		default:
		}
	}
}

// C implements Ticker.
func (t *fdTicker) C() <-chan time.Time { return t.c }

// Stop implements Ticker. Like a time.Ticker's, no tick is received
// after it returns.
func (t *fdTicker) Stop() {
	t.f.Close()
	<-t.done
	select {
	case <-t.c:
	default:
	}
}
