//go:build linux

package engine

import (
	"testing"
	"time"
)

// TestSystemTicker checks the timerfd ticker the live engine uses on
// Linux: it ticks, in order, and Stop ends it for good.
func TestSystemTicker(t *testing.T) {
	tk := SystemClock{}.NewTicker(10 * time.Millisecond)
	if _, ok := tk.(*fdTicker); !ok {
		t.Fatalf("the system ticker is a %T, want the timerfd one on Linux", tk)
	}
	var last time.Time
	for i := range 3 {
		select {
		case now := <-tk.C():
			if !now.After(last) {
				t.Errorf("tick %d at %v, not after the last one at %v", i, now, last)
			}
			last = now
		case <-time.After(10 * time.Second):
			t.Fatalf("no tick %d in 10s with a 10ms period", i)
		}
	}
	tk.Stop()
	select {
	case <-tk.C():
		t.Error("a tick came after Stop")
	case <-time.After(100 * time.Millisecond):
	}
}
