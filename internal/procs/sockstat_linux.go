//go:build linux

package procs

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// sockCounts are the kernel's counts of hashed TCP and UDP sockets in our
// network namespace (the "inuse" figures of /proc/net/sockstat and
// sockstat6), in the order TCP, UDP, TCP6, UDP6. A socket opened or closed
// between two readings changes them; one closed and another opened in
// between does not, nor does a TCP connection changing state or a UDP
// socket connecting.
type sockCounts [4]int64

// sockstat reads sockCounts through descriptors kept open, from offset 0
// each time: a few microseconds, where listing the sockets costs the
// kernel a walk of its UDP hash table (a tenth of a millisecond with a
// handful of sockets, a millisecond with a thousand).
type sockstat struct {
	v4, v6 *os.File // v6 is nil without IPv6
	buf    [1024]byte
}

// openSockstat opens root/net/sockstat and root/net/sockstat6 (the second
// may be missing: no IPv6).
func openSockstat(root string) (*sockstat, error) {
	v4, err := os.Open(root + "/net/sockstat")
	if err != nil {
		return nil, err
	}
	s := &sockstat{v4: v4}
	if v6, err := os.Open(root + "/net/sockstat6"); err == nil {
		s.v6 = v6
	}
	return s, nil
}

// read returns the counts; ok is false when a file could not be read or
// lacked a count.
func (s *sockstat) read() (c sockCounts, ok bool) {
	b, ok := s.pread(s.v4)
	if !ok || !parseSockstat(b, "TCP: ", "UDP: ", c[0:2]) {
		return c, false
	}
	if s.v6 == nil {
		return c, true
	}
	b, ok = s.pread(s.v6)
	return c, ok && parseSockstat(b, "TCP6: ", "UDP6: ", c[2:4])
}

// pread reads f from its start into s.buf; /proc's sockstat files are
// generated afresh by each read at offset 0.
func (s *sockstat) pread(f *os.File) ([]byte, bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, false
	}
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, rerr = unix.Pread(int(fd), s.buf[:], 0)
		return rerr != unix.EAGAIN
	})
	if err != nil || rerr != nil || n <= 0 || n == len(s.buf) {
		return nil, false
	}
	return s.buf[:n], true
}

// parseSockstat stores into out[0] and out[1] the "inuse" figures of the
// lines of b that begin with tcp and udp ("TCP: inuse 5 orphan 0 ...").
// It reports whether both were found.
func parseSockstat(b []byte, tcp, udp string, out []int64) bool {
	found := 0
	var f [3][]byte
	for line := range bytes.Lines(b) {
		i := -1
		switch {
		case bytes.HasPrefix(line, []byte(tcp)):
			i = 0
		case bytes.HasPrefix(line, []byte(udp)):
			i = 1
		default:
			continue
		}
		if splitFields(bytes.TrimSuffix(line, []byte("\n")), f[:]) < 3 || string(f[1]) != "inuse" {
			return false
		}
		v, err := strconv.ParseInt(string(f[2]), 10, 64)
		if err != nil || v < 0 {
			return false
		}
		out[i] = v
		found |= 1 << i
	}
	return found == 3
}
