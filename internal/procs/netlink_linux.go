//go:build linux

package procs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/porttop/porttop/internal/key"
)

// Listing sockets through NETLINK_SOCK_DIAG (inet_diag) instead of reading
// /proc/net/{tcp,tcp6,udp,udp6}: the kernel then walks each hash table once
// per dump, where seq_file restarts its walk on every read call. It sees the
// sockets of the namespace the netlink socket was opened in, which is ours,
// so it stands in for /proc/net only when root is the real /proc.
//
// Message layouts (linux/netlink.h, linux/inet_diag.h), all fields in host
// byte order except ports and addresses, which are big-endian:
//
//	nlmsghdr (16):       len u32 | type u16 | flags u16 | seq u32 | pid u32
//	inet_diag_req_v2 (56): family u8 | protocol u8 | ext u8 | pad u8 |
//	                     states u32 | inet_diag_sockid
//	inet_diag_sockid (48): sport be16 | dport be16 | src [16]u8 | dst [16]u8 |
//	                     if u32 | cookie [2]u32
//	inet_diag_msg (72):  family u8 | state u8 | timer u8 | retrans u8 |
//	                     inet_diag_sockid | expires u32 | rqueue u32 |
//	                     wqueue u32 | uid u32 | inode u32
const (
	nlmsgHdrLen     = unix.NLMSG_HDRLEN
	diagReqLen      = 56
	diagMsgLen      = 72
	diagAllStates   = 0xffffffff
	diagRecvBufSize = 32 << 10 // the kernel sizes its dump chunks to the reader's buffer, up to 32 KiB

	// Offsets into inet_diag_msg.
	diagOffState = 1
	diagOffSport = 4
	diagOffDport = 6
	diagOffSrc   = 8
	diagOffDst   = 24
	diagOffUID   = 64
	diagOffInode = 68
)

// diagDumps are the dumps that make up the socket table, in the order of
// netFiles.
var diagDumps = []struct {
	family   uint8
	protocol uint8
	proto    key.Proto
}{
	{unix.AF_INET, unix.IPPROTO_TCP, key.TCP},
	{unix.AF_INET6, unix.IPPROTO_TCP, key.TCP},
	{unix.AF_INET, unix.IPPROTO_UDP, key.UDP},
	{unix.AF_INET6, unix.IPPROTO_UDP, key.UDP},
}

// errDiagTruncated reports a netlink message cut short by the buffer.
var errDiagTruncated = errors.New("netlink message truncated")

// readDiag appends the TCP and UDP sockets of this network namespace to
// socks, listed through NETLINK_SOCK_DIAG, with the same fields
// parseNetFile reads from /proc/net: every socket in every state, or with
// tcpListenOnly only the listening TCP sockets (and still every UDP one),
// which spares the kernel its walk of the whole established-connection
// hash table (most of a listing's cost on an idle host). It fails where the
// kernel lacks inet_diag, tcp_diag or udp_diag, except that a missing IPv6
// family is skipped as /proc's missing tcp6 and udp6 tables are.
func readDiag(tcpListenOnly bool, socks []Socket) ([]Socket, error) {
	fd, err := openDiag()
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return dumpDiag(fd, tcpListenOnly, socks)
}

// readDiagIn is readDiag for the network namespace that nsPath
// (/proc/PID/ns/net) names, through a netlink socket opened inside it (see
// openDiagIn). With tcpListenOnly, the kernel walks only its listening
// hash for TCP, where /proc/PID/net/tcp walks every bucket of the
// established-connection hash table, which all namespaces share (some
// milliseconds on a large host).
func readDiagIn(nsPath string, tcpListenOnly bool, socks []Socket) ([]Socket, error) {
	fd, err := openDiagIn(nsPath)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return dumpDiag(fd, tcpListenOnly, socks)
}

// openDiag opens a NETLINK_SOCK_DIAG socket in this thread's network
// namespace.
func openDiag() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return -1, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("netlink bind: %w", err)
	}
	return fd, nil
}

// openDiagIn opens a NETLINK_SOCK_DIAG socket in the network namespace
// that nsPath names. A socket stays in the namespace it was made in, so a
// goroutine locked to its thread enters the namespace (setns, which needs
// CAP_SYS_ADMIN), makes the socket and goes back; should going back fail,
// the goroutine ends still locked, and the runtime ends that thread
// instead of reusing it.
func openDiagIn(nsPath string) (int, error) {
	ns, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(ns)
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{-1, err}
			return
		}
		defer unix.Close(self)
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{-1, fmt.Errorf("setns %s: %w", nsPath, err)}
			return
		}
		fd, err := openDiag()
		if berr := unix.Setns(self, unix.CLONE_NEWNET); berr != nil {
			if err == nil {
				unix.Close(fd)
			}
			done <- result{-1, fmt.Errorf("setns back from %s: %w", nsPath, berr)}
			return // still locked: the thread ends with this goroutine
		}
		runtime.UnlockOSThread()
		done <- result{fd, err}
	}()
	r := <-done
	return r.fd, r.err
}

// dumpDiag lists through the netlink socket fd as readDiag describes.
func dumpDiag(fd int, tcpListenOnly bool, socks []Socket) ([]Socket, error) {
	start := len(socks)
	buf := make([]byte, diagRecvBufSize)
	var req [nlmsgHdrLen + diagReqLen]byte
	add := func(s Socket) { socks = append(socks, s) }
	for i, d := range diagDumps {
		seq := uint32(i + 1)
		states := uint32(diagAllStates)
		if tcpListenOnly && d.proto == key.TCP {
			states = 1 << tcpListen
		}
		putDiagRequest(req[:], seq, d.family, d.protocol, states)
		if err := unix.Sendto(fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return nil, fmt.Errorf("netlink send: %w", err)
		}
		for done := false; !done; {
			n, _, flags, _, err := unix.Recvmsg(fd, buf, nil, 0)
			if err != nil {
				if err == unix.EINTR {
					continue
				}
				return nil, fmt.Errorf("netlink receive: %w", err)
			}
			if flags&unix.MSG_TRUNC != 0 {
				return nil, fmt.Errorf("netlink receive: %w (buffer %d bytes)", errDiagTruncated, len(buf))
			}
			done, err = parseDiagDump(buf[:n], seq, d.proto, add)
			if err != nil {
				if d.family == unix.AF_INET6 && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EAFNOSUPPORT)) {
					break // no IPv6
				}
				return nil, fmt.Errorf("sock_diag family %d protocol %d: %w", d.family, d.protocol, err)
			}
		}
	}
	fillRequestUIDs(socks[start:])
	return socks, nil
}

// fillRequestUIDs gives each half-open TCP connection (SYN_RECV, no inode:
// a request socket) in socks the uid of the listener it arrived on, as
// /proc/net/tcp shows it; inet_diag reports 0. The listener is one of socks
// on the same port, bound to the same address, else to the wildcard one.
func fillRequestUIDs(socks []Socket) {
	var listeners map[uint16][]int // TCP listeners' indexes by port, made on first need
	for i := range socks {
		r := &socks[i]
		if r.Proto != key.TCP || r.Inode != 0 || r.State != tcpStates[tcpSynRecv] {
			continue
		}
		if listeners == nil {
			listeners = make(map[uint16][]int)
			for j := range socks {
				if l := &socks[j]; l.Proto == key.TCP && l.Listening {
					listeners[l.Local.Port()] = append(listeners[l.Local.Port()], j)
				}
			}
		}
		uid := int32(-1)
		for _, j := range listeners[r.Local.Port()] {
			a := socks[j].Local.Addr()
			if a == r.Local.Addr() {
				uid = socks[j].UID
				break
			}
			if uid == -1 && a.IsUnspecified() {
				uid = socks[j].UID
			}
		}
		if uid != -1 {
			r.UID = uid
		}
	}
}

// putDiagRequest writes into b (nlmsgHdrLen+diagReqLen bytes) a dump
// request for the sockets of family and protocol in the states whose bits
// (1 << TCP state number) are set.
func putDiagRequest(b []byte, seq uint32, family, protocol uint8, states uint32) {
	clear(b)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(nlmsgHdrLen+diagReqLen))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:], seq)
	r := b[nlmsgHdrLen:]
	r[0] = family
	r[1] = protocol
	ne.PutUint32(r[4:], states)
}

// parseDiagDump parses b, one datagram of the reply to the SOCK_DIAG_BY_FAMILY
// dump request numbered seq, and calls fn for each socket, of protocol
// proto, that it holds. done is true once the dump's NLMSG_DONE has been
// seen; a dump spans datagrams until then. Messages of other sequence
// numbers (left over from an abandoned dump) are skipped. An NLMSG_ERROR,
// or an NLMSG_DONE carrying an error, returns that error as a unix.Errno;
// malformed bytes return an error. It never panics. PID is left 0.
func parseDiagDump(b []byte, seq uint32, proto key.Proto, fn func(Socket)) (done bool, err error) {
	ne := binary.NativeEndian
	for off := 0; off < len(b); {
		m := b[off:]
		if len(m) < nlmsgHdrLen {
			return false, fmt.Errorf("offset %d: %w: %d bytes left for a %d-byte header", off, errDiagTruncated, len(m), nlmsgHdrLen)
		}
		mlen := int(ne.Uint32(m[0:]))
		if mlen < nlmsgHdrLen || mlen > len(m) {
			return false, fmt.Errorf("offset %d: %w: length %d, %d bytes left", off, errDiagTruncated, mlen, len(m))
		}
		typ := ne.Uint16(m[4:])
		mseq := ne.Uint32(m[8:])
		payload := m[nlmsgHdrLen:mlen]
		off += min(nlmsgAlign(mlen), len(m))
		if mseq != seq {
			continue
		}
		switch typ {
		case unix.NLMSG_DONE:
			// The payload, when present, is the dump's status.
			if len(payload) >= 4 {
				if e := int32(ne.Uint32(payload)); e < 0 {
					return true, unix.Errno(-e)
				}
			}
			return true, nil
		case unix.NLMSG_ERROR:
			if len(payload) < 4 {
				return false, fmt.Errorf("offset %d: %w: netlink error without a code", off, errDiagTruncated)
			}
			e := int32(ne.Uint32(payload))
			if e == 0 {
				continue // an acknowledgement
			}
			if e < 0 {
				e = -e
			}
			return true, unix.Errno(e)
		case unix.SOCK_DIAG_BY_FAMILY:
			s, err := parseDiagMsg(payload, proto)
			if err != nil {
				return false, fmt.Errorf("offset %d: %w", off, err)
			}
			fn(s)
		default:
			// NLMSG_NOOP and anything unexpected carry no socket.
		}
	}
	return false, nil
}

// parseDiagMsg parses one inet_diag_msg into a Socket as parseNetFile would
// have read it from /proc/net.
func parseDiagMsg(p []byte, proto key.Proto) (Socket, error) {
	if len(p) < diagMsgLen {
		return Socket{}, fmt.Errorf("%w: inet_diag_msg of %d bytes, want %d", errDiagTruncated, len(p), diagMsgLen)
	}
	var local, remote netip.Addr
	switch p[0] {
	case unix.AF_INET:
		local = netip.AddrFrom4([4]byte(p[diagOffSrc : diagOffSrc+4]))
		remote = netip.AddrFrom4([4]byte(p[diagOffDst : diagOffDst+4]))
	case unix.AF_INET6:
		local = netip.AddrFrom16([16]byte(p[diagOffSrc : diagOffSrc+16])).Unmap()
		remote = netip.AddrFrom16([16]byte(p[diagOffDst : diagOffDst+16])).Unmap()
	default:
		return Socket{}, fmt.Errorf("inet_diag_msg of family %d", p[0])
	}
	ne := binary.NativeEndian
	return newSocket(proto,
		netip.AddrPortFrom(local, binary.BigEndian.Uint16(p[diagOffSport:])),
		netip.AddrPortFrom(remote, binary.BigEndian.Uint16(p[diagOffDport:])),
		p[diagOffState],
		int32(ne.Uint32(p[diagOffUID:])),
		uint64(ne.Uint32(p[diagOffInode:])),
	), nil
}

// nlmsgAlign rounds n up to netlink's 4-byte message alignment.
func nlmsgAlign(n int) int { return (n + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1) }
