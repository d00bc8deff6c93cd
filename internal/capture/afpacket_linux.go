package capture

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Ring geometry for the AF_PACKET engine. The kernel fills a block with
// as many packets as fit and hands it over when it is full or after the
// block timeout; the ring is BufferSize bytes of such blocks. Each
// hand-over wakes the reader, and a wake-up costs a Go program far more
// than a packet does, so blocks are as large as leaves the ring at least
// afpMinBlocks of them: at 100k packets/s on lo, 1 MiB blocks cost 131 ns
// of CPU per packet against 170-190 with 256 KiB ones (docs/PERFORMANCE.md).
const (
	afpMaxBlockSize = 1 << 20  // a power of two, and a multiple of the page size
	afpMinBlockSize = 64 << 10 // likewise
	afpFrameSize    = 2048     // V3 packs packets; this only sets tp_frame_nr
	afpMinBlocks    = 4
)

// ringGeometry splits a ring of about size bytes into blocks: the largest
// power-of-two block size up to afpMaxBlockSize that gives afpMinBlocks
// blocks or more.
func ringGeometry(size int) (blockSize, blocks int) {
	blockSize = afpMaxBlockSize
	for blockSize > afpMinBlockSize && size/blockSize < afpMinBlocks {
		blockSize /= 2
	}
	return blockSize, max(size/blockSize, afpMinBlocks)
}

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
	if opts.Timeout == 0 {
		opts.Timeout = DefaultWakeableTimeout
	}
	blockSize, blocks := ringGeometry(opts.BufferSize)
	hold := opts.HoldTime
	if hold <= 0 {
		hold = DefaultHoldTime
	}
	wait := min(opts.Timeout, hold)
	r, err := openRing(ringConfig{
		ifindex:   ifc.Index,
		name:      opts.Interface,
		filter:    prog,
		blockSize: blockSize,
		blocks:    blocks,
		frameSize: afpFrameSize,
		blockWait: wait,
		timeout:   opts.Timeout,
		promisc:   opts.Promisc,
	})
	if err != nil {
		return nil, openError(opts.Interface, err)
	}
	return r, nil
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
