//go:build linux

package procs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// startKey returns the start time of pid in clock ticks since boot (field
// 22 of /proc/PID/stat): with the pid it names one process for good.
func startKey(_ context.Context, root string, pid int32) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(int(pid)), "stat"))
	if err != nil {
		return 0, err
	}
	return parseStartTime(b)
}

// parseStartTime extracts the start time from the contents of
// /proc/PID/stat. The command name in parentheses may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStartTime(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return 0, fmt.Errorf("malformed stat: %d fields", len(f)+2)
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed stat: start time %q", f[19])
	}
	return v, nil
}

// netnsOf returns the network namespace link of /proc/<who>/ns/net, such as
// "net:[4026531840]", or "" when it cannot be read.
func netnsOf(root, who string) string {
	s, err := os.Readlink(filepath.Join(root, who, "ns", "net"))
	if err != nil {
		return ""
	}
	return s
}

// namespaceOf names the container or network namespace of pid when it is
// not ours: "docker:0123456789ab" when its cgroup names a container,
// "netns:4026532281" when only its network namespace differs, else "".
func namespaceOf(root string, pid int32, selfNS string) string {
	dir := filepath.Join(root, strconv.Itoa(int(pid)))
	if f, err := os.Open(filepath.Join(dir, "cgroup")); err == nil {
		c := containerOf(f)
		f.Close()
		if c != "" {
			return c
		}
	}
	ns := netnsOf(root, strconv.Itoa(int(pid)))
	if ns == "" || selfNS == "" || ns == selfNS {
		return ""
	}
	return nsName(ns)
}

// containerRuntimes are the cgroup path markers of container runtimes,
// most specific first, with the name shown for each.
var containerRuntimes = []struct{ marker, name string }{
	{"kubepods", "kubepods"},
	{"libpod", "podman"},
	{"podman", "podman"},
	{"docker", "docker"},
	{"crio", "crio"},
	{"containerd", "containerd"},
}

// containerOf reads a /proc/PID/cgroup file and returns "runtime:shortid"
// when a line names a container (a runtime marker and a 64-hex-digit id),
// else "".
func containerOf(r io.Reader) string {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		for _, rt := range containerRuntimes {
			if !strings.Contains(line, rt.marker) {
				continue
			}
			if id := hexID(line); id != "" {
				return rt.name + ":" + id[:12]
			}
		}
	}
	return ""
}

// hexID returns the last run of exactly 64 hex digits in s, or "".
func hexID(s string) string {
	id := ""
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isHex(s[i]) {
			run++
			continue
		}
		if run == 64 {
			id = s[i-64 : i]
		}
		run = 0
	}
	return id
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
}

// privileged reports whether this process may read other processes'
// descriptors: euid 0 or CAP_SYS_PTRACE in its effective set.
func privileged() bool {
	if os.Geteuid() == 0 {
		return true
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	return hasCapSysPtrace(b)
}

// hasCapSysPtrace reports whether the CapEff line of a /proc/PID/status
// has CAP_SYS_PTRACE (bit 19).
func hasCapSysPtrace(status []byte) bool {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<19) != 0
		}
	}
	return false
}
