//go:build !linux

package engine

import "time"

// newFDTicker reports that there is no timerfd outside Linux.
func newFDTicker(time.Duration) (Ticker, bool) { return nil, false }
