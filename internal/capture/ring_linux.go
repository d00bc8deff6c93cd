package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ringConfig is what openRing needs to set up a TPACKET_V3 ring.
type ringConfig struct {
	ifindex   int
	name      string
	filter    []bpf.RawInstruction
	blockSize int           // bytes, a multiple of the page size
	blocks    int           // number of blocks
	frameSize int           // only sets tp_frame_nr, which V3 requires
	blockWait time.Duration // the kernel hands over a partly filled block after this
	timeout   time.Duration // ReadPacket returns ErrTimeout after this
	promisc   bool
}

// Reader states of a ring, in ring.state. The reading goroutine owns the
// mapped ring while the state is ringBusy: from the first ReadPacket until
// one returns something other than a packet (a packet's data lives in the
// ring, so the ring must stay mapped while the caller handles it). Close
// tears the ring down itself only when the reader is ringIdle; otherwise
// it sets ringClosing and wakes the reader, which tears it down and
// returns io.EOF. Either way nothing is unmapped under the reader's feet,
// and reading a packet costs one atomic load, no lock.
const (
	ringIdle    int32 = iota // no ReadPacket in progress and no packet out
	ringBusy                 // the reader may be touching the ring
	ringClosing              // Close asked while busy; the reader tears down
	ringClosed               // torn down
)

// Offsets in a TPACKET_V3 block descriptor (struct tpacket_block_desc with
// its tpacket_hdr_v1), which sits at the start of every block.
const (
	blockStatusOff = 8  // block_status: TP_STATUS_KERNEL or TP_STATUS_USER
	blockNumOff    = 12 // num_pkts
	blockFirstOff  = 16 // offset_to_first_pkt
)

// ring is a live capture from an AF_PACKET socket with a TPACKET_V3 ring,
// read without gopacket or libpcap: the kernel writes whole blocks of
// packets into memory shared with porttop and sets each block's status;
// ReadPacket walks the packets of a block in place and gives the block back
// when it is done. Waiting for a block goes through Go's netpoller (the
// socket is a non-blocking *os.File), so a waiting reader parks its
// goroutine instead of blocking a thread in poll(2).
type ring struct {
	name      string
	file      *os.File        // the packet socket
	conn      syscall.RawConn // file's raw access, for waiting and getsockopt
	mem       []byte          // the mapped ring
	cleanup   runtime.Cleanup // unmaps mem if the ring is dropped unclosed
	bsize     int
	nblocks   int
	timeout   time.Duration
	blockWait time.Duration // the kernel's block timeout
	state     atomic.Int32
	woken     atomic.Bool // Wake was called and no wait has returned for it yet

	// Reader's position; only the reading goroutine touches these.
	busy  bool   // this reader set ringBusy
	block int    // the block being read, or waited for
	held  bool   // block is the reader's (TP_STATUS_USER), not yet given back
	off   int    // offset in mem of the next packet of the held block
	left  uint32 // packets of the held block not yet returned
	ready func(fd uintptr) bool
	// holding: the awaited block had packets at the last ErrTimeout;
	// until: waits end by then (WaitUntil), unless zero.
	holding bool
	until   time.Time

	statsMu           sync.Mutex
	received, dropped uint64 // accumulated: the kernel resets its counters on each read
}

// openRing creates the socket, attaches the filter, maps the ring and only
// then binds to the interface, so no packet reaches the ring unfiltered.
func openRing(c ringConfig) (*ring, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	var mem []byte
	fail := func(what string, err error) (*ring, error) {
		if mem != nil {
			unix.Munmap(mem)
		}
		unix.Close(fd)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(c.filter) > 0 {
		prog := unix.SockFprog{Len: uint16(len(c.filter)), Filter: (*unix.SockFilter)(unsafe.Pointer(&c.filter[0]))}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
			return fail("attach filter", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3", err)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(c.blockSize),
		Block_nr:       uint32(c.blocks),
		Frame_size:     uint32(c.frameSize),
		Frame_nr:       uint32(c.blockSize / c.frameSize * c.blocks),
		Retire_blk_tov: uint32(max(c.blockWait/time.Millisecond, 1)),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("ring of "+byteSize(c.blockSize*c.blocks), err)
	}
	mem, err = unix.Mmap(fd, 0, c.blockSize*c.blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("map ring", err)
	}
	if c.promisc {
		// The membership goes away with the socket, so a crash cannot
		// leave the interface promiscuous.
		mreq := unix.PacketMreq{Ifindex: int32(c.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("promiscuous mode", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: c.ifindex}); err != nil {
		return fail("bind", err)
	}
	// A non-blocking descriptor makes a pollable *os.File.
	file := os.NewFile(uintptr(fd), "packet:"+c.name)
	conn, err := file.SyscallConn()
	if err != nil {
		unix.Munmap(mem)
		file.Close()
		return nil, fmt.Errorf("socket: %w", err)
	}
	r := &ring{name: c.name, file: file, conn: conn, mem: mem, bsize: c.blockSize, nblocks: c.blocks, timeout: c.timeout, blockWait: c.blockWait}
	r.ready = r.blockReady
	r.cleanup = runtime.AddCleanup(r, func(m []byte) { unix.Munmap(m) }, mem)
	return r, nil
}

// htons converts a 16-bit value to network byte order.
func htons(v uint16) uint16 {
	var b [2]byte
	b[0], b[1] = byte(v>>8), byte(v)
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

// byteSize formats a ring size for an error message.
func byteSize(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// blockStatus is the status word of block b, read atomically: the kernel
// writes the block's packets before it sets TP_STATUS_USER.
func (r *ring) blockStatus(b int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[b*r.bsize+blockStatusOff]))
}

// blockReady is the netpoller's condition: the awaited block is ours.
func (r *ring) blockReady(uintptr) bool {
	return atomic.LoadUint32(r.blockStatus(r.block))&unix.TP_STATUS_USER != 0
}

// ReadPacket implements Source. The data points into the ring and stays
// valid until the next call.
func (r *ring) ReadPacket(ci *Info) ([]byte, error) {
	if !r.busy {
		if !r.state.CompareAndSwap(ringIdle, ringBusy) {
			return nil, io.EOF
		}
		r.busy = true
	}
	for {
		if r.state.Load() != ringBusy {
			r.teardown()
			return nil, io.EOF
		}
		if r.left > 0 {
			return r.next(ci), nil
		}
		if r.held {
			// Give the block back and move on to the next one.
			atomic.StoreUint32(r.blockStatus(r.block), unix.TP_STATUS_KERNEL)
			r.held = false
			r.block++
			if r.block == r.nblocks {
				r.block = 0
			}
		}
		if err := r.wait(); err != nil {
			return nil, r.idle(err)
		}
		base := r.block * r.bsize
		r.held = true
		r.left = *(*uint32)(unsafe.Pointer(&r.mem[base+blockNumOff]))
		r.off = base + int(*(*uint32)(unsafe.Pointer(&r.mem[base+blockFirstOff])))
	}
}

// next returns the packet at r.off in the held block, fills *ci, and
// steps past it.
func (r *ring) next(ci *Info) []byte {
	h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&r.mem[r.off]))
	start := r.off + int(h.Mac)
	data := r.mem[start : start+int(h.Snaplen) : start+int(h.Snaplen)]
	length := int(h.Len)
	if h.Status&unix.TP_STATUS_VLAN_VALID != 0 {
		// The driver took the 802.1Q tag off the frame into metadata;
		// it was on the wire.
		length += 4
	}
	ci.Timestamp = time.Unix(int64(h.Sec), int64(h.Nsec))
	ci.CaptureLength, ci.Length = len(data), length
	r.left--
	r.off += int(h.Next_offset)
	return data
}

// wait waits until the reader's block is handed over, for at most the read
// timeout. It returns ErrTimeout when none came.
func (r *ring) wait() error {
	if r.blockReady(0) {
		return nil
	}
	deadline := time.Now().Add(r.timeout)
	if !r.until.IsZero() && r.until.Before(deadline) {
		deadline = r.until
	}
	if err := r.file.SetReadDeadline(deadline); err != nil {
		return err
	}
	// Close and Wake set their flag before they move the deadline into
	// the past, so either these loads see it or the wait below is cut
	// short.
	if r.state.Load() != ringBusy {
		return io.EOF
	}
	if r.woken.Swap(false) {
		return r.timedOut()
	}
	err := r.conn.Read(r.ready)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return r.timedOut()
	}
	return err
}

// timedOut notes, for Holding, whether the kernel's current block (the
// one awaited) has packets, and returns ErrTimeout. The kernel counts a
// packet in the block before it copies it in, so a packet that arrived
// before this call is seen.
func (r *ring) timedOut() error {
	r.holding = atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.mem[r.block*r.bsize+blockNumOff]))) != 0
	return ErrTimeout
}

// HoldTime implements Holder: the kernel hands a partly filled block over
// after the ring's block timeout.
func (r *ring) HoldTime() time.Duration { return r.blockWait }

// Holding implements Holder.
func (r *ring) Holding() bool { return r.holding }

// WaitUntil implements Holder.
func (r *ring) WaitUntil(t time.Time) { r.until = t }

// idle ends a ReadPacket that returns no packet: the reader lets go of the
// ring, or tears it down when Close asked meanwhile (returning io.EOF).
func (r *ring) idle(err error) error {
	r.busy = false
	if r.state.CompareAndSwap(ringBusy, ringIdle) {
		if err == ErrTimeout {
			return err
		}
		return fmt.Errorf("capture on %s: %w", r.name, err)
	}
	r.teardown()
	return io.EOF
}

// teardown unmaps the ring and closes the socket. It runs once: in the
// reader, or in Close when no reader holds the ring.
func (r *ring) teardown() {
	r.busy, r.held, r.left = false, false, 0
	r.state.Store(ringClosed)
	r.cleanup.Stop()
	unix.Munmap(r.mem)
	r.mem = nil
	r.file.Close()
}

// Close implements Source. It may be called from another goroutine while
// ReadPacket waits or the caller handles a packet: the reader then tears
// the ring down at its next step and returns io.EOF. (Should no
// ReadPacket follow a Close made while a packet was out, the ring and the
// socket are released when the source is garbage collected.)
func (r *ring) Close() error {
	for {
		switch s := r.state.Load(); s {
		case ringIdle:
			if r.state.CompareAndSwap(ringIdle, ringClosed) {
				r.cleanup.Stop()
				unix.Munmap(r.mem)
				r.file.Close()
				return nil
			}
		case ringBusy:
			if r.state.CompareAndSwap(ringBusy, ringClosing) {
				// Cut a wait short; the reader sees ringClosing.
				r.file.SetReadDeadline(time.Unix(1, 0))
				return nil
			}
		default:
			return nil
		}
	}
}

// Wake implements Waker. It may be called from any goroutine.
func (r *ring) Wake() {
	r.woken.Store(true)
	r.file.SetReadDeadline(time.Unix(1, 0))
}

// LinkType implements Source: SOCK_RAW on Ethernet and loopback
// interfaces delivers Ethernet frames.
func (r *ring) LinkType() int { return int(layers.LinkTypeEthernet) }

// Name implements Source.
func (r *ring) Name() string { return r.name }

// Engine implements LiveSource.
func (r *ring) Engine() Engine { return EngineAFPacket }

// Stats implements Source, from the socket's PACKET_STATISTICS, which the
// kernel resets on each read and which count dropped packets among the
// received ones, as libpcap does. It is safe to call from any goroutine.
func (r *ring) Stats() (Stats, error) {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	var st *unix.TpacketStatsV3
	var gerr error
	err := r.conn.Control(func(fd uintptr) {
		st, gerr = unix.GetsockoptTpacketStatsV3(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS)
	})
	if err == nil {
		err = gerr
	}
	if err != nil {
		if errors.Is(err, os.ErrClosed) {
			err = errors.New("source closed")
		}
		return Stats{}, fmt.Errorf("capture on %s: stats: %w", r.name, err)
	}
	r.received += uint64(st.Packets)
	r.dropped += uint64(st.Drops)
	return Stats{Received: r.received, Dropped: r.dropped}, nil
}
