package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// roundTripCases are the capture formats a reader must read back exactly.
func roundTripCases(t *testing.T, pkts []testPacket) []struct {
	name  string
	bytes []byte
	res   time.Duration // timestamp resolution the format keeps
} {
	pcapMicro := writePcap(t, pkts, false, layers.LinkTypeEthernet)
	pcapng := writePcapng(t, pkts)
	return []struct {
		name  string
		bytes []byte
		res   time.Duration
	}{
		{"pcap micro little-endian", pcapMicro, time.Microsecond},
		{"pcap nano little-endian", writePcap(t, pkts, true, layers.LinkTypeEthernet), time.Nanosecond},
		{"pcap micro big-endian", writePcapBE(t, pkts, false), time.Microsecond},
		{"pcap nano big-endian", writePcapBE(t, pkts, true), time.Nanosecond},
		{"pcapng", pcapng, time.Nanosecond}, // pcapgo's NgWriter writes nanoseconds
		{"gzip pcap", gzipped(t, pcapMicro), time.Microsecond},
		{"gzip pcapng", gzipped(t, pcapng), time.Nanosecond},
	}
}

// checkPackets compares packets read back with those written.
func checkPackets(t *testing.T, got, want []testPacket, res time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !bytes.Equal(g.data, w.data) {
			t.Fatalf("packet %d: data differs", i)
		}
		if g.ci.CaptureLength != w.ci.CaptureLength || g.ci.Length != w.ci.Length {
			t.Fatalf("packet %d: lengths %d/%d, want %d/%d", i,
				g.ci.CaptureLength, g.ci.Length, w.ci.CaptureLength, w.ci.Length)
		}
		if wt := w.ci.Timestamp.Truncate(res); !g.ci.Timestamp.Equal(wt) {
			t.Fatalf("packet %d: timestamp %v, want %v", i, g.ci.Timestamp, wt)
		}
	}
}

func TestReadRoundTrip(t *testing.T) {
	pkts := testPackets(t, 300)
	for _, tc := range roundTripCases(t, pkts) {
		t.Run(tc.name, func(t *testing.T) {
			src, err := NewReader(bytes.NewReader(tc.bytes), "trace", "")
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.LinkType() != int(layers.LinkTypeEthernet) || src.Name() != "trace" {
				t.Fatalf("link type %d name %q, want 1 and trace", src.LinkType(), src.Name())
			}
			got, err := readAll(src)
			if err != io.EOF {
				t.Fatalf("reading ended with %v, want io.EOF", err)
			}
			checkPackets(t, got, pkts, tc.res)
			if _, err := src.ReadPacket(new(Info)); err != io.EOF {
				t.Fatalf("read after the end: %v, want io.EOF", err)
			}
			if st, err := src.Stats(); err != nil || st != (Stats{}) {
				t.Fatalf("file stats %+v, %v; want zeros", st, err)
			}
		})
	}
}

func TestOpenFileDetectsFormatByContent(t *testing.T) {
	pkts := testPackets(t, 50)
	dir := t.TempDir()
	for i, tc := range roundTripCases(t, pkts) {
		// A misleading name: detection must go by the magic bytes.
		path := filepath.Join(dir, "capture"+string(rune('a'+i))+".txt")
		if err := os.WriteFile(path, tc.bytes, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := OpenFile(path, "")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := readAll(src)
		if err != io.EOF {
			t.Fatalf("%s: reading ended with %v", tc.name, err)
		}
		checkPackets(t, got, pkts, tc.res)
		if src.Name() != path {
			t.Fatalf("name %q, want %q", src.Name(), path)
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "trace.pcap")
	_, err := OpenFile(missing, "")
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "open "+missing+": no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	for _, tc := range []struct {
		name, file string
		want       string
	}{
		{"text", write("x.txt", []byte("hello, this is not a capture\n")), "x.txt: not a pcap or pcapng file"},
		{"short", write("short.bin", []byte{1, 2}), "short.bin: not a pcap or pcapng file"},
		{"empty", write("empty.pcap", nil), "empty.pcap: empty file, not a pcap or pcapng file"},
		{"gzip text", write("t.gz", gzipped(t, []byte("just text, compressed"))), "t.gz: not a pcap or pcapng file"},
		{"empty gzip", write("e.gz", gzipped(t, nil)), "e.gz: empty gzip stream, not a pcap or pcapng file"},
		{"pcap header cut", write("cut.pcap", writePcap(t, nil, false, 1)[:20]), "cut.pcap: truncated capture after 0 packets: unexpected EOF"},
	} {
		_, err := OpenFile(tc.file, "")
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one ending in %q", tc.name, err, tc.want)
		}
	}
}

// pcapBoundaries returns the offsets where each pcap record ends.
func pcapBoundaries(b []byte) []int {
	var ends []int
	for off := 24; off+16 <= len(b); {
		off += 16 + int(binary.LittleEndian.Uint32(b[off+8:]))
		ends = append(ends, off)
	}
	return ends
}

// pcapngBoundaries returns the offsets where each block ends and which of
// them are packet blocks.
func pcapngBoundaries(b []byte) (ends []int, packet []bool) {
	for off := 0; off+8 <= len(b); {
		typ := binary.LittleEndian.Uint32(b[off:])
		off += int(binary.LittleEndian.Uint32(b[off+4:]))
		ends = append(ends, off)
		packet = append(packet, typ == ngEnhancedPacket)
	}
	return ends, packet
}

// TestTruncatedCapture cuts files at every byte and checks that the packets
// before the cut come back, then an error naming their count.
func TestTruncatedCapture(t *testing.T) {
	pkts := testPackets(t, 5)
	check := func(t *testing.T, name string, b []byte, cut, complete int, atEnd bool) {
		t.Helper()
		src, err := NewReader(bytes.NewReader(b[:cut]), name, "")
		if err != nil {
			t.Fatalf("cut at %d: open: %v", cut, err)
		}
		got, err := readAll(src)
		if len(got) != complete {
			t.Fatalf("cut at %d: %d packets, want %d", cut, len(got), complete)
		}
		if atEnd {
			if err != io.EOF {
				t.Fatalf("cut at %d (a record boundary): %v, want io.EOF", cut, err)
			}
			return
		}
		want := name + ": truncated capture after " + itoa(complete) + " packets: unexpected EOF"
		if err == nil || err.Error() != want || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: error %v, want %q", cut, err, want)
		}
		if _, again := src.ReadPacket(new(Info)); again != err {
			t.Fatalf("cut at %d: error not repeated: %v", cut, again)
		}
	}
	t.Run("pcap", func(t *testing.T) {
		b := writePcap(t, pkts, false, layers.LinkTypeEthernet)
		ends := pcapBoundaries(b)
		for cut := 24; cut <= len(b); cut++ {
			complete, atEnd := 0, cut == 24
			for _, e := range ends {
				if e <= cut {
					complete++
				}
				atEnd = atEnd || e == cut
			}
			check(t, "trace.pcap", b, cut, complete, atEnd)
		}
	})
	t.Run("pcapng", func(t *testing.T) {
		b := writePcapng(t, pkts)
		ends, isPacket := pcapngBoundaries(b)
		headerEnd := ends[1] // section header and interface description
		for cut := 0; cut < headerEnd; cut++ {
			if _, err := NewReader(bytes.NewReader(b[:cut]), "trace.pcapng", ""); err == nil {
				t.Fatalf("cut at %d, inside the headers: no error", cut)
			}
		}
		for cut := headerEnd; cut <= len(b); cut++ {
			complete, atEnd := 0, false
			for i, e := range ends {
				if e <= cut && isPacket[i] {
					complete++
				}
				atEnd = atEnd || e == cut
			}
			check(t, "trace.pcapng", b, cut, complete, atEnd)
		}
	})
	t.Run("gzip", func(t *testing.T) {
		b := gzipped(t, writePcap(t, pkts, false, layers.LinkTypeEthernet))
		src, err := NewReader(bytes.NewReader(b[:len(b)*2/3]), "trace.pcap.gz", "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(src)
		if err == nil || !strings.HasPrefix(err.Error(), "trace.pcap.gz: truncated capture after "+itoa(len(got))+" packets") {
			t.Fatalf("truncated gzip: %d packets, error %v", len(got), err)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFileFilter(t *testing.T) {
	var pkts []testPacket
	add := func(frame []byte) {
		pkts = append(pkts, testPacket{data: frame, ci: gopacket.CaptureInfo{
			Timestamp: time.Unix(1700000000, int64(len(pkts))*1000), CaptureLength: len(frame), Length: len(frame)}})
	}
	add(udpFrame(t, 40000, 80, 100, 0)) // match
	add(udpFrame(t, 40000, 53, 101, 0))
	add(udpFrame(t, 40000, 80, 102, 1)) // match: 802.1Q
	add(udpFrame(t, 40000, 53, 103, 1))
	add(udpFrame(t, 40000, 80, 104, 2)) // match: QinQ
	add(udpFrame(t, 80, 40001, 105, 0)) // match: source port
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"pcap", writePcap(t, pkts, false, layers.LinkTypeEthernet)},
		{"pcapng", writePcapng(t, pkts)},
	} {
		src, err := NewReader(bytes.NewReader(tc.b), tc.name, "udp port 80")
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(src)
		if err != io.EOF {
			t.Fatal(err)
		}
		var lens []int
		for _, g := range got {
			lens = append(lens, g.ci.Length)
		}
		want := []int{pkts[0].ci.Length, pkts[2].ci.Length, pkts[4].ci.Length, pkts[5].ci.Length}
		if len(lens) != len(want) {
			t.Fatalf("%s: filtered lengths %v, want %v", tc.name, lens, want)
		}
		for i := range want {
			if lens[i] != want[i] {
				t.Fatalf("%s: filtered lengths %v, want %v", tc.name, lens, want)
			}
		}
	}

	_, err := NewReader(bytes.NewReader(writePcap(t, pkts, false, layers.LinkTypeEthernet)), "f", "port 99999")
	if !errors.Is(err, ErrBadFilter) || !strings.HasPrefix(err.Error(), `bad filter "port 99999": `) {
		t.Fatalf("bad filter: %v", err)
	}
}

// TestFileFilterRawIP checks that a filter compiles for a raw-IP file
// (LINKTYPE_RAW 101, which libpcap compiles as DLT_RAW), where "vlan" does
// not exist.
func TestFileFilterRawIP(t *testing.T) {
	frame := udpFrame(t, 1, 80, 5, 0)[14:] // strip Ethernet
	other := udpFrame(t, 1, 53, 5, 0)[14:]
	pkts := []testPacket{
		{data: frame, ci: gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: len(frame), Length: len(frame)}},
		{data: other, ci: gopacket.CaptureInfo{Timestamp: time.Unix(2, 0), CaptureLength: len(other), Length: len(other)}},
	}
	src, err := NewReader(bytes.NewReader(writePcap(t, pkts, false, layers.LinkTypeRaw)), "raw.pcap", "udp port 80")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(src)
	if err != io.EOF || len(got) != 1 || src.LinkType() != 101 {
		t.Fatalf("raw IP: %d packets, %v, link type %d; want 1, EOF, 101", len(got), err, src.LinkType())
	}
}

// TestPcapngMixedLinkTypes: a pcapng file whose interfaces have different
// link types is refused with an error once a packet of the second shows.
func TestPcapngMixedLinkTypes(t *testing.T) {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	cooked, err := w.AddInterface(pcapgo.NgInterface{Name: "any", LinkType: layers.LinkTypeLinuxSLL, SnapLength: 65535})
	if err != nil {
		t.Fatal(err)
	}
	frame := udpFrame(t, 1, 2, 3, 0)
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(5, 0), CaptureLength: len(frame), Length: len(frame)}
	if err := w.WritePacket(ci, frame); err != nil {
		t.Fatal(err)
	}
	ci.InterfaceIndex = cooked
	if err := w.WritePacket(ci, frame); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	src, err := NewReader(&b, "mixed.pcapng", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(src)
	if len(got) != 1 || err == nil || !strings.Contains(err.Error(), "different link types after 1 packets") {
		t.Fatalf("mixed link types: %d packets, error %v", len(got), err)
	}
}

// TestFileCloseStopsReading: after Close a file source returns io.EOF.
func TestFileCloseStopsReading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.pcap")
	if err := os.WriteFile(path, writePcap(t, testPackets(t, 2000), false, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ReadPacket(new(Info)); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// The buffered part may still come out; then io.EOF, not an error.
	for i := 0; ; i++ {
		_, err := src.ReadPacket(new(Info))
		if err == io.EOF {
			break
		}
		if err != nil || i > 2000 {
			t.Fatalf("after close: %v (packet %d)", err, i)
		}
	}
}
