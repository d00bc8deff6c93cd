package memlimit

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, Floor},
		{8 << 20, Floor},                 // 12+8 = 20 MiB
		{9 << 20, 9<<20 + 9<<19 + 8<<20}, // above the floor: 1.5x + 8 MiB
		{100 << 20, 158 << 20},
	} {
		if got := For(c.live); got != c.want {
			t.Errorf("For(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}

func TestRun(t *testing.T) {
	defer debug.SetMemoryLimit(math.MaxInt64)
	runtime.GC()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	Run(ctx, time.Hour, "1GiB") // the user's GOMEMLIMIT wins: nothing set
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit set despite GOMEMLIMIT: %d", got)
	}
	Run(ctx, time.Hour, "")
	if got := debug.SetMemoryLimit(-1); got != For(liveHeap()) || got < Floor {
		t.Fatalf("limit %d, want %d", got, For(liveHeap()))
	}
}

func TestSetGCPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	SetGCPercent("200") // the user's GOGC wins: nothing set
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC changed to %d despite the user's GOGC", got)
	}
	SetGCPercent("")
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Fatalf("GOGC %d, want %d", got, GCPercent)
	}
}
