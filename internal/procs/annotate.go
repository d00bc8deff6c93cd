package procs

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/snapshot"
)

// Annotate fills, in place, each port's Listening, Process, PID,
// ProcessNote and Processes from the socket table t and the flows of the
// snapshot:
//   - a local row gets the owners of its listening sockets first, then the
//     processes owning its connections;
//   - a remote row gets the local processes owning its connections, the one
//     moving the most bytes (per-flow totals) first;
//   - a connection whose socket is gone keeps the process it was last seen
//     with (for Options.RecentTTL);
//   - a row with no visible owner but with sockets whose owner is hidden
//     gets ProcessNote = t.HiddenNote().
//
// Ties break on pid. A nil t clears the process fields and only keeps the
// rows as they are otherwise.
func Annotate(ports []snapshot.Port, flows []snapshot.Flow, t *Table) {
	annotate(ports, flows, t)
}

// annotate is Annotate, returning the connections of the flows it found
// no socket for (owned, hidden or remembered): traffic of no local socket,
// or of a connection the table does not list yet.
func annotate(ports []snapshot.Port, flows []snapshot.Flow, t *Table) (unknown []tupleKey) {
	byKey := make(map[key.Key][]int)
	for i := range flows {
		byKey[flows[i].Key] = append(byKey[flows[i].Key], i)
	}
	var cands []candidate // reused from port to port
	for i := range ports {
		cands, unknown = annotatePort(&ports[i], flows, byKey[ports[i].Key], t, cands[:0], unknown)
	}
	return unknown
}

type candidate struct {
	proc     snapshot.Process
	listener bool
}

// annotatePort annotates one port; cands is an empty scratch slice, returned
// (grown) for the next port, and the connections of the flows it found no
// socket for are appended to unknown.
func annotatePort(p *snapshot.Port, flows []snapshot.Flow, idx []int, t *Table, cands []candidate, unknown []tupleKey) ([]candidate, []tupleKey) {
	p.Listening, p.Process, p.PID, p.ProcessNote, p.Processes = false, "", 0, "", nil
	if t == nil {
		return cands, unknown
	}
	// A port has few owners: a linear search beats a map made per port.
	add := func(proc snapshot.Process, bytes uint64, listener bool) {
		for i := range cands {
			if c := &cands[i]; c.proc.PID == proc.PID {
				c.proc.Bytes += bytes
				c.listener = c.listener || listener
				return
			}
		}
		proc.Bytes = bytes
		cands = append(cands, candidate{proc: proc, listener: listener})
	}
	hidden := false
	pk := portKey{p.Key.Proto, p.Key.Port}
	if p.Key.Side == key.Local {
		for _, si := range t.listen[pk] {
			p.Listening = true
			s := &t.Sockets[si]
			if s.PID != 0 {
				add(t.procOf(s.PID), 0, true)
			} else if s.hidden() {
				hidden = true
			}
		}
	} else {
		for _, si := range t.byPeer[pk] {
			s := &t.Sockets[si]
			if s.PID != 0 {
				add(t.procOf(s.PID), 0, false)
			} else if s.hidden() {
				hidden = true
			}
		}
	}
	for _, fi := range idx {
		f := &flows[fi]
		proc, found, hid := t.owner(f.Key.Proto, f.Local, f.Peer)
		switch {
		case found:
			add(proc, f.Total.Bytes(), false)
		case hid:
			hidden = true
		default:
			unknown = append(unknown, tupleKey{f.Key.Proto, unmap(f.Local), unmap(f.Peer)})
		}
	}
	if len(cands) == 0 {
		if hidden {
			p.ProcessNote = t.HiddenNote()
		}
		return cands, unknown
	}
	list := cands
	slices.SortFunc(list, func(a, b candidate) int {
		switch {
		case a.listener != b.listener:
			if a.listener {
				return -1
			}
			return 1
		case a.proc.Bytes != b.proc.Bytes:
			return cmp.Compare(b.proc.Bytes, a.proc.Bytes)
		}
		return cmp.Compare(a.proc.PID, b.proc.PID)
	})
	p.Processes = make([]snapshot.Process, len(list))
	for i := range list {
		p.Processes[i] = list[i].proc
	}
	p.Process, p.PID = list[0].proc.Name, list[0].proc.PID
	return cands, unknown
}

// procOf returns the process with pid, or one with only the pid when it
// could not be read.
func (t *Table) procOf(pid int32) snapshot.Process {
	if p, ok := t.Processes[pid]; ok {
		return p
	}
	return snapshot.Process{PID: pid}
}

// owner finds the local process of the connection between this host's end
// local and the peer: the live socket of that 4-tuple, else the owner
// remembered for it, else (UDP) the unconnected socket bound to local or to
// the wildcard address on its port. hidden is true when the socket exists
// but its owner cannot be seen.
func (t *Table) owner(proto key.Proto, local, peer netip.AddrPort) (p snapshot.Process, found, hidden bool) {
	local = unmap(local)
	peer = unmap(peer)
	tk := tupleKey{proto, local, peer}
	if i, ok := t.conns[tk]; ok {
		s := &t.Sockets[i]
		if s.PID != 0 {
			return t.procOf(s.PID), true, false
		}
		hidden = s.hidden()
	}
	if r, ok := t.recent[tk]; ok {
		return r.proc, true, false
	}
	if proto == key.UDP {
		wild := netip.IPv4Unspecified()
		if local.Addr().Is6() {
			wild = netip.IPv6Unspecified()
		}
		for _, bk := range []boundKey{
			{proto, local},
			{proto, netip.AddrPortFrom(wild, local.Port())},
			{proto, netip.AddrPortFrom(netip.IPv6Unspecified(), local.Port())},
		} {
			if i, ok := t.bound[bk]; ok {
				s := &t.Sockets[i]
				if s.PID != 0 {
					return t.procOf(s.PID), true, false
				}
				hidden = hidden || s.hidden()
			}
		}
	}
	return snapshot.Process{}, false, hidden
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	if a := ap.Addr(); a.Is4In6() || a.Zone() != "" {
		return netip.AddrPortFrom(a.Unmap().WithZone(""), ap.Port())
	}
	return ap
}
