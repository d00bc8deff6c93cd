package engine

import "time"

// Clock is the engine's source of wall-clock time and ticks, so tests can
// drive ticks by hand instead of sleeping.
type Clock interface {
	Now() time.Time
	NewTicker(d time.Duration) Ticker
}

// Ticker delivers ticks on C.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTicker returns a ticker that wakes the process once per tick: on
// Linux one reading a timerfd (see fdTicker), elsewhere a time.Ticker.
func (SystemClock) NewTicker(d time.Duration) Ticker {
	if t, ok := newFDTicker(d); ok {
		return t
	}
	return systemTicker{time.NewTicker(d)}
}

type systemTicker struct{ t *time.Ticker }

func (s systemTicker) C() <-chan time.Time { return s.t.C }
func (s systemTicker) Stop()               { s.t.Stop() }
