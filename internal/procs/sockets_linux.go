//go:build linux

package procs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/porttop/porttop/internal/key"
)

// tcpStates names the kernel's TCP states as printed in /proc/net/tcp.
var tcpStates = [...]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
	11: "CLOSING", 12: "NEW_SYN_RECV",
}

const (
	tcpSynRecv = 3
	tcpListen  = 10
)

// netFiles are the socket tables read below /proc/net.
var netFiles = []struct {
	name  string
	proto key.Proto
}{
	{"tcp", key.TCP}, {"tcp6", key.TCP}, {"udp", key.UDP}, {"udp6", key.UDP},
}

// parseNetFile parses one /proc/net/{tcp,tcp6,udp,udp6} table from r and
// calls fn for each socket. PID is left 0.
func parseNetFile(r io.Reader, proto key.Proto, fn func(Socket)) error {
	// The kernel's cost of listing sockets dominates; read size barely
	// matters (measured 4 KiB to 1 MiB at 10,000 sockets: 27-34 ms CPU).
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	line := 0
	var f [10][]byte
	for sc.Scan() {
		line++
		if line == 1 {
			continue // header
		}
		b := sc.Bytes()
		n := splitFields(b, f[:])
		if n == 0 {
			continue
		}
		if n < len(f) {
			return fmt.Errorf("line %d: %d fields, want at least %d", line, n, len(f))
		}
		local, err := parseHexAddrPort(f[1])
		if err != nil {
			return fmt.Errorf("line %d: local address: %w", line, err)
		}
		remote, err := parseHexAddrPort(f[2])
		if err != nil {
			return fmt.Errorf("line %d: remote address: %w", line, err)
		}
		st, err := strconv.ParseUint(string(f[3]), 16, 8)
		if err != nil {
			return fmt.Errorf("line %d: bad state %q", line, f[3])
		}
		uid, err := strconv.ParseInt(string(f[7]), 10, 32)
		if err != nil {
			uid = -1
		}
		inode, err := strconv.ParseUint(string(f[9]), 10, 64)
		if err != nil {
			return fmt.Errorf("line %d: bad inode %q", line, f[9])
		}
		fn(newSocket(proto, local, remote, uint8(st), int32(uid), inode))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return nil
}

// newSocket makes the Socket of a table entry, whichever way it was listed:
// st is the kernel's TCP state number, ignored for UDP.
func newSocket(proto key.Proto, local, remote netip.AddrPort, st uint8, uid int32, inode uint64) Socket {
	s := Socket{Proto: proto, Local: local, Remote: remote, UID: uid, Inode: inode}
	if proto == key.TCP {
		if int(st) < len(tcpStates) {
			s.State = tcpStates[st]
		}
		s.Listening = st == tcpListen
	} else {
		s.Listening = local.Port() != 0 && remote.Port() == 0 && remote.Addr().IsUnspecified()
	}
	return s
}

// splitFields splits b at runs of spaces into at most len(out) fields and
// returns how many it found.
func splitFields(b []byte, out [][]byte) int {
	n := 0
	for i := 0; i < len(b) && n < len(out); {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i >= len(b) {
			break
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		out[n] = b[i:j]
		n++
		i = j
	}
	return n
}

// parseHexAddrPort parses the kernel's "0100007F:1F90" form: the address as
// 32-bit words in host byte order, then the port, all in hex. IPv4-mapped
// IPv6 addresses are unmapped.
func parseHexAddrPort(b []byte) (netip.AddrPort, error) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", b)
	}
	port, err := strconv.ParseUint(string(b[i+1:]), 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port in %q", b)
	}
	h := b[:i]
	if len(h) != 8 && len(h) != 32 {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", h)
	}
	var raw [16]byte
	for w := 0; w < len(h)/8; w++ {
		v, err := strconv.ParseUint(string(h[w*8:w*8+8]), 16, 32)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("bad address %q", h)
		}
		binary.NativeEndian.PutUint32(raw[w*4:], uint32(v))
	}
	var a netip.Addr
	if len(h) == 8 {
		a = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		a = netip.AddrFrom16(raw).Unmap()
	}
	return netip.AddrPortFrom(a, uint16(port)), nil
}

// pidState is what the resolver remembers of one process.
type pidState struct {
	// fds maps descriptor names to the socket inodes they held when last
	// read. Descriptors that were not sockets are not remembered.
	fds     map[string]uint64
	scanned bool   // descriptors read at least once
	denied  bool   // descriptors unreadable for lack of privilege
	netns   string // network namespace link, "" when unreadable
}

// linuxSockets reads the socket tables under /proc/net and maps socket
// inodes to processes incrementally.
//
// Each refresh lists the pids (one directory read) and the socket tables.
// Owners found earlier are kept while their socket lives and their process
// exists. Only when sockets with unknown owners appear does it read
// descriptors, in this order, stopping as soon as every owner is found:
//  1. processes that appeared since the last refresh (all descriptors);
//  2. processes that already own sockets (only descriptors not seen
//     before, or whose remembered socket has gone);
//  3. every other process.
//
// A socket still unowned after that is given up on (its owner is invisible:
// no privilege, a kernel socket, another pid namespace) until it goes away,
// so it costs one scan, not one per refresh. A full refresh re-reads every
// descriptor, healing a mapping made stale by descriptor reuse.
type linuxSockets struct {
	owner   map[uint64]int32 // socket inode → owning pid
	pids    map[int32]*pidState
	givenUp map[uint64]struct{}

	// foreign caches the other namespaces' listening sockets between full
	// refreshes: reading them costs as much as the host's own table per
	// namespace, and containers' listeners change rarely.
	foreign     []Socket
	foreignRead bool

	// noNetlink makes the host's table come from /proc/net even when root
	// is the real /proc: set after maxNetlinkFails refreshes in a row failed
	// to list it through netlink (the kernel lacks inet_diag, or a seccomp
	// policy forbids netlink sockets), and by tests comparing the two.
	noNetlink    bool
	netlinkFails int
	// listDiag lists the sockets through netlink: readDiag, or a fake;
	// listDiagIn those of another namespace: readDiagIn, or a fake.
	listDiag   func(tcpListenOnly bool, socks []Socket) ([]Socket, error)
	listDiagIn func(nsPath string, tcpListenOnly bool, socks []Socket) ([]Socket, error)
	// noSetns is set once entering another network namespace was refused
	// for lack of privilege; their listeners then come from /proc.
	noSetns bool
	lastLen int // sockets in the host's table last time

	// tcpConns are the host's TCP sockets other than listeners as last
	// listed, carried into refreshes that list only TCP listeners.
	tcpConns     []Socket
	tcpConnsRead bool

	// spare is a slice no table holds, handed back by recycle, which the
	// next listing fills instead of allocating.
	spare []Socket

	// pidList is the last list of processes, sincePids the refreshes
	// since it was read (see pidsEvery).
	pidList   []int32
	sincePids int

	// countSockets reads the kernel's socket counts (sockstat, or a fake);
	// listed holds them as read just before the last listing of the
	// host's table, listedOK whether they were (see skip).
	countSockets func() (sockCounts, bool)
	listed       sockCounts
	listedOK     bool
	// counted holds the counts skip read when it then found a change, so
	// that the listing right after it does not read them again.
	counted   sockCounts
	countedOK bool
	// ownerPids are the distinct owners of the last listing's sockets,
	// which skip checks with processExists (or a fake).
	ownerPids     []int32
	processExists func(pid int32) bool

	// sinceForeign counts the refreshes since the other namespaces'
	// listeners were read (see foreignEvery).
	sinceForeign int
}

// foreignEvery is how many refreshes may keep the other namespaces'
// listeners before they are read again: a container's new listener shows
// within that many refreshes.
const foreignEvery = 30

// skip reports whether this refresh may keep the last listing: the host's
// table was last listed from the real /proc, with its socket counts read
// just before; the kernel's counts are still the same; every process that
// owned a socket still exists; and the other namespaces' listeners are
// not due (foreignEvery). A skipped refresh counts toward pidsEvery and
// foreignEvery as one that listed. When an owner has gone, the next
// listing lists the processes too, so that the owner is dropped.
func (l *linuxSockets) skip(root string) bool {
	if !l.listedOK || filepath.Clean(root) != "/proc" || l.sinceForeign >= foreignEvery {
		return false
	}
	c, ok := l.countSockets()
	if !ok || c != l.listed {
		l.counted, l.countedOK = c, ok
		return false
	}
	for _, pid := range l.ownerPids {
		if !l.processExists(pid) {
			l.sincePids = pidsEvery
			l.counted, l.countedOK = c, ok
			return false
		}
	}
	l.sincePids++
	l.sinceForeign++
	return true
}

// processExists reports whether pid names a process (or a zombie): kill
// with signal 0 fails with ESRCH only for a pid no process has.
func processExists(pid int32) bool {
	return unix.Kill(int(pid), 0) != unix.ESRCH
}

// sockstatCounter returns a function reading the counts of our network
// namespace's sockets through /proc/net/sockstat, opened on first use; it
// reports false for good when the files cannot be opened.
func sockstatCounter() func() (sockCounts, bool) {
	var st *sockstat
	failed := false
	return func() (sockCounts, bool) {
		if st == nil {
			if failed {
				return sockCounts{}, false
			}
			var err error
			if st, err = openSockstat("/proc"); err != nil {
				failed = true
				return sockCounts{}, false
			}
		}
		return st.read()
	}
}

// anyUnknown reports whether a socket in socks has an inode whose owner
// is neither known nor given up on.
func (l *linuxSockets) anyUnknown(socks []Socket) bool {
	for i := range socks {
		in := socks[i].Inode
		if in == 0 {
			continue
		}
		if _, ok := l.owner[in]; ok {
			continue
		}
		if _, ok := l.givenUp[in]; ok {
			continue
		}
		return true
	}
	return false
}

func (l *linuxSockets) recycle(socks []Socket) { l.spare = socks[:0] }

// buffer returns an empty slice with room for n sockets: the spare one
// when it is large enough.
func (l *linuxSockets) buffer(n int) []Socket {
	if b := l.spare; cap(b) >= n {
		l.spare = nil
		return b[:0]
	}
	return make([]Socket, 0, n)
}

// maxNetlinkFails is how many refreshes in a row may fail to list the
// sockets through netlink (each then reads /proc/net instead) before
// netlink is given up on.
const maxNetlinkFails = 3

func newSocketReader() socketReader {
	return &linuxSockets{
		owner:      make(map[uint64]int32),
		pids:       make(map[int32]*pidState),
		givenUp:    make(map[uint64]struct{}),
		listDiag:   readDiag,
		listDiagIn: readDiagIn,

		countSockets:  sockstatCounter(),
		processExists: processExists,
	}
}

// pidsEvery is how many refreshes may reuse the last list of processes
// when every socket's owner is already known: the list is needed to find
// new sockets' owners, and otherwise only to notice owners that exited
// while another process kept their socket.
const pidsEvery = 5

func (l *linuxSockets) read(ctx context.Context, root string, full, tcpConns bool) ([]Socket, RefreshStats, error) {
	var stats RefreshStats
	socks, listed, err := l.readHostTable(ctx, root, tcpConns)
	if err != nil {
		return nil, stats, err
	}
	stats.Connections = listed
	pidList := l.pidList
	if full || pidList == nil || l.sincePids >= pidsEvery || l.anyUnknown(socks) || l.anyUnknown(l.foreign) {
		if pidList, err = l.updatePids(root); err != nil {
			return nil, stats, err
		}
		l.pidList, l.sincePids = pidList, 0
	} else {
		l.sincePids++
	}
	if full || !l.foreignRead || l.sinceForeign >= foreignEvery {
		l.foreign = l.foreignListeners(ctx, root, pidList, nil, socks)
		l.foreignRead, l.sinceForeign = true, 0
	} else {
		l.sinceForeign++
	}
	socks = append(socks, l.foreign...)

	if err := l.resolve(ctx, root, pidList, socks, full, &stats); err != nil {
		return nil, stats, err
	}
	l.ownerPids = l.ownerPids[:0]
	for i := range socks {
		if in := socks[i].Inode; in != 0 {
			socks[i].PID = l.owner[in]
			if socks[i].PID == 0 {
				stats.Unresolved++
			} else {
				l.ownerPids = append(l.ownerPids, socks[i].PID)
			}
		}
	}
	slices.Sort(l.ownerPids)
	l.ownerPids = slices.Compact(l.ownerPids)
	return socks, stats, nil
}

// readHostTable lists the sockets of our network namespace: through
// netlink (see readDiag) when root is the real /proc, which costs the
// kernel a tenth as much with few sockets and half with 10,000; else, or
// when netlink fails, from the tables under root/net. (A fixture or a
// host's /proc mounted elsewhere is not the namespace netlink would see.)
//
// Unless tcpConns is set, netlink lists only the TCP listeners (and every
// UDP socket) and the TCP connections of the last full listing are carried
// over; listed reports whether the connections are fresh. (/proc/net is
// read whole either way.) From the real /proc it first reads the kernel's
// socket counts, for skip.
func (l *linuxSockets) readHostTable(ctx context.Context, root string, tcpConns bool) (socks []Socket, listed bool, err error) {
	// Room for as many sockets as last time and the other namespaces'
	// listeners, so that appending rarely copies.
	hint := l.lastLen + l.lastLen/8 + len(l.foreign) + 16
	l.listedOK = false
	realProc := filepath.Clean(root) == "/proc"
	// The counts read by skip just before, or fresh ones.
	counts, countsOK := l.counted, l.countedOK && realProc
	l.countedOK = false
	if realProc && !countsOK {
		counts, countsOK = l.countSockets()
	}
	defer func() {
		if err == nil {
			l.listed, l.listedOK = counts, countsOK
		}
	}()
	if !l.noNetlink && realProc {
		listenOnly := !tcpConns && l.tcpConnsRead
		socks, err := l.listDiag(listenOnly, l.buffer(hint))
		if err == nil {
			l.netlinkFails = 0
			if listenOnly {
				socks = append(socks, l.tcpConns...)
			} else {
				l.keepTCPConns(socks)
			}
			l.lastLen = len(socks)
			return socks, !listenOnly, nil
		}
		l.netlinkFails++
		l.noNetlink = l.netlinkFails >= maxNetlinkFails
	}
	socks, err = readTables(ctx, filepath.Join(root, "net"), false, l.buffer(hint))
	if err != nil {
		return nil, false, err
	}
	l.keepTCPConns(socks)
	l.lastLen = len(socks)
	return socks, true, nil
}

// keepTCPConns remembers the TCP sockets of a full listing that are not
// listeners, for refreshes that list only the listeners.
func (l *linuxSockets) keepTCPConns(socks []Socket) {
	l.tcpConns = l.tcpConns[:0]
	for i := range socks {
		if socks[i].Proto == key.TCP && !socks[i].Listening {
			l.tcpConns = append(l.tcpConns, socks[i])
		}
	}
	l.tcpConnsRead = true
}

// readTables appends the sockets of the tables in dir (a /proc/net or
// /proc/PID/net directory) to socks; listenOnly keeps only listening ones.
// A missing tcp table is an error; the others may be missing (no IPv6).
func readTables(ctx context.Context, dir string, listenOnly bool, socks []Socket) ([]Socket, error) {
	for _, nf := range netFiles {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		path := filepath.Join(dir, nf.name)
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && nf.name != "tcp" {
				continue
			}
			return nil, err
		}
		err = parseNetFile(f, nf.proto, func(s Socket) {
			if !listenOnly || s.Listening {
				socks = append(socks, s)
			}
		})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return socks, nil
}

// foreignListeners appends to out the listening sockets of every other
// network namespace in which some process lives (containers), read through
// the lowest pid of each (see namespaceListeners), with Netns set, leaving
// out those already in socks. Namespaces that cannot be read are skipped:
// their processes may be gone or hidden from us. It runs on full refreshes
// only (see Options.FullRescanEvery).
func (l *linuxSockets) foreignListeners(ctx context.Context, root string, pidList []int32, out, socks []Socket) []Socket {
	self := netnsOf(root, "self")
	if self == "" {
		return out
	}
	first := make(map[string]int32)
	for _, pid := range pidList {
		ns := l.pids[pid].netns
		if ns == "" || ns == self {
			continue
		}
		if cur, ok := first[ns]; !ok || pid < cur {
			first[ns] = pid
		}
	}
	if len(first) == 0 {
		return out
	}
	have := make(map[uint64]bool, len(socks))
	for i := range socks {
		if socks[i].Inode != 0 {
			have[socks[i].Inode] = true
		}
	}
	for ns, pid := range first {
		more, err := l.namespaceListeners(ctx, root, pid)
		if err != nil {
			continue
		}
		for _, s := range more {
			if !s.Listening || s.Inode != 0 && have[s.Inode] {
				continue
			}
			s.Netns = nsName(ns)
			out = append(out, s)
		}
	}
	return out
}

// namespaceListeners lists the sockets of pid's network namespace, with
// at least the listening ones: through netlink inside the namespace when
// root is the real /proc and we may enter it (see readDiagIn), else from
// root/PID/net, whose TCP tables cost the kernel a walk of the whole
// established-connection hash table.
func (l *linuxSockets) namespaceListeners(ctx context.Context, root string, pid int32) ([]Socket, error) {
	dir := filepath.Join(root, strconv.Itoa(int(pid)))
	if !l.noSetns && filepath.Clean(root) == "/proc" {
		socks, err := l.listDiagIn(filepath.Join(dir, "ns", "net"), true, nil)
		if err == nil {
			return socks, nil
		}
		// Without CAP_SYS_ADMIN no namespace can be entered: stop trying.
		l.noSetns = errors.Is(err, fs.ErrPermission)
	}
	return readTables(ctx, filepath.Join(dir, "net"), true, nil)
}

// nsName turns "net:[4026532281]" into "netns:4026532281".
func nsName(link string) string {
	if in, ok := strings.CutPrefix(link, "net:["); ok {
		return "netns:" + strings.TrimSuffix(in, "]")
	}
	return "netns:" + link
}

// updatePids lists the processes, adding new ones (with their network
// namespace) and dropping those that are gone.
func (l *linuxSockets) updatePids(root string) ([]int32, error) {
	pidList, err := listPids(root)
	if err != nil {
		return nil, err
	}
	present := make(map[int32]struct{}, len(pidList))
	for _, pid := range pidList {
		present[pid] = struct{}{}
		if _, ok := l.pids[pid]; !ok {
			l.pids[pid] = &pidState{netns: netnsOf(root, strconv.Itoa(int(pid)))}
		}
	}
	for pid := range l.pids {
		if _, ok := present[pid]; !ok {
			delete(l.pids, pid)
		}
	}
	return pidList, nil
}

// resolve brings l.owner up to date for the sockets in socks.
func (l *linuxSockets) resolve(ctx context.Context, root string, pidList []int32, socks []Socket, full bool, stats *RefreshStats) error {
	live := make(map[uint64]struct{}, len(socks))
	for i := range socks {
		if socks[i].Inode != 0 {
			live[socks[i].Inode] = struct{}{}
		}
	}
	for in, pid := range l.owner {
		_, alive := live[in]
		_, exists := l.pids[pid]
		if !alive || !exists || full {
			delete(l.owner, in)
		}
	}
	for in := range l.givenUp {
		if _, alive := live[in]; !alive || full {
			delete(l.givenUp, in)
		}
	}
	unknown := make(map[uint64]struct{})
	for in := range live {
		if _, ok := l.owner[in]; ok {
			continue
		}
		if _, ok := l.givenUp[in]; ok {
			continue
		}
		unknown[in] = struct{}{}
	}
	stats.FullScan = full
	if full {
		for _, pid := range pidList {
			if err := ctx.Err(); err != nil {
				return err
			}
			st := l.pids[pid]
			st.fds, st.scanned, st.denied = nil, false, false
			if st.netns == "" {
				st.netns = netnsOf(root, strconv.Itoa(int(pid)))
			}
			l.scanPid(root, pid, st, live, unknown, stats)
		}
	} else if len(unknown) > 0 {
		// phase 1: new processes; phase 2: socket owners; phase 3: the rest.
		owners := make(map[int32]bool)
		for _, pid := range l.owner {
			owners[pid] = true
		}
		for phase := 1; phase <= 3 && len(unknown) > 0; phase++ {
			for _, pid := range pidList {
				if len(unknown) == 0 {
					break
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				st := l.pids[pid]
				if st.denied {
					continue
				}
				var want bool
				switch phase {
				case 1:
					want = !st.scanned
				case 2:
					want = st.scanned && (owners[pid] || len(st.fds) > 0)
				case 3:
					want = st.scanned && !owners[pid] && len(st.fds) == 0
				}
				if want {
					l.scanPid(root, pid, st, live, unknown, stats)
				}
			}
		}
	}
	for in := range unknown {
		l.givenUp[in] = struct{}{}
	}
	for _, st := range l.pids {
		if st.denied {
			stats.Denied++
		}
	}
	return nil
}

// scanPid reads the descriptors of pid that may hold sockets it does not
// know yet, records the sockets it finds in l.owner and removes them from
// unknown.
func (l *linuxSockets) scanPid(root string, pid int32, st *pidState, live, unknown map[uint64]struct{}, stats *RefreshStats) {
	dir := filepath.Join(root, strconv.Itoa(int(pid)), "fd")
	d, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			st.denied = true
		}
		return // gone, or not ours to read
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			st.denied = true
		}
		return
	}
	stats.PidsScanned++
	if st.fds == nil {
		st.fds = make(map[string]uint64)
	}
	seen := make(map[string]struct{}, len(st.fds))
	for _, name := range names {
		if in, ok := st.fds[name]; ok {
			if _, alive := live[in]; alive {
				seen[name] = struct{}{}
				l.own(in, pid, unknown)
				continue
			}
		}
		stats.FDsRead++
		target, err := os.Readlink(dir + "/" + name)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				st.denied = true
				return
			}
			continue // closed meanwhile
		}
		in, ok := socketInode(target)
		if !ok {
			continue
		}
		seen[name] = struct{}{}
		st.fds[name] = in
		l.own(in, pid, unknown)
	}
	for name := range st.fds {
		if _, ok := seen[name]; !ok {
			delete(st.fds, name)
		}
	}
	st.scanned = true
}

// own records pid as an owner of socket inode in; the lowest pid wins when
// several processes share a socket.
func (l *linuxSockets) own(in uint64, pid int32, unknown map[uint64]struct{}) {
	if cur, ok := l.owner[in]; !ok || pid < cur {
		l.owner[in] = pid
	}
	delete(unknown, in)
}

// socketInode parses a descriptor link target "socket:[12345]".
func socketInode(target string) (uint64, bool) {
	s, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	in, err := strconv.ParseUint(s, 10, 64)
	return in, err == nil
}

// listPids lists the numeric entries of root.
func listPids(root string) ([]int32, error) {
	d, err := os.Open(root)
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	pids := make([]int32, 0, len(names))
	for _, n := range names {
		if p, err := strconv.ParseInt(n, 10, 32); err == nil && p > 0 {
			pids = append(pids, int32(p))
		}
	}
	return pids, nil
}
