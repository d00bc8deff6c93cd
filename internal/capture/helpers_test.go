package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// testPacket is a packet to write into a capture and expect back.
type testPacket struct {
	data []byte // what the file holds (CaptureLength bytes)
	ci   gopacket.CaptureInfo
}

// vlanTags says how many 802.1Q tags udpFrame puts in front of IPv4.
type vlanTags int

// udpFrame builds an Ethernet/IPv4/UDP frame with a payload of n bytes.
func udpFrame(t testing.TB, sport, dport uint16, n int, tags vlanTags) []byte {
	t.Helper()
	eth := &layers.Ethernet{
		SrcMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 1},
		DstMAC:       net.HardwareAddr{0x02, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4,
	}
	ip := &layers.IPv4{
		Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: net.IP{10, 0, 0, 1}, DstIP: net.IP{10, 0, 0, 2},
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	payload := gopacket.Payload(bytes.Repeat([]byte{0xab}, n))
	var ls []gopacket.SerializableLayer
	switch tags {
	case 0:
		ls = []gopacket.SerializableLayer{eth, ip, udp, payload}
	case 1:
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = []gopacket.SerializableLayer{eth,
			&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, ip, udp, payload}
	case 2:
		eth.EthernetType = layers.EthernetTypeQinQ
		ls = []gopacket.SerializableLayer{eth,
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, ip, udp, payload}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testPackets makes n packets of varying sizes, some cut short as if by a
// snaplen of 100, with timestamps that have nanoseconds (a microsecond
// file keeps only the microseconds).
func testPackets(t testing.TB, n int) []testPacket {
	t.Helper()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pkts := make([]testPacket, n)
	for i := range pkts {
		frame := udpFrame(t, uint16(40000+i), 53, 10+i%97, 0)
		ci := gopacket.CaptureInfo{
			Timestamp:     base.Add(time.Duration(i)*1234567*time.Nanosecond + 89),
			CaptureLength: len(frame),
			Length:        len(frame),
		}
		if len(frame) > 100 && i%3 == 0 {
			frame = frame[:100]
			ci.CaptureLength = 100
		}
		pkts[i] = testPacket{data: frame, ci: ci}
	}
	return pkts
}

// writePcap writes a pcap file (little-endian) with pcapgo.
func writePcap(t testing.TB, pkts []testPacket, nano bool, link layers.LinkType) []byte {
	t.Helper()
	var b bytes.Buffer
	var w *pcapgo.Writer
	if nano {
		w = pcapgo.NewWriterNanos(&b)
	} else {
		w = pcapgo.NewWriter(&b)
	}
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// writePcapBE writes a big-endian pcap file by hand (pcapgo only writes
// little-endian ones).
func writePcapBE(t testing.TB, pkts []testPacket, nano bool) []byte {
	t.Helper()
	var b bytes.Buffer
	be := binary.BigEndian
	hdr := make([]byte, 24)
	magic := uint32(magicPcapMicro)
	if nano {
		magic = magicPcapNano
	}
	be.PutUint32(hdr[0:], magic)
	be.PutUint16(hdr[4:], 2)
	be.PutUint16(hdr[6:], 4)
	be.PutUint32(hdr[16:], 65535)
	be.PutUint32(hdr[20:], uint32(layers.LinkTypeEthernet))
	b.Write(hdr)
	for _, p := range pkts {
		rec := make([]byte, 16)
		frac := uint32(p.ci.Timestamp.Nanosecond() / 1000)
		if nano {
			frac = uint32(p.ci.Timestamp.Nanosecond())
		}
		be.PutUint32(rec[0:], uint32(p.ci.Timestamp.Unix()))
		be.PutUint32(rec[4:], frac)
		be.PutUint32(rec[8:], uint32(p.ci.CaptureLength))
		be.PutUint32(rec[12:], uint32(p.ci.Length))
		b.Write(rec)
		b.Write(p.data)
	}
	return b.Bytes()
}

// writePcapng writes a pcapng file with pcapgo, with an interface
// statistics block after the first half of the packets and one at the end
// (as dumpcap writes), so readers meet blocks that are not packets.
func writePcapng(t testing.TB, pkts []testPacket) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	stats := func(n int) {
		if err := w.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
			LastUpdate: time.Unix(1700000000, 0), PacketsReceived: uint64(n)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range pkts {
		if i == len(pkts)/2 {
			stats(i)
		}
		if err := w.WritePacket(p.ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	stats(len(pkts))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gzipped compresses b.
func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// readAll reads src to its end and returns the packets (copied) and the
// error that ended the reading (io.EOF at a clean end).
func readAll(src Source) ([]testPacket, error) {
	var got []testPacket
	for {
		var info Info
		data, err := src.ReadPacket(&info)
		if err != nil {
			return got, err
		}
		got = append(got, testPacket{
			data: append([]byte(nil), data...),
			ci: gopacket.CaptureInfo{Timestamp: info.Timestamp, CaptureLength: info.CaptureLength,
				Length: info.Length},
		})
	}
}
