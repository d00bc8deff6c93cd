// Package procs reads this host's socket table and tells which process owns
// each socket: the listening inventory (proto, bind address, port, process),
// the owners of connected sockets, and the container or network namespace
// of a socket's process.
//
// The listening sockets of other network namespaces in which processes live
// (containers) are listed too, marked with their namespace.
//
// A Scanner reads the table on demand; a Watcher refreshes it off the capture
// path every few seconds and publishes each *Table through an atomic
// pointer. A published Table is never modified, so any goroutine may read
// it. Annotate puts the processes onto a snapshot's rows.
//
// On Linux the socket table is listed through NETLINK_SOCK_DIAG (inet_diag),
// or read from /proc/net/{tcp,tcp6,udp,udp6} when /proc is a fixture or
// netlink fails, and socket inodes are mapped to processes incrementally
// (see linuxSockets); on other systems gopsutil's socket table is used.
// Process names, users and command lines come from gopsutil's process
// package. procs and nic are the only packages that import gopsutil.
//
// Everything under /proc is read below the directory named by gopsutil's
// context environment (common.EnvKey with common.HostProcEnvKey), else the
// HOST_PROC environment variable, else /proc, so tests can point a Scanner
// at a fixture tree.
package procs

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gcommon "github.com/shirou/gopsutil/v3/common"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// Notes that explain an empty process on a row.
const (
	// NoteNeedsPrivilege: a socket on the row has an owner this process is
	// not allowed to see.
	NoteNeedsPrivilege = "needs root or cap_sys_ptrace"
	// NoteNotVisible: a socket on the row has no owner that can be seen even
	// with privilege (a kernel socket, or a process in another pid
	// namespace).
	NoteNotVisible = "owner not visible"
)

// Socket is one TCP or UDP socket of this host.
type Socket struct {
	Proto key.Proto
	// Local and Remote are the socket's ends. IPv4-mapped IPv6 addresses are
	// unmapped. Remote is the zero-address, zero-port value of the family
	// for listening and unconnected sockets.
	Local, Remote netip.AddrPort
	// Listening is true for a TCP socket in LISTEN state and for an
	// unconnected UDP socket bound to a port.
	Listening bool
	// State is the TCP state ("LISTEN", "ESTABLISHED", ...); "" for UDP.
	State string
	// UID is the socket's owner uid, -1 when unknown; User its name ("" when
	// unknown).
	UID  int32
	User string
	// Inode is the socket's inode (Linux); 0 for sockets no process holds
	// (TIME_WAIT) and on systems that do not report it.
	Inode uint64
	// PID is the process that holds the socket (the lowest pid when several
	// share it), 0 when unknown.
	PID int32
	// Netns names the network namespace of a socket that is not in ours
	// ("netns:4026532281"), "" for ours. Only listening sockets of other
	// namespaces are listed.
	Netns string
}

// connected reports whether s has a remote end.
func (s *Socket) connected() bool { return s.Remote.Port() != 0 }

// hidden reports whether s has an owner that could not be seen.
func (s *Socket) hidden() bool { return s.PID == 0 && s.Inode != 0 }

// RefreshStats describe what one refresh cost and did.
type RefreshStats struct {
	Duration time.Duration // wall time of the refresh
	Sockets  int           // sockets in the table
	// Processes is the number of processes that own sockets; NewProcesses
	// of them were read this time (the rest came from the cache).
	Processes, NewProcesses int
	// PidsScanned is how many processes' descriptor tables were read, and
	// FDsRead how many descriptors were resolved, to find the owners of
	// new sockets; FullScan is true when every process was rescanned.
	PidsScanned, FDsRead int
	FullScan             bool
	// Connections is true when the TCP connections were listed by this
	// refresh, false when they were carried over from an earlier one (see
	// Options.ConnectionsEvery).
	Connections bool
	// Kept is true when this refresh listed nothing and kept the last
	// table, the kernel's socket counts being unchanged (see
	// Options.RelistEvery).
	Kept bool
	// Unresolved counts sockets held by a process that could not be found;
	// Denied counts processes whose descriptors could not be read for lack
	// of privilege.
	Unresolved, Denied int
}

// Table is the socket table at one moment, with the processes that own the
// sockets. It is immutable once returned.
type Table struct {
	Seq  uint64    // 1 for a Scanner's first table
	Time time.Time // when the refresh started
	// Sockets holds every TCP and UDP socket, in no particular order.
	Sockets []Socket
	// Processes holds the owners of Sockets by pid.
	Processes map[int32]snapshot.Process
	// Privileged is true when this process may read every other process's
	// descriptors (root or cap_sys_ptrace) and none was refused.
	Privileged bool
	Stats      RefreshStats

	listen map[portKey][]int // listening sockets by (proto, port)
	// listenKeys is ListeningPorts' answer, made with the index: the
	// engine asks on every tick, and a kept table is asked again.
	listenKeys []key.Key
	byPeer     map[portKey][]int        // connected sockets by (proto, remote port)
	conns      map[tupleKey]int         // connected sockets by 4-tuple
	bound      map[boundKey]int         // unconnected UDP sockets by local end
	recent     map[tupleKey]recentOwner // connections seen lately and their owners
}

type portKey struct {
	proto key.Proto
	port  uint16
}

type tupleKey struct {
	proto         key.Proto
	local, remote netip.AddrPort
}

type boundKey struct {
	proto key.Proto
	local netip.AddrPort
}

type recentOwner struct {
	proc snapshot.Process
	seen time.Time
}

// Listening returns the listening sockets sorted by port, proto, bind
// address and pid.
func (t *Table) Listening() []Socket {
	if t == nil {
		return nil
	}
	var out []Socket
	for _, idx := range t.listen {
		for _, i := range idx {
			out = append(out, t.Sockets[i])
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Local.Port() != b.Local.Port() {
			return a.Local.Port() < b.Local.Port()
		}
		if a.Proto != b.Proto {
			return a.Proto < b.Proto
		}
		if c := a.Local.Addr().Compare(b.Local.Addr()); c != 0 {
			return c < 0
		}
		return a.PID < b.PID
	})
	return out
}

// Process returns what is known of the process with the given pid; ok is
// false when pid owns no socket in the table or could not be read.
func (t *Table) Process(pid int32) (p snapshot.Process, ok bool) {
	if t == nil || pid == 0 {
		return snapshot.Process{}, false
	}
	p, ok = t.Processes[pid]
	return p, ok
}

// HiddenNote returns the note for a socket whose owner could not be seen:
// NoteNeedsPrivilege when more privilege could reveal it, NoteNotVisible
// otherwise.
func (t *Table) HiddenNote() string {
	if t == nil || !t.Privileged {
		return NoteNeedsPrivilege
	}
	return NoteNotVisible
}

// ListeningPorts returns the (proto, port) of every listening socket as a
// local-side key, sorted by port then proto, without duplicates: the set the
// engine feeds to the service-port rule and shows as rows before any
// traffic.
//
// UDP sockets bound to a port in the kernel's ephemeral range are left out:
// a client that sends with sendto() on an unconnected socket gets such a
// port and looks exactly like a server in the socket table, and counting
// it as one would put its traffic under its own ephemeral port.
//
// The slice is the table's own, shared by every caller: do not modify it.
func ListeningPorts(t *Table) []key.Key {
	if t == nil {
		return nil
	}
	if t.listenKeys != nil {
		return t.listenKeys
	}
	return listeningKeys(t) // a table not built by a Scanner
}

// listeningKeys builds ListeningPorts' answer from t's index.
func listeningKeys(t *Table) []key.Key {
	lo, hi := ephemeralRange()
	out := make([]key.Key, 0, len(t.listen))
	for pk := range t.listen {
		if pk.proto == key.UDP && pk.port >= lo && pk.port <= hi {
			continue
		}
		out = append(out, key.Key{Proto: pk.proto, Port: pk.port, Side: key.Local})
	}
	slices.SortFunc(out, key.Compare)
	return out
}

// ephemeralRange is the kernel's range of automatically assigned local
// ports (Linux: /proc/sys/net/ipv4/ip_local_port_range), read once; the
// Linux default elsewhere or when it cannot be read.
var ephemeralRange = sync.OnceValues(func() (uint16, uint16) {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if lo, hi, err := parsePortRange(string(b)); err == nil {
			return lo, hi
		}
	}
	return 32768, 60999
})

// parsePortRange parses "32768\t60999\n".
func parsePortRange(s string) (uint16, uint16, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("bad port range %q", s)
	}
	lo, err1 := strconv.ParseUint(f[0], 10, 16)
	hi, err2 := strconv.ParseUint(f[1], 10, 16)
	if err1 != nil || err2 != nil || lo > hi {
		return 0, 0, fmt.Errorf("bad port range %q", s)
	}
	return uint16(lo), uint16(hi), nil
}

// Options tune a Scanner. The zero value is usable.
type Options struct {
	// RecentTTL is how long a connection's owner is remembered after the
	// socket disappears, so short-lived connections keep their process
	// (default 2 minutes).
	RecentTTL time.Duration
	// MaxRecent caps the remembered connections (default 65536).
	MaxRecent int
	// FullRescanEvery makes every Nth refresh re-read every process's
	// descriptors instead of only looking for new sockets, healing any
	// stale mapping (default 120). It costs a readlink per descriptor of
	// every process: milliseconds on a busy host.
	FullRescanEvery int
	// ConnectionsEvery makes the first listing at least N refreshes after
	// the last that listed the TCP connections list them again (default
	// 10). The others list only the TCP listeners, which spares
	// the kernel a walk of its whole connection hash table, and keep the
	// connections last listed, unless Scanner.WantConnections asked for a
	// fresh listing. The first refresh always lists them.
	ConnectionsEvery int
	// RelistEvery bounds how long a table is kept (default 15). Where the
	// kernel counts its sockets (Linux: /proc/net/sockstat), a refresh
	// that finds the counts unchanged since the last listing, and every
	// process that owned a socket still there, keeps the last table
	// instead of listing again: most of an idle host's refresh cost is the
	// kernel's walk of its UDP hash table. That misses a socket closed and
	// another opened between two refreshes with no owner gone, a TCP
	// connection changing state and a UDP socket connecting, so every
	// RelistEvery-th refresh in a row lists anyway. 1 lists every time.
	RelistEvery int
}

func (o Options) withDefaults() Options {
	if o.RecentTTL <= 0 {
		o.RecentTTL = 2 * time.Minute
	}
	if o.MaxRecent <= 0 {
		o.MaxRecent = 65536
	}
	if o.FullRescanEvery <= 0 {
		o.FullRescanEvery = 120
	}
	if o.ConnectionsEvery <= 0 {
		o.ConnectionsEvery = 10
	}
	if o.RelistEvery <= 0 {
		o.RelistEvery = 15
	}
	return o
}

// Scanner reads socket tables. It keeps caches between refreshes (socket
// owners, processes, recent connections), so reuse one Scanner. It is not
// safe for concurrent use; a Watcher owns one on its own goroutine.
type Scanner struct {
	opts       Options
	now        func() time.Time
	seq        uint64
	privileged bool
	sockets    socketReader
	procs      *processCache
	recent     map[tupleKey]recentOwner
	wantConns  atomic.Bool
	last       *Table // the table of the last refresh
	// kept counts the refreshes in a row that kept the last table,
	// sinceConns the refreshes since the TCP connections were listed.
	kept, sinceConns int
}

// WantConnections makes the next refresh list the TCP connections afresh
// (see Options.ConnectionsEvery). Unlike the other methods it may be
// called from any goroutine.
func (s *Scanner) WantConnections() { s.wantConns.Store(true) }

// socketReader reads the socket table and finds the owner of each socket.
type socketReader interface {
	// read lists the sockets and their owners; full rescans every
	// process's descriptors, tcpConns lists the TCP connections afresh.
	read(ctx context.Context, root string, full, tcpConns bool) ([]Socket, RefreshStats, error)
	// recycle hands back a slice read returned that no table kept, for
	// the next read to fill.
	recycle(socks []Socket)
	// skip reports whether a refresh may keep the last table: the
	// kernel's counts of sockets are what they were at the last read and
	// the sockets' owners still exist. It is false where that cannot be
	// told cheaply.
	skip(root string) bool
}

// NewScanner returns a Scanner with the given options.
func NewScanner(opts Options) *Scanner {
	return &Scanner{
		opts:       opts.withDefaults(),
		now:        time.Now,
		privileged: privileged(),
		sockets:    newSocketReader(),
		procs:      newProcessCache(),
	}
}

// procRoot returns the /proc directory to read: gopsutil's context
// environment first, then HOST_PROC, then /proc.
func procRoot(ctx context.Context) string {
	if env, ok := ctx.Value(gcommon.EnvKey).(gcommon.EnvMap); ok {
		if d := env[gcommon.HostProcEnvKey]; d != "" {
			return d
		}
	}
	if d := os.Getenv("HOST_PROC"); d != "" {
		return d
	}
	return "/proc"
}

// withRoot makes sure gopsutil reads the same /proc as procs does.
func withRoot(ctx context.Context, root string) context.Context {
	if env, ok := ctx.Value(gcommon.EnvKey).(gcommon.EnvMap); ok && env[gcommon.HostProcEnvKey] == root {
		return ctx
	}
	m := gcommon.EnvMap{}
	if env, ok := ctx.Value(gcommon.EnvKey).(gcommon.EnvMap); ok {
		for k, v := range env {
			m[k] = v
		}
	}
	m[gcommon.HostProcEnvKey] = root
	return context.WithValue(ctx, gcommon.EnvKey, m)
}

// Refresh reads the socket table and the owners of its sockets.
func (s *Scanner) Refresh(ctx context.Context) (*Table, error) {
	start := s.now()
	root := procRoot(ctx)
	ctx = withRoot(ctx, root)
	s.seq++
	full := s.seq%uint64(s.opts.FullRescanEvery) == 0
	asked := s.wantConns.Swap(false)
	if l := s.last; l != nil && !full && !asked && s.kept+1 < s.opts.RelistEvery && s.sockets.skip(root) {
		// No socket came or went, as far as the kernel's counts tell:
		// keep the last table, sockets, index and owners alike.
		s.kept++
		s.sinceConns++
		t := *l
		t.Seq, t.Time = s.seq, start
		t.Stats = RefreshStats{Kept: true, Sockets: len(t.Sockets), Processes: len(t.Processes)}
		t.Stats.Duration = s.now().Sub(start)
		s.last = &t
		return &t, nil
	}
	conns := asked || s.sinceConns+1 >= s.opts.ConnectionsEvery
	socks, stats, err := s.sockets.read(ctx, root, full, conns)
	if err != nil {
		if asked {
			s.wantConns.Store(true)
		}
		s.seq--
		return nil, fmt.Errorf("read socket table: %w", err)
	}
	s.kept = 0
	if stats.Connections {
		s.sinceConns = 0
	} else {
		s.sinceConns++
	}
	pids := make(map[int32]struct{})
	for i := range socks {
		sk := &socks[i]
		if sk.PID != 0 {
			pids[sk.PID] = struct{}{}
		}
		sk.User = s.procs.userName(sk.UID)
	}
	t := &Table{
		Seq:        s.seq,
		Time:       start,
		Sockets:    socks,
		Privileged: s.privileged && stats.Denied == 0,
	}
	if l := s.last; l != nil && slices.Equal(l.Sockets, socks) {
		// Nothing changed (the usual case): share the last table's
		// immutable sockets and index instead of building them again.
		s.sockets.recycle(socks)
		t.Sockets = l.Sockets
		t.listen, t.byPeer, t.conns, t.bound, t.listenKeys = l.listen, l.byPeer, l.conns, l.bound, l.listenKeys
	} else {
		t.index()
	}
	s.last = t
	t.Processes, stats.NewProcesses = s.procs.lookup(ctx, root, pids)
	stats.Processes = len(t.Processes)
	t.recent = s.carryRecent(t, start)
	stats.Sockets = len(socks)
	stats.Duration = s.now().Sub(start)
	t.Stats = stats
	return t, nil
}

// index builds the table's lookup maps from its sockets.
func (t *Table) index() {
	t.listen = make(map[portKey][]int)
	t.byPeer = make(map[portKey][]int)
	t.conns = make(map[tupleKey]int, len(t.Sockets))
	t.bound = make(map[boundKey]int)
	for i := range t.Sockets {
		sk := &t.Sockets[i]
		switch {
		case sk.Listening:
			pk := portKey{sk.Proto, sk.Local.Port()}
			t.listen[pk] = append(t.listen[pk], i)
			if sk.Proto == key.UDP {
				t.bound[boundKey{sk.Proto, sk.Local}] = i
			}
		case sk.connected():
			pk := portKey{sk.Proto, sk.Remote.Port()}
			t.byPeer[pk] = append(t.byPeer[pk], i)
			t.conns[tupleKey{sk.Proto, sk.Local, sk.Remote}] = i
		}
	}
	t.listenKeys = listeningKeys(t)
}

// carryRecent builds the table's map of recently seen connections: the
// owned connections of this table, then the unexpired ones of the last.
// The previous map is never modified: an earlier Table may still be read.
func (s *Scanner) carryRecent(t *Table, now time.Time) map[tupleKey]recentOwner {
	m := make(map[tupleKey]recentOwner, len(s.recent)+len(t.conns))
	for tk, i := range t.conns {
		sk := &t.Sockets[i]
		if sk.PID == 0 {
			continue
		}
		p, ok := t.Processes[sk.PID]
		if !ok {
			p = snapshot.Process{PID: sk.PID}
		}
		m[tk] = recentOwner{proc: p, seen: now}
	}
	for tk, r := range s.recent {
		if len(m) >= s.opts.MaxRecent {
			break
		}
		if now.Sub(r.seen) > s.opts.RecentTTL {
			continue
		}
		if _, ok := m[tk]; !ok {
			m[tk] = r
		}
	}
	s.recent = m
	return m
}
