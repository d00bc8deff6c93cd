// Package snapshot defines the immutable value that the engine publishes on
// every tick and that every front-end (dashboard, batch reports, alerts,
// exporters) reads.
//
// A *Snapshot is never modified after it is published, so readers on any
// goroutine need no locks. Slices inside it are owned by the snapshot.
package snapshot

import (
	"net/netip"
	"time"

	"github.com/porttop/porttop/internal/key"
)

// Counters are bytes and packets each way. Bytes are frame lengths on the
// wire (pcap's original length), link-layer header included.
type Counters struct {
	RxBytes, TxBytes     uint64
	RxPackets, TxPackets uint64
}

// Add adds o to c.
func (c *Counters) Add(o Counters) {
	c.RxBytes += o.RxBytes
	c.TxBytes += o.TxBytes
	c.RxPackets += o.RxPackets
	c.TxPackets += o.TxPackets
}

// Bytes returns rx+tx bytes.
func (c Counters) Bytes() uint64 { return c.RxBytes + c.TxBytes }

// Packets returns rx+tx packets.
func (c Counters) Packets() uint64 { return c.RxPackets + c.TxPackets }

// IsZero reports whether all counters are zero.
func (c Counters) IsZero() bool { return c == Counters{} }

// Process is a process that owns a socket on a port.
type Process struct {
	PID     int32
	Name    string
	User    string
	Cmdline string
	// Namespace names the network namespace or container of the socket when
	// it is not the host's own ("" = host).
	Namespace string
	// Bytes is the traffic attributed to this process on the row (remote
	// rows: the connections it owns), used to pick the row's main process.
	Bytes uint64
}

// Port is one row: a service port with its counters.
type Port struct {
	Key     key.Key
	Service string // service name from the built-in table, "" if none

	Total Counters // cumulative since start
	Delta Counters // during the interval that ended at Snapshot.Time

	// Connections is the number of distinct flows (4-tuples) seen on this
	// row during the interval.
	Connections int

	// Listening is true when a listening socket on this host owns the port.
	Listening bool

	// Process is the main process behind the port ("" if none is known);
	// PID is 0 when unknown. ProcessNote explains an empty Process when
	// porttop knows why (for example "needs root or cap_sys_ptrace").
	Process     string
	PID         int32
	ProcessNote string
	// Processes lists every process seen on the row, main one first.
	Processes []Process
}

// RxBps returns the row's receive rate in bytes per second over interval d.
func (p *Port) RxBps(d time.Duration) float64 { return PerSecond(p.Delta.RxBytes, d) }

// TxBps returns the row's transmit rate in bytes per second over interval d.
func (p *Port) TxBps(d time.Duration) float64 { return PerSecond(p.Delta.TxBytes, d) }

// PerSecond returns n per second over d (0 for an empty interval): the
// one rate formula of every front-end.
func PerSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Interface is one captured network interface: the NIC's own counters beside
// what the capture saw.
type Interface struct {
	Name string

	// NIC counters (gopsutil), cumulative since porttop started, and their
	// rates over the last interval. NICValid is false when the NIC counters
	// could not be read (for example a capture file, or a vanished NIC).
	NICValid         bool
	RxBytes, TxBytes uint64
	RxBps, TxBps     float64

	// What the capture saw, cumulative since start.
	CapturedBytes   uint64
	CapturedPackets uint64
	// libpcap / kernel statistics: packets received by the filter and
	// dropped for lack of buffer space (cumulative).
	ReceivedPackets uint64
	DroppedPackets  uint64
	IfDropped       uint64
	DecodeErrors    uint64

	// Coverage is captured bytes / NIC bytes over the last interval (1 = the
	// capture saw everything the NIC counted; <1 = traffic is being missed or
	// filtered). Negative when unknown.
	Coverage float64

	// Err is the capture error of this interface, "" while it works.
	Err string
}

// Flow is one conversation (4-tuple) on a row, for the detail view.
type Flow struct {
	Key key.Key
	// Local and Peer are the two ends: Local is this host's end (on a local
	// row the service end; on a remote row the client end), Peer the other.
	Local, Peer netip.AddrPort
	Total       Counters // since first seen
	Delta       Counters // during the last interval
	First, Last time.Time
}

// CaptureStats are engine-wide counters, cumulative since start.
type CaptureStats struct {
	Packets      uint64 // frames seen
	Bytes        uint64 // wire bytes of frames seen
	DecodeErrors uint64 // frames that could not be decoded past some header
	Truncated    uint64 // frames whose transport header was cut short
	// FlowOverflow counts packets whose flow could not be tracked because
	// the per-interval flow table was full (their bytes still count).
	FlowOverflow uint64
}

// Snapshot is the state of the engine at the end of one interval.
type Snapshot struct {
	Seq      uint64        // 1 for the first report
	Time     time.Time     // end of the interval (packet time when reading a file)
	Start    time.Time     // when counting began
	Interval time.Duration // length of the interval that just ended
	Offline  bool          // true when reading a capture file

	Interfaces []Interface
	// Ports holds every known row: ports with traffic since start and
	// listening ports, in no particular order (render sorts).
	Ports []Port
	// Other counts frames that are not TCP/UDP (ICMP, ARP, ...) and later IP
	// fragments whose first fragment was not seen.
	Other      Counters
	OtherDelta Counters
	Capture    CaptureStats

	// Flows holds the flows seen recently (for the detail view), in no
	// particular order.
	Flows []Flow
}
