package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/google/gopacket/pcap"
)

// Defaults for LiveOptions fields left zero.
const (
	// DefaultSnaplen keeps headers only, never payload.
	DefaultSnaplen = 128
	// DefaultBufferSize is the kernel buffer (ring) size: 4 MiB, four of
	// the AF_PACKET engine's 1 MiB blocks (see ringGeometry), with which it
	// dropped no packet at 250k packets/s on lo (docs/PERFORMANCE.md);
	// every page of it is resident, so it is a large part of porttop's RSS.
	DefaultBufferSize = 4 << 20
	// DefaultTimeout is the read timeout of the libpcap engine.
	DefaultTimeout = 100 * time.Millisecond
	// DefaultWakeableTimeout is the read timeout of the AF_PACKET engine,
	// whose waits Close and Wake cut short, so it need not wake up often
	// on an idle link to let its caller tick.
	DefaultWakeableTimeout = time.Second
	// DefaultHoldTime is the default LiveOptions.HoldTime: how long a
	// packet can wait in a partly filled block of the AF_PACKET ring. At
	// low packet rates it sets how often the reader wakes; the engine
	// splits intervals by packet timestamp (see Holder), so it only delays
	// a report, by at most this much.
	DefaultHoldTime = 500 * time.Millisecond
)

const (
	maxSnaplen    = 262144  // libpcap's MAXIMUM_SNAPLEN
	maxBufferSize = 1 << 30 // 1 GiB: more is certainly a typo
	anyInterface  = "any"   // libpcap's pseudo-interface for all interfaces
)

// LiveOptions configures OpenLive. Zero fields take the defaults above.
type LiveOptions struct {
	// Interface is the interface name, or "any" for all (Linux).
	Interface string
	// Snaplen is how many bytes of each packet are kept (default 128).
	Snaplen int
	// BufferSize is the kernel buffer (ring) size in bytes (default 4 MiB).
	BufferSize int
	// Timeout is the read timeout: ReadPacket returns ErrTimeout after it
	// on an idle link, so callers can tick and Close returns promptly
	// (default DefaultTimeout for libpcap, DefaultWakeableTimeout for
	// AF_PACKET).
	Timeout time.Duration
	// HoldTime bounds, on the AF_PACKET engine, how long a packet may wait
	// in a partly filled block of the ring before the kernel hands the
	// block over (default DefaultHoldTime, at most Timeout). Longer means
	// fewer wake-ups at low packet rates; the engine waits up to this long
	// after each tick for the interval's last packets, so keep it well
	// under the refresh interval. libpcap's equals its Timeout.
	HoldTime time.Duration
	// Filter is a BPF expression in tcpdump syntax; it also matches
	// VLAN-tagged frames (see FilterExpression). Empty: every packet.
	Filter string
	// Promisc puts the interface in promiscuous mode.
	Promisc bool
	// Engine chooses libpcap or AF_PACKET (default EngineAuto).
	Engine Engine
}

// LiveSource is what OpenLive returns: a Source that also says which
// engine captures it.
type LiveSource interface {
	Source
	// Engine is the engine actually in use (never EngineAuto).
	Engine() Engine
}

// withDefaults fills zero fields and checks the others.
func (o LiveOptions) withDefaults() (LiveOptions, error) {
	if o.Interface == "" {
		return o, errors.New("no interface given")
	}
	if o.Snaplen == 0 {
		o.Snaplen = DefaultSnaplen
	}
	if o.Snaplen < 0 || o.Snaplen > maxSnaplen {
		return o, fmt.Errorf("snaplen %d out of range (1 to %d)", o.Snaplen, maxSnaplen)
	}
	if o.BufferSize == 0 {
		o.BufferSize = DefaultBufferSize
	}
	if o.BufferSize < 0 || o.BufferSize > maxBufferSize {
		return o, fmt.Errorf("buffer size %d out of range (1 to %d bytes)", o.BufferSize, maxBufferSize)
	}
	if o.Timeout != 0 && o.Timeout < time.Millisecond {
		return o, fmt.Errorf("read timeout %v too short (at least 1ms)", o.Timeout)
	}
	switch o.Engine {
	case EngineAuto, EnginePcap, EngineAFPacket:
	default:
		return o, fmt.Errorf("unknown capture engine %v", o.Engine)
	}
	return o, nil
}

// OpenLive starts capturing on a live interface. The returned Source is a
// LiveSource. Errors wrap ErrNoSuchInterface (listing the interfaces that
// exist), ErrPermission (saying how to grant it), ErrBadFilter (with
// libpcap's message) or ErrEngineUnavailable.
func OpenLive(opts LiveOptions) (Source, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Interface != anyInterface {
		if _, err := net.InterfaceByName(opts.Interface); err != nil {
			return nil, noSuchInterface(opts.Interface)
		}
	}
	switch opts.Engine {
	case EnginePcap:
		return openPcap(opts)
	case EngineAFPacket:
		return openAFPacket(opts)
	}
	if !afpacketUsable(opts.Interface) {
		return openPcap(opts)
	}
	src, err := openAFPacket(opts)
	if err == nil {
		return src, nil
	}
	if errors.Is(err, ErrPermission) || errors.Is(err, ErrBadFilter) || errors.Is(err, ErrNoSuchInterface) {
		return nil, err
	}
	// AF_PACKET failed for a reason libpcap may not share (an old
	// kernel without TPACKET_V3, ring memory limits): fall back.
	return openPcap(opts)
}

// pcapSource is a live capture through libpcap.
type pcapSource struct {
	h        *pcap.Handle
	name     string
	linkType int
	timeout  time.Duration
	closed   atomic.Bool
}

// openPcap opens a live capture through a libpcap inactive handle.
func openPcap(opts LiveOptions) (Source, error) {
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	ih, err := pcap.NewInactiveHandle(opts.Interface)
	if err != nil {
		return nil, openError(opts.Interface, err)
	}
	defer ih.CleanUp()
	for _, set := range []func() error{
		func() error { return ih.SetSnapLen(opts.Snaplen) },
		func() error { return ih.SetBufferSize(opts.BufferSize) },
		func() error { return ih.SetTimeout(opts.Timeout) },
		func() error { return ih.SetPromisc(opts.Promisc) },
	} {
		if err := set(); err != nil {
			return nil, openError(opts.Interface, err)
		}
	}
	h, err := ih.Activate()
	if err != nil {
		return nil, openError(opts.Interface, err)
	}
	expr, err := filterFor(h.LinkType(), opts.Snaplen, opts.Filter)
	if err == nil {
		if ferr := h.SetBPFFilter(expr); ferr != nil {
			err = badFilter(opts.Filter, ferr)
		}
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	return &pcapSource{h: h, name: opts.Interface, linkType: int(h.LinkType()), timeout: opts.Timeout}, nil
}

// HoldTime implements Holder: libpcap's kernel buffer (on Linux its own
// TPACKET_V3 ring, elsewhere BPF's store buffer) hands packets over after
// the read timeout at the latest.
func (s *pcapSource) HoldTime() time.Duration { return s.timeout }

// Holding implements Holder: libpcap cannot tell, so it may always hold.
func (s *pcapSource) Holding() bool { return true }

// WaitUntil implements Holder. It does nothing: ReadPacket returns at
// every read timeout anyway.
func (s *pcapSource) WaitUntil(time.Time) {}

// ReadPacket implements Source.
func (s *pcapSource) ReadPacket(info *Info) ([]byte, error) {
	data, ci, err := s.h.ZeroCopyReadPacketData()
	if err != nil {
		switch {
		case err == pcap.NextErrorTimeoutExpired:
			if s.closed.Load() {
				return nil, io.EOF
			}
			return nil, ErrTimeout
		case err == io.EOF, s.closed.Load():
			return nil, io.EOF
		}
		return nil, fmt.Errorf("capture on %s: %s", s.name, lowerFirst(err.Error()))
	}
	info.Timestamp, info.CaptureLength, info.Length = ci.Timestamp, ci.CaptureLength, ci.Length
	return data, nil
}

// LinkType implements Source.
func (s *pcapSource) LinkType() int { return s.linkType }

// Name implements Source.
func (s *pcapSource) Name() string { return s.name }

// Engine implements LiveSource.
func (s *pcapSource) Engine() Engine { return EnginePcap }

// Stats implements Source.
func (s *pcapSource) Stats() (Stats, error) {
	if s.closed.Load() {
		return Stats{}, fmt.Errorf("capture on %s: stats: source closed", s.name)
	}
	st, err := s.h.Stats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture on %s: stats: %s", s.name, lowerFirst(err.Error()))
	}
	return Stats{
		Received:  uint64(st.PacketsReceived),
		Dropped:   uint64(st.PacketsDropped),
		IfDropped: uint64(st.PacketsIfDropped),
	}, nil
}

// Close implements Source. gopacket's Handle.Close waits for a blocked
// read to return (at most the read timeout) before freeing libpcap's
// buffer; the reader then gets io.EOF.
func (s *pcapSource) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.h.Close()
	return nil
}
