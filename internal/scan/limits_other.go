//go:build !unix

package scan

// fileBudget returns how many sockets the sweep may hold at once; without
// an open-file limit to read, it does not lower the concurrency.
func fileBudget() int { return MaxConcurrency }
