//go:build unix

package scan

import "syscall"

// fileReserve is the number of descriptors left for everything but the
// sweep's sockets (stdio, the resolver, the Go runtime).
const fileReserve = 64

// fileBudget raises the soft open-file limit to the hard limit (the Go
// runtime already does this at start-up on most systems; doing it again is
// harmless) and returns how many sockets the sweep may hold at once.
func fileBudget() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return MaxConcurrency
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			lim = raised
		}
	}
	if lim.Cur > uint64(MaxConcurrency+fileReserve) {
		return MaxConcurrency
	}
	return max(1, int(lim.Cur)-fileReserve)
}
