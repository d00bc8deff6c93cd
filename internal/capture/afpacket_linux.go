package capture

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/gopacket/afpacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Ring geometry for the TPACKET_V3 engine. The kernel fills a block with
// as many packets as fit and hands it over when it is full or after the
// block timeout; the ring is BufferSize bytes of such blocks.
const (
	afpBlockSize    = 256 << 10 // a multiple of the page size
	afpFrameSize    = 2048      // V3 packs packets; this only sets tp_frame_nr
	afpMinBlocks    = 4
	afpMaxBlockWait = 64 * time.Millisecond
)

// Linux ARPHRD_* values for the interface types the AF_PACKET engine
// supports; both deliver an Ethernet header with SOCK_RAW.
const (
	arphrdEther    = "1"
	arphrdLoopback = "772"
)

// packetOutgoing is the kernel's PACKET_OUTGOING packet type.
const packetOutgoing = 4

// interfaceType returns the ARPHRD_* type of an interface, as written in
// /sys/class/net/NAME/type.
func interfaceType(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return "", fmt.Errorf("bad interface name %q", name)
	}
	b, err := os.ReadFile("/sys/class/net/" + name + "/type")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// afpacketUsable reports whether the AF_PACKET engine can capture iface
// with the same packets libpcap would give: a named Ethernet or loopback
// interface. ("any" would mix link-layer headers: libpcap's cooked header
// is what makes "any" readable, so it stays with libpcap.)
func afpacketUsable(iface string) bool {
	if iface == anyInterface {
		return false
	}
	t, err := interfaceType(iface)
	return err == nil && (t == arphrdEther || t == arphrdLoopback)
}

// afpacketSource is a live capture from an AF_PACKET TPACKET_V3 ring.
//
// mu is held by ReadPacket around the ring read and by Close around
// unmapping the ring, so Close from another goroutine waits for a blocked
// read (at most the poll timeout) instead of pulling the ring from under
// it. Uncontended, it costs two atomic operations per packet.
type afpacketSource struct {
	name     string
	stopping atomic.Bool
	mu       sync.Mutex
	tp       *afpacket.TPacket // nil once closed
	promisc  int               // socket holding the promiscuous membership, or -1
	// filteredFrom is when the BPF program was in place (Unix ns), until
	// the first packet stamped after it; 0 after that. gopacket binds the
	// socket before a filter can be attached, so packets that arrived in
	// between sit in the ring unfiltered (and, on loopback, twice); they
	// are the ones stamped before this and are skipped. (libpcap filters
	// such packets in user space for the same reason.) A packet the
	// driver stamped just before the attach but that reached the socket
	// after it is skipped too: a few microseconds of traffic at open.
	filteredFrom int64
}

// openAFPacket opens a TPACKET_V3 ring on opts.Interface, with the BPF
// program (filter, snaplen truncation and, on loopback, dropping the
// outgoing copy of each packet) attached in the kernel.
func openAFPacket(opts LiveOptions) (Source, error) {
	if opts.Interface == anyInterface {
		return nil, fmt.Errorf("%w: afpacket cannot capture on \"any\"; use the pcap engine", ErrEngineUnavailable)
	}
	ifc, err := net.InterfaceByName(opts.Interface)
	if err != nil {
		return nil, noSuchInterface(opts.Interface)
	}
	t, err := interfaceType(opts.Interface)
	if err != nil {
		return nil, openError(opts.Interface, err)
	}
	if t != arphrdEther && t != arphrdLoopback {
		return nil, fmt.Errorf("%w: afpacket supports Ethernet and loopback interfaces only, %s has ARPHRD type %s; use the pcap engine",
			ErrEngineUnavailable, opts.Interface, t)
	}
	prog, err := afpacketProgram(opts.Snaplen, opts.Filter, ifc.Flags&net.FlagLoopback != 0)
	if err != nil {
		return nil, err
	}
	blocks := opts.BufferSize / afpBlockSize
	if blocks < afpMinBlocks {
		blocks = afpMinBlocks
	}
	wait := opts.Timeout
	if wait > afpMaxBlockWait {
		wait = afpMaxBlockWait
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(opts.Interface),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptSocketType(afpacket.SocketRaw),
		afpacket.OptFrameSize(afpFrameSize),
		afpacket.OptBlockSize(afpBlockSize),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptBlockTimeout(wait),
		afpacket.OptPollTimeout(opts.Timeout),
		afpacket.OptAddVLANHeader(false),
	)
	if err != nil {
		return nil, openError(opts.Interface, err)
	}
	if err := tp.SetBPF(prog); err != nil {
		tp.Close()
		return nil, openError(opts.Interface, fmt.Errorf("attach filter: %w", err))
	}
	src := &afpacketSource{name: opts.Interface, tp: tp, promisc: -1, filteredFrom: time.Now().UnixNano()}
	if opts.Promisc {
		fd, err := promiscSocket(ifc.Index)
		if err != nil {
			tp.Close()
			return nil, openError(opts.Interface, err)
		}
		src.promisc = fd
	}
	return src, nil
}

// promiscSocket puts an interface in promiscuous mode for as long as the
// returned socket is open: a PACKET_MR_PROMISC membership, which the
// kernel drops with the socket, so a crash cannot leave the interface
// promiscuous. The socket has protocol 0, so it receives nothing itself.
func promiscSocket(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("promiscuous mode: %w", err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("promiscuous mode: %w", err)
	}
	return fd, nil
}

// afpacketProgram builds the kernel BPF program: the user's filter compiled
// by libpcap for Ethernet, returning snaplen for accepted packets (the
// kernel copies no more than that), preceded on loopback by a check of the
// packet-type ancillary field that drops PACKET_OUTGOING, since AF_PACKET
// sees each loopback packet twice (libpcap drops the same copy).
func afpacketProgram(snaplen int, filter string, loopback bool) ([]bpf.RawInstruction, error) {
	user, err := compileFilter(layers.LinkTypeEthernet, snaplen, filter)
	if err != nil {
		return nil, err
	}
	var prog []bpf.RawInstruction
	if loopback {
		// Forward jumps are relative, so the user's program is unchanged
		// when these three instructions are put in front of it.
		head, err := bpf.Assemble([]bpf.Instruction{
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: 0},
		})
		if err != nil {
			return nil, fmt.Errorf("assemble loopback filter: %w", err)
		}
		prog = append(prog, head...)
	}
	for _, in := range user {
		prog = append(prog, bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K})
	}
	return prog, nil
}

// ReadPacket implements Source.
func (s *afpacketSource) ReadPacket() ([]byte, Info, error) {
	if s.stopping.Load() {
		return nil, Info{}, io.EOF
	}
	s.mu.Lock()
	if s.tp == nil {
		s.mu.Unlock()
		return nil, Info{}, io.EOF
	}
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	for err == nil && s.filteredFrom != 0 {
		if ci.Timestamp.UnixNano() >= s.filteredFrom {
			s.filteredFrom = 0
			break
		}
		data, ci, err = s.tp.ZeroCopyReadPacketData()
	}
	s.mu.Unlock()
	if err != nil {
		if s.stopping.Load() {
			return nil, Info{}, io.EOF
		}
		if err == afpacket.ErrTimeout {
			return nil, Info{}, ErrTimeout
		}
		return nil, Info{}, fmt.Errorf("capture on %s: %s", s.name, lowerFirst(err.Error()))
	}
	return data, Info{Timestamp: ci.Timestamp, CaptureLength: ci.CaptureLength, Length: ci.Length}, nil
}

// LinkType implements Source: SOCK_RAW on Ethernet and loopback
// interfaces delivers Ethernet frames.
func (s *afpacketSource) LinkType() int { return int(layers.LinkTypeEthernet) }

// Name implements Source.
func (s *afpacketSource) Name() string { return s.name }

// Engine implements LiveSource.
func (s *afpacketSource) Engine() Engine { return EngineAFPacket }

// Stats implements Source, from the socket's PACKET_STATISTICS (which the
// kernel resets on each read; gopacket accumulates them). Received counts
// the packets the filter accepted, dropped ones included, as libpcap does.
func (s *afpacketSource) Stats() (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tp == nil {
		return Stats{}, fmt.Errorf("capture on %s: stats: source closed", s.name)
	}
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture on %s: stats: %w", s.name, err)
	}
	return Stats{Received: uint64(v3.Packets()), Dropped: uint64(v3.Drops())}, nil
}

// Close implements Source. It waits for a ReadPacket blocked in another
// goroutine to return (at most the read timeout), then unmaps the ring.
func (s *afpacketSource) Close() error {
	s.stopping.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tp != nil {
		s.tp.Close()
		s.tp = nil
	}
	if s.promisc >= 0 {
		unix.Close(s.promisc)
		s.promisc = -1
	}
	return nil
}
