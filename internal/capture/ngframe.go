package capture

import (
	"encoding/binary"
	"fmt"
	"io"
)

// pcapng block types and limits that ngFraming checks.
const (
	ngSectionHeader     = 0x0A0D0D0A
	ngByteOrderMagic    = 0x1A2B3C4D
	ngInterfaceDesc     = 0x00000001
	ngPacketObsolete    = 0x00000002
	ngSimplePacket      = 0x00000003
	ngEnhancedPacket    = 0x00000006
	ngMaxPacket         = 16 << 20 // no real packet or snaplen comes near
	ngFramingHeaderSize = 24
)

// ngFraming sits between a pcapng byte stream and pcapgo's NgReader and
// follows the block framing as the bytes go by. It serves two purposes:
//
//   - at end of input it tells whether the stream ended on a block boundary
//     (a complete file) or inside a block (a truncated one), which NgReader's
//     io.EOF does not say;
//   - it refuses blocks whose lengths would make NgReader allocate more than
//     any real packet needs (a packet length beyond its block, a snaplen or
//     packet length above 16 MiB), so corrupt input gives an error rather
//     than a multi-gigabyte buffer.
//
// Block layout (all blocks): type u32, total length u32, body, total
// length u32. The byte order is set by each section header's magic.
type ngFraming struct {
	r         io.Reader
	hdr       [ngFramingHeaderSize]byte
	nhdr      int    // header bytes collected of the current block
	need      int    // header bytes wanted for the current block (0: unknown yet)
	length    uint32 // total length of the current block, once known
	remain    uint64 // body bytes of the current block still to pass
	bigEndian bool
	err       error // a refused block: returned by the next Read
}

// Read implements io.Reader.
func (w *ngFraming) Read(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.r.Read(p)
	if k, ferr := w.track(p[:n]); ferr != nil {
		w.err = ferr
		// Hand out the bytes before the refused block; its header
		// bytes that already went out cannot complete it.
		return k, nil
	}
	return n, err
}

// atBoundary reports whether the bytes seen so far end exactly at the end
// of a block.
func (w *ngFraming) atBoundary() bool {
	return w.err == nil && w.nhdr == 0 && w.remain == 0
}

// track follows the framing over b. On a refused block it returns the
// offset in b where that block's bytes end the usable prefix.
func (w *ngFraming) track(b []byte) (int, error) {
	off := 0
	for off < len(b) {
		if w.remain > 0 {
			k := uint64(len(b) - off)
			if k > w.remain {
				k = w.remain
			}
			w.remain -= k
			off += int(k)
			continue
		}
		start := off - w.nhdr // where this block began (may be < 0: earlier Read)
		want := w.need
		if want == 0 {
			want = 12 // type, length, and a section header's byte-order magic
		}
		k := copy(w.hdr[w.nhdr:want], b[off:])
		w.nhdr += k
		off += k
		if w.nhdr < want {
			continue
		}
		if w.need == 0 {
			length, err := w.blockLength()
			if err != nil {
				return max(start, 0), err
			}
			w.length = length
			w.need = min(ngFramingHeaderSize, int(length))
			if w.nhdr < w.need {
				continue
			}
		}
		if err := w.check(); err != nil {
			return max(start, 0), err
		}
		w.remain = uint64(w.length) - uint64(w.nhdr)
		w.nhdr, w.need = 0, 0
	}
	return off, nil
}

// u32 decodes a header field in the section's byte order.
func (w *ngFraming) u32(at int) uint32 {
	if w.bigEndian {
		return binary.BigEndian.Uint32(w.hdr[at:])
	}
	return binary.LittleEndian.Uint32(w.hdr[at:])
}

// blockLength reads the block's total length from its first 12 bytes,
// taking the byte order from a section header.
func (w *ngFraming) blockLength() (uint32, error) {
	if binary.LittleEndian.Uint32(w.hdr[0:]) == ngSectionHeader {
		switch {
		case binary.BigEndian.Uint32(w.hdr[8:]) == ngByteOrderMagic:
			w.bigEndian = true
		case binary.LittleEndian.Uint32(w.hdr[8:]) == ngByteOrderMagic:
			w.bigEndian = false
		default:
			return 0, fmt.Errorf("pcapng section header with bad byte-order magic %#x", w.hdr[8:12])
		}
	}
	length := w.u32(4)
	if length < 12 || length%4 != 0 {
		return 0, fmt.Errorf("pcapng block of type %#x has bad length %d", w.u32(0), length)
	}
	return length, nil
}

// check refuses blocks that would make NgReader allocate absurd buffers.
func (w *ngFraming) check() error {
	length := uint64(w.u32(4))
	switch w.u32(0) {
	case ngInterfaceDesc:
		if length >= 16 {
			if snap := w.u32(12); snap > ngMaxPacket {
				return fmt.Errorf("pcapng interface snaplen %d too large", snap)
			}
		}
	case ngEnhancedPacket, ngPacketObsolete:
		if length < 32 {
			return fmt.Errorf("pcapng packet block length %d too short", length)
		}
		caplen := uint64(w.u32(20))
		if caplen > length-32 {
			return fmt.Errorf("pcapng packet of %d bytes does not fit its %d-byte block", caplen, length)
		}
		if caplen > ngMaxPacket {
			return fmt.Errorf("pcapng packet of %d bytes too large", caplen)
		}
	case ngSimplePacket:
		if length < 16 {
			return fmt.Errorf("pcapng simple packet block length %d too short", length)
		}
		if orig := w.u32(8); orig > ngMaxPacket {
			return fmt.Errorf("pcapng simple packet length %d too large", orig)
		}
	}
	return nil
}
