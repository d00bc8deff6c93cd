package main

import (
	"runtime"
	"testing"
)

func TestSetProcs(t *testing.T) {
	old := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(old)
	runtime.GOMAXPROCS(2)
	setProcs("3", 1) // the user's GOMAXPROCS wins: nothing set
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("GOMAXPROCS changed to %d despite the user's GOMAXPROCS", got)
	}
	setProcs("", 1)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("one source: GOMAXPROCS %d, want 1", got)
	}
	setProcs("", 1000)
	if got, want := runtime.GOMAXPROCS(0), runtime.NumCPU(); got != want {
		t.Fatalf("1,000 sources: GOMAXPROCS %d, want the %d CPUs", got, want)
	}
}
