package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcap"
	"github.com/google/gopacket/pcapgo"
)

// readBufSize is the read buffer for capture files.
const readBufSize = 64 << 10

// Capture file magic numbers, as the first four bytes read little-endian.
const (
	magicPcapMicro   = 0xA1B2C3D4
	magicPcapMicroBE = 0xD4C3B2A1
	magicPcapNano    = 0xA1B23C4D
	magicPcapNanoBE  = 0x4D3CB2A1
)

// linkTypeRaw is LINKTYPE_RAW, which libpcap compiles filters for as its
// DLT_RAW (12 on Linux and most systems).
const (
	linkTypeRaw = 101
	dltRaw      = 12
)

// OpenFile opens a capture file: pcap (either byte order, micro- or
// nanosecond timestamps) or pcapng, either of them gzip-compressed
// (recognised by their magic bytes, whatever the name). filter, when not
// empty, is a BPF expression applied to each packet (VLAN-expanded, see
// FilterExpression).
//
// Errors name the file: a missing file gives os.Open's error ("open
// trace.pcap: no such file or directory"), other input "x.txt: not a pcap
// or pcapng file"; a file cut short yields its packets, then
// "trace.pcap: truncated capture after N packets: unexpected EOF"
// (wrapping io.ErrUnexpectedEOF). A pcapng file whose interfaces have
// different link types fails when the first packet of a second link type
// comes, since a Source has one LinkType.
func OpenFile(path string, filter string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	src, err := newFileSource(f, path, filter, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// NewReader reads a capture from r, as OpenFile reads a file; name is used
// in errors and as the Source's Name. Close does not close r.
func NewReader(r io.Reader, name string, filter string) (Source, error) {
	src, err := newFileSource(r, name, filter, nil)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return src, nil
}

// zeroCopyReader is what pcapgo's Reader and NgReader have in common.
type zeroCopyReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// fileSource reads packets from a capture file.
type fileSource struct {
	name     string
	rd       zeroCopyReader
	framing  *ngFraming // pcapng only: where the blocks end
	linkType int
	match    *pcap.BPF // nil: every packet
	packets  int       // packets read from the file, filtered out or not
	err      error     // sticky: once reading failed, it keeps failing
	file     io.Closer
	closed   atomic.Bool
}

// newFileSource detects the format of r and prepares a reader for it.
func newFileSource(r io.Reader, name, filter string, file io.Closer) (src *fileSource, err error) {
	// pcapgo can panic on corrupt pcapng headers: report it as an error.
	defer func() {
		if p := recover(); p != nil {
			src, err = nil, fmt.Errorf("%s: malformed capture header: %v", name, p)
		}
	}()
	s := &fileSource{name: name, file: file}
	br := bufio.NewReaderSize(r, readBufSize)
	magic, err := br.Peek(4)
	if len(magic) == 0 && err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, not a pcap or pcapng file", name)
	}
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		var gz *gzip.Reader
		if gz, err = gzip.NewReader(br); err != nil {
			return nil, fmt.Errorf("%s: gzip: %s", name, lowerFirst(err.Error()))
		}
		br = bufio.NewReaderSize(gz, readBufSize)
		magic, err = br.Peek(4)
		if len(magic) == 0 && err == io.EOF {
			return nil, fmt.Errorf("%s: empty gzip stream, not a pcap or pcapng file", name)
		}
	}
	if len(magic) < 4 {
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%s: %s", name, lowerFirst(err.Error()))
		}
		return nil, fmt.Errorf("%s: not a pcap or pcapng file", name)
	}
	switch binary.LittleEndian.Uint32(magic) {
	case magicPcapMicro, magicPcapMicroBE, magicPcapNano, magicPcapNanoBE:
		// pcapgo uses br as it is: it is already a large enough bufio.Reader.
		rd, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, s.headerError(err)
		}
		// Like libpcap, accept packets longer than the header's snaplen
		// up to libpcap's maximum; this also bounds pcapgo's buffer.
		rd.SetSnaplen(maxSnaplen)
		s.rd, s.linkType = rd, int(rd.LinkType())
	case ngSectionHeader:
		s.framing = &ngFraming{r: br}
		rd, err := pcapgo.NewNgReader(bufio.NewReaderSize(s.framing, readBufSize),
			pcapgo.NgReaderOptions{ErrorOnMismatchingLinkType: true})
		if err != nil {
			return nil, s.headerError(err)
		}
		s.rd, s.linkType = rd, int(rd.LinkType())
	default:
		return nil, fmt.Errorf("%s: not a pcap or pcapng file", name)
	}
	if s.match, err = newMatcher(filterLinkType(s.linkType), filter); err != nil {
		return nil, err
	}
	return s, nil
}

// filterLinkType maps a file's LINKTYPE_ to the DLT_ libpcap compiles
// filters for, where they differ.
func filterLinkType(linkType int) layers.LinkType {
	if linkType == linkTypeRaw {
		return dltRaw
	}
	return layers.LinkType(linkType)
}

// headerError explains a failure to read the file header.
func (s *fileSource) headerError(err error) error {
	switch {
	case err == io.EOF && s.framing != nil && s.framing.atBoundary():
		return fmt.Errorf("%s: pcapng file has no interface description block", s.name)
	case err == io.EOF, err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%s: truncated capture after 0 packets: %w", s.name, io.ErrUnexpectedEOF)
	case errors.Is(err, pcapgo.ErrNgVersionMismatch):
		return fmt.Errorf("%s: unsupported pcapng version", s.name)
	}
	return fmt.Errorf("%s: malformed capture header: %s", s.name, lowerFirst(err.Error()))
}

// ReadPacket implements Source. At the end of the file it returns io.EOF;
// a file cut short gives, after the packets before the cut, an error that
// wraps io.ErrUnexpectedEOF and says after how many packets.
func (s *fileSource) ReadPacket(info *Info) (data []byte, err error) {
	if s.err != nil {
		return nil, s.err
	}
	// pcapgo can panic on corrupt pcapng blocks: report it as an error.
	defer func() {
		if p := recover(); p != nil {
			s.err = fmt.Errorf("%s: malformed capture after %d packets: %v", s.name, s.packets, p)
			data, err = nil, s.err
		}
	}()
	for {
		d, ci, e := s.rd.ZeroCopyReadPacketData()
		if e != nil {
			s.err = s.readError(e, ci)
			return nil, s.err
		}
		s.packets++
		if s.match != nil && !s.match.Matches(ci, d) {
			continue
		}
		info.Timestamp, info.CaptureLength, info.Length = ci.Timestamp, ci.CaptureLength, ci.Length
		return d, nil
	}
}

// readError classifies an error from the packet reader.
func (s *fileSource) readError(err error, ci gopacket.CaptureInfo) error {
	if s.closed.Load() {
		return io.EOF
	}
	if err == io.EOF {
		clean := ci.CaptureLength == 0 && ci.Length == 0 && ci.Timestamp.IsZero()
		if s.framing != nil {
			clean = s.framing.atBoundary()
		}
		if clean {
			return io.EOF
		}
	}
	switch {
	case err == io.EOF, err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%s: truncated capture after %d packets: %w", s.name, s.packets, io.ErrUnexpectedEOF)
	case errors.Is(err, pcapgo.ErrNgLinkTypeMismatch):
		return fmt.Errorf("%s: pcapng interfaces with different link types after %d packets (the first has %d); not supported: split the file by interface",
			s.name, s.packets, s.linkType)
	}
	return fmt.Errorf("%s: malformed capture after %d packets: %s", s.name, s.packets, lowerFirst(err.Error()))
}

// LinkType implements Source: the file's link type (for pcapng, its first
// interface's; files mixing link types are refused when the mix shows).
func (s *fileSource) LinkType() int { return s.linkType }

// Name implements Source.
func (s *fileSource) Name() string { return s.name }

// Stats implements Source: zeros for a file.
func (s *fileSource) Stats() (Stats, error) { return Stats{}, nil }

// Close implements Source. It closes the file OpenFile opened; NewReader's
// reader is left to its owner. (The gzip reader holds nothing to release.)
// A ReadPacket blocked in another goroutine then returns io.EOF.
func (s *fileSource) Close() error {
	if s.closed.Swap(true) || s.file == nil {
		return nil
	}
	return s.file.Close()
}
