// Package capture provides packet sources: live interfaces (libpcap, and on
// Linux an AF_PACKET TPACKET_V3 ring) and capture files (pcap, pcapng,
// gzip-compressed), all behind one Source interface.
//
// capture is the only package that imports gopacket's capture libraries.
package capture

import (
	"errors"
	"time"
)

// Info describes one packet read from a Source.
type Info struct {
	Timestamp time.Time
	// CaptureLength is how many bytes were kept (len(data)).
	CaptureLength int
	// Length is the frame's original length on the wire.
	Length int
}

// Stats are a source's kernel/libpcap counters, cumulative since it opened.
type Stats struct {
	Received  uint64 // packets the filter accepted
	Dropped   uint64 // packets dropped for lack of buffer space
	IfDropped uint64 // packets dropped by the interface or driver
}

// Waker is implemented by live sources whose wait for packets can be cut
// short: Wake makes a ReadPacket waiting in another goroutine return
// ErrTimeout at once, or the next one that would wait, so that its caller
// can act (hand over a tally at a tick) without a short read timeout
// waking it all the time on an idle link.
type Waker interface {
	Wake()
}

// Holder is implemented by live sources that can hold a packet back for a
// while after it arrived before ReadPacket returns it: a TPACKET_V3 ring
// hands the kernel's current block of packets over only when the block is
// full or HoldTime after it was opened. The engine uses it to split
// intervals by packet timestamp: at a tick it waits, at most HoldTime,
// until every packet that arrived before the tick has been read. The
// methods are called from the reading goroutine.
type Holder interface {
	// HoldTime bounds how long after its arrival a packet can be held.
	HoldTime() time.Duration
	// Holding reports, after a ReadPacket that returned ErrTimeout,
	// whether the source may hold packets that arrived before it returned.
	Holding() bool
	// WaitUntil makes ReadPacket return ErrTimeout by t at the latest when
	// it has to wait; the zero time lifts the bound.
	WaitUntil(t time.Time)
}

// ErrTimeout is returned by ReadPacket when no packet arrived within the
// source's read timeout. The caller should simply call ReadPacket again.
var ErrTimeout = errors.New("capture: read timeout")

// Source is a stream of packets: a live interface or a capture file.
//
// A Source is used by one goroutine at a time, except Close, which may be
// called from another goroutine to stop a blocked ReadPacket (it then
// returns io.EOF or an error soon after).
type Source interface {
	// ReadPacket returns the next packet and fills *ci with its metadata
	// (in place: copying a returned struct per packet costs more than the
	// rest of the read). data is only valid until the next call (zero
	// copy). It returns ErrTimeout when a live source saw no packet within
	// its read timeout, and io.EOF at the end of a file or after Close.
	ReadPacket(ci *Info) (data []byte, err error)
	// LinkType is the source's link-layer header type, as a LINKTYPE_/DLT_
	// number (1 Ethernet, 113 Linux cooked v1, 276 Linux cooked v2, 0 BSD
	// null, 108 OpenBSD loop, 101/12/14 raw IP, 228 raw IPv4, 229 raw IPv6).
	LinkType() int
	// Name is the interface name, or the file name for a capture file.
	Name() string
	// Stats returns the kernel/libpcap counters (zeros for files).
	Stats() (Stats, error)
	// Close releases the source.
	Close() error
}
