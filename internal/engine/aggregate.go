package engine

import (
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/classify"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/nic"
	"github.com/porttop/porttop/internal/services"
	"github.com/porttop/porttop/internal/snapshot"
	"github.com/porttop/porttop/internal/tally"
)

// aggregator holds the cumulative state (since start) built from the
// workers' interval tallies, and turns it into snapshots. It is owned by
// the engine's tick goroutine.
type aggregator struct {
	services *services.Table
	flowIdle time.Duration
	maxFlows int

	start   time.Time
	last    time.Time
	seq     uint64
	ports   map[uint32]*portState
	flows   map[flowID]*flowState
	other   snapshot.Counters
	otherD  snapshot.Counters
	capture snapshot.CaptureStats
	ifaces  []*ifaceState
	// listen holds the listening ports as local-side keys in key order,
	// without duplicates (setListening); order is the snapshot's buffer
	// of the rows' key.Order values.
	listen []key.Key
	order  []uint32
}

type portState struct {
	total, delta snapshot.Counters
	conns        int
}

type flowID struct {
	tuple classify.Tuple
	row   uint32
}

type flowState struct {
	serviceIsA   bool
	total, delta snapshot.Counters
	first, last  time.Time
}

type ifaceState struct {
	name      string
	captured  uint64
	capPkts   uint64
	capDelta  uint64
	decodeErr uint64
	stats     capture.Stats
	err       string

	nicBase, nicPrev nic.Counters
	nicHave          bool
	// nicDeltas counts NIC readings after the baseline; the first interval's
	// coverage is unknown, because packets queued in the kernel before the
	// baseline was read are counted in it.
	nicDeltas    int
	nicValid     bool
	nicTotal     nic.Counters
	rxBps, txBps float64
	coverage     float64
}

func newAggregator(svc *services.Table, names []string) *aggregator {
	a := &aggregator{
		services: svc,
		flowIdle: 2 * time.Minute,
		maxFlows: 100000,
		ports:    make(map[uint32]*portState),
		flows:    make(map[flowID]*flowState),
	}
	for _, n := range names {
		a.ifaces = append(a.ifaces, &ifaceState{name: n, coverage: -1})
	}
	return a
}

// beginInterval clears the per-interval values.
func (a *aggregator) beginInterval() {
	for _, p := range a.ports {
		p.delta = snapshot.Counters{}
		p.conns = 0
	}
	for _, f := range a.flows {
		f.delta = snapshot.Counters{}
	}
	a.otherD = snapshot.Counters{}
	for _, i := range a.ifaces {
		i.capDelta = 0
	}
}

// merge adds one worker's interval tally (from interface i) at time now.
func (a *aggregator) merge(i int, t *tally.Tally, now time.Time) {
	for r := range t.Rows {
		row := &t.Rows[r]
		p := a.ports[row.Index]
		if p == nil {
			p = &portState{}
			a.ports[row.Index] = p
		}
		p.total.Add(row.C)
		p.delta.Add(row.C)
		p.conns += int(row.Conns)
	}
	t.Flows(func(f *tally.Flow) {
		id := flowID{tuple: f.Tuple, row: f.Row}
		s := a.flows[id]
		if s == nil {
			if len(a.flows) >= a.maxFlows {
				return
			}
			s = &flowState{serviceIsA: f.ServiceIsA, first: now}
			a.flows[id] = s
		}
		s.total.Add(f.C)
		s.delta.Add(f.C)
		s.last = now
	})
	a.other.Add(t.Other)
	a.otherD.Add(t.Other)
	a.capture.Packets += t.Packets
	a.capture.Bytes += t.Bytes
	a.capture.DecodeErrors += t.DecodeErrors
	a.capture.Truncated += t.Truncated
	a.capture.FlowOverflow += t.FlowOverflow
	if i >= 0 && i < len(a.ifaces) {
		s := a.ifaces[i]
		s.captured += t.Bytes
		s.capDelta += t.Bytes
		s.capPkts += t.Packets
		s.decodeErr += t.DecodeErrors
	}
}

// isLoopback reports whether an interface name is a loopback device, whose
// NIC counters count every packet both as received and as sent.
func isLoopback(name string) bool { return name == "lo" || name == "lo0" }

// updateNIC merges one reading of the NIC counters for interval d.
func (a *aggregator) updateNIC(m map[string]nic.Counters, d time.Duration) {
	for _, s := range a.ifaces {
		cur, ok := nicFor(s.name, m)
		if !ok {
			s.nicValid = false
			s.rxBps, s.txBps, s.coverage = 0, 0, -1
			continue
		}
		if !s.nicHave {
			s.nicBase, s.nicPrev, s.nicHave = cur, cur, true
		}
		dl, ok := nic.Delta(s.nicPrev, cur)
		if !ok { // counters went backwards (NIC reset): start again
			s.nicBase = cur
			dl = nic.Counters{}
		}
		s.nicPrev = cur
		tot, _ := nic.Delta(s.nicBase, cur)
		s.nicTotal = tot
		s.nicValid = true
		s.rxBps, s.txBps = snapshot.PerSecond(dl.RxBytes, d), snapshot.PerSecond(dl.TxBytes, d)
		seen := dl.RxBytes + dl.TxBytes
		if isLoopback(s.name) {
			// Loopback counts each packet once as received and once as
			// sent, and without the 14-byte Ethernet header that the
			// capture sees.
			seen = dl.RxBytes + 14*dl.RxPackets
		}
		if d > 0 {
			s.nicDeltas++
		}
		switch {
		case s.nicDeltas <= 1:
			s.coverage = -1
		case seen == 0 && s.capDelta == 0:
			s.coverage = 1
		case seen == 0:
			s.coverage = -1
		default:
			s.coverage = float64(s.capDelta) / float64(seen)
		}
	}
}

// nicFor returns the counters of name; "any" sums every NIC, counting
// loopback traffic once.
func nicFor(name string, m map[string]nic.Counters) (nic.Counters, bool) {
	if name != "any" {
		c, ok := m[name]
		return c, ok
	}
	var sum nic.Counters
	for n, c := range m {
		if isLoopback(n) {
			c.TxBytes, c.TxPackets = 0, 0
			c.RxBytes += 14 * c.RxPackets
		}
		sum.RxBytes += c.RxBytes
		sum.TxBytes += c.TxBytes
		sum.RxPackets += c.RxPackets
		sum.TxPackets += c.TxPackets
		sum.RxDropped += c.RxDropped
	}
	sum.Name = "any"
	return sum, len(m) > 0
}

// snapshot builds the immutable snapshot of the interval that ended at now.
func (a *aggregator) snapshot(now time.Time, d time.Duration, offline bool) *snapshot.Snapshot {
	a.seq++
	s := &snapshot.Snapshot{
		Seq:        a.seq,
		Time:       now,
		Start:      a.start,
		Interval:   d,
		Offline:    offline,
		Other:      a.other,
		OtherDelta: a.otherD,
		Capture:    a.capture,
	}
	// The rows in key order: the traffic rows' keys sorted as integers,
	// merged with the listening ports, which are kept sorted.
	a.order = a.order[:0]
	for idx := range a.ports {
		a.order = append(a.order, key.FromIndex(idx).Order())
	}
	slices.Sort(a.order)
	s.Ports = make([]snapshot.Port, 0, len(a.order)+len(a.listen))
	listen := a.listen
	for _, o := range a.order {
		k := key.FromOrder(o)
		for len(listen) > 0 && key.Less(listen[0], k) {
			s.Ports = append(s.Ports, a.listeningRow(listen[0]))
			listen = listen[1:]
		}
		isListening := len(listen) > 0 && listen[0] == k
		if isListening {
			listen = listen[1:]
		}
		p := a.ports[k.Index()]
		s.Ports = append(s.Ports, snapshot.Port{
			Key: k, Service: a.services.Name(k.Proto, k.Port),
			Total: p.total, Delta: p.delta, Connections: p.conns,
			Listening: isListening,
		})
	}
	for _, k := range listen {
		s.Ports = append(s.Ports, a.listeningRow(k))
	}

	for id, f := range a.flows {
		if now.Sub(f.last) > a.flowIdle {
			delete(a.flows, id)
			continue
		}
		s.Flows = append(s.Flows, a.flowOf(id, f))
	}
	sort.Slice(s.Flows, func(i, j int) bool {
		if s.Flows[i].Key != s.Flows[j].Key {
			return key.Less(s.Flows[i].Key, s.Flows[j].Key)
		}
		if s.Flows[i].Peer != s.Flows[j].Peer {
			return s.Flows[i].Peer.Compare(s.Flows[j].Peer) < 0
		}
		return s.Flows[i].Local.Compare(s.Flows[j].Local) < 0
	})

	if !offline {
		for _, i := range a.ifaces {
			s.Interfaces = append(s.Interfaces, snapshot.Interface{
				Name:            i.name,
				NICValid:        i.nicValid,
				RxBytes:         i.nicTotal.RxBytes,
				TxBytes:         i.nicTotal.TxBytes,
				RxBps:           i.rxBps,
				TxBps:           i.txBps,
				CapturedBytes:   i.captured,
				CapturedPackets: i.capPkts,
				ReceivedPackets: i.stats.Received,
				DroppedPackets:  i.stats.Dropped,
				IfDropped:       i.stats.IfDropped,
				DecodeErrors:    i.decodeErr,
				Coverage:        i.coverage,
				Err:             i.err,
			})
		}
	}
	return s
}

// listeningRow is the row of a listening port that saw no traffic yet.
func (a *aggregator) listeningRow(k key.Key) snapshot.Port {
	return snapshot.Port{Key: k, Service: a.services.Name(k.Proto, k.Port), Listening: true}
}

// setListening stores the listening ports as local-side keys, sorted in
// key order without duplicates.
func (a *aggregator) setListening(keys []key.Key) {
	a.listen = make([]key.Key, len(keys))
	for i, k := range keys {
		k.Side = key.Local
		a.listen[i] = k
	}
	slices.SortFunc(a.listen, key.Compare)
	a.listen = slices.Compact(a.listen)
}

func (a *aggregator) flowOf(id flowID, f *flowState) snapshot.Flow {
	k := key.FromIndex(id.row)
	ap := netip.AddrPortFrom(netip.AddrFrom16(id.tuple.A).Unmap(), id.tuple.APort)
	bp := netip.AddrPortFrom(netip.AddrFrom16(id.tuple.B).Unmap(), id.tuple.BPort)
	svc, cli := ap, bp
	if !f.serviceIsA {
		svc, cli = bp, ap
	}
	local, peer := svc, cli
	if k.Side == key.Remote {
		local, peer = cli, svc
	}
	return snapshot.Flow{Key: k, Local: local, Peer: peer, Total: f.total, Delta: f.delta, First: f.first, Last: f.last}
}
