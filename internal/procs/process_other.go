//go:build !linux

package procs

import (
	"context"
	"os"

	"github.com/shirou/gopsutil/v3/process"
)

// startKey returns the process's creation time: with the pid it names one
// process for good.
func startKey(ctx context.Context, _ string, pid int32) (uint64, error) {
	ms, err := (&process.Process{Pid: pid}).CreateTimeWithContext(ctx)
	if err != nil {
		return 0, err
	}
	return uint64(ms), nil
}

// netnsOf is not known on this system.
func netnsOf(string, string) string { return "" }

// namespaceOf is not known on this system.
func namespaceOf(string, int32, string) string { return "" }

// privileged reports whether this process runs as root.
func privileged() bool { return os.Geteuid() == 0 }
