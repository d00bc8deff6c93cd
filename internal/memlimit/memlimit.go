// Package memlimit keeps porttop's Go heap close to what it really uses.
//
// With the default GC target (twice the live heap) a porttop with ~9 MB
// live at 1,000 active ports let its heap grow to 23 MB. A fixed soft limit
// would fix that but makes the GC run continuously once the live heap
// outgrows it (10,000 ports), so the limit follows the live heap: 50% plus
// 8 MiB of headroom, never below a floor. The limit covers all the memory
// the Go runtime manages, not only the heap, so the headroom must leave
// room for a few ticks of garbage: at 4 MiB the heap goal sat on the live
// heap and the GC ran every tick (0.5-0.8% of a core at idle).
//
// The GC's own target matters too: Go sets the heap goal to the live heap
// plus GOGC% of the live heap and the global variables, and gopacket's
// globals are 5 MB, so at the default GOGC=100 a 4 MB live heap may grow
// to 13 MB. porttop allocates little per tick, so SetGCPercent lowers GOGC
// to GCPercent: 2.5 MiB less peak memory at 1,000 ports with no CPU cost
// measured (docs/PERFORMANCE.md).
package memlimit

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Floor is the smallest limit set.
const Floor = 20 << 20

// For returns the soft memory limit for a live heap of live bytes.
func For(live uint64) int64 {
	return max(int64(Floor), int64(live+live/2)+8<<20)
}

// liveHeap reads the live heap size after the last GC.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// GCPercent is porttop's GOGC when the user sets none.
const GCPercent = 50

// SetGCPercent sets GOGC to GCPercent unless the user set GOGC (the value
// of the GOGC environment variable, "" when unset).
func SetGCPercent(gogc string) {
	if gogc == "" {
		debug.SetGCPercent(GCPercent)
	}
}

// Run sets the limit now and then every interval until ctx ends. It does
// nothing when the user set GOMEMLIMIT.
func Run(ctx context.Context, interval time.Duration, gomemlimit string) {
	if gomemlimit != "" {
		return
	}
	debug.SetMemoryLimit(For(liveHeap()))
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				debug.SetMemoryLimit(For(liveHeap()))
			}
		}
	}()
}
