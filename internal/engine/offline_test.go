package engine

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/pcapgen"
	"github.com/porttop/porttop/internal/snapshot"
)

var genStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// reference writes the pcapgen reference scenario to memory.
func reference(t *testing.T) ([]byte, pcapgen.Expect) {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	g := pcapgen.New(w, genStart, 100*time.Millisecond, 0)
	if err := pcapgen.Testdata(g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), g.Expect
}

// collect is a sink that keeps every snapshot.
type collect struct{ snaps []*snapshot.Snapshot }

func (c *collect) Publish(s *snapshot.Snapshot) error {
	c.snaps = append(c.snaps, s)
	return nil
}

func runOffline(t *testing.T, data []byte, cfg Config) ([]*snapshot.Snapshot, error) {
	t.Helper()
	src, err := capture.NewReader(bytes.NewReader(data), "ref.pcap", "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var c collect
	e, err := New(cfg, Inputs{Sources: []capture.Source{src}}, &c)
	if err != nil {
		t.Fatal(err)
	}
	err = e.RunOffline(context.Background())
	return c.snaps, err
}

func TestOfflineExactTotals(t *testing.T) {
	data, want := reference(t)
	snaps, err := runOffline(t, data, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 {
		t.Fatalf("got %d reports, want 1 at end of file", len(snaps))
	}
	s := snaps[0]
	got := make(map[key.Key]snapshot.Counters)
	for _, p := range s.Ports {
		got[p.Key] = p.Total
		if p.Total != p.Delta {
			t.Errorf("%v: single report: total %+v != delta %+v", p.Key, p.Total, p.Delta)
		}
		if p.Connections != want.Conns[p.Key] {
			t.Errorf("%v: connections = %d, want %d", p.Key, p.Connections, want.Conns[p.Key])
		}
	}
	for k, w := range want.Rows {
		if got[k] != w {
			t.Errorf("%v: got %+v, want %+v", k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want.Rows[k]; !ok {
			t.Errorf("unexpected row %v: %+v", k, g)
		}
	}
	if s.Other != want.Other {
		t.Errorf("other = %+v, want %+v", s.Other, want.Other)
	}
	if s.Capture.Packets != want.Packets || s.Capture.Bytes != want.Bytes {
		t.Errorf("capture = %d packets %d bytes, want %d, %d", s.Capture.Packets, s.Capture.Bytes, want.Packets, want.Bytes)
	}
	if s.Capture.Truncated != 1 || s.Capture.DecodeErrors != 1 {
		t.Errorf("truncated=%d decode errors=%d, want 1 and 1", s.Capture.Truncated, s.Capture.DecodeErrors)
	}
	if !s.Start.Equal(genStart) || !s.Offline {
		t.Errorf("start %v offline %v", s.Start, s.Offline)
	}
	// Flows: the HTTPS conversation is one flow with both directions.
	var found bool
	for _, f := range s.Flows {
		if f.Key.Port == 443 {
			found = true
			if f.Local.Port() != 443 || f.Peer.Port() != 51000 {
				t.Errorf("443 flow ends: local %v peer %v", f.Local, f.Peer)
			}
			if f.Total != want.Rows[f.Key] {
				t.Errorf("443 flow total %+v, want %+v", f.Total, want.Rows[f.Key])
			}
		}
	}
	if !found {
		t.Error("no flow for 443")
	}
}

func TestOfflineEveryInterval(t *testing.T) {
	data, want := reference(t)
	snaps, err := runOffline(t, data, Config{Every: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// 58 packets 100 ms apart span 5.7 s: reports at +1s..+5s, then the
	// final partial interval at the last packet.
	if len(snaps) != 6 {
		t.Fatalf("got %d reports, want 6", len(snaps))
	}
	var sum snapshot.Counters
	for i, s := range snaps {
		if i < 5 {
			if wantT := genStart.Add(time.Duration(i+1) * time.Second); !s.Time.Equal(wantT) || s.Interval != time.Second {
				t.Errorf("report %d at %v (interval %v), want %v", i, s.Time, s.Interval, wantT)
			}
		}
		for _, p := range s.Ports {
			sum.Add(p.Delta)
		}
		if s.Seq != uint64(i+1) {
			t.Errorf("report %d has seq %d", i, s.Seq)
		}
	}
	var total snapshot.Counters
	for _, c := range want.Rows {
		total.Add(c)
	}
	if sum != total {
		t.Errorf("sum of deltas %+v != totals %+v", sum, total)
	}
	last := snaps[len(snaps)-1]
	if wantT := genStart.Add(5700 * time.Millisecond); !last.Time.Equal(wantT) {
		t.Errorf("last report at %v, want %v", last.Time, wantT)
	}
}

// With --local naming the client address, the service end (the peer) is
// remote and directions flip: rx = toward this host.
func TestOfflineLocalFlipsSide(t *testing.T) {
	data, want := reference(t)
	snaps, err := runOffline(t, data, Config{Local: []netip.Prefix{
		netip.MustParsePrefix("192.0.2.10/32"), netip.MustParsePrefix("2001:db8::a/128"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := snaps[len(snaps)-1]
	got := make(map[key.Key]snapshot.Counters)
	for _, p := range s.Ports {
		got[p.Key] = p.Total
	}
	// 443: the client 192.0.2.10 is this host → 443/tcp remote, rx = the
	// responses.
	k := key.Key{Proto: key.TCP, Port: 443, Side: key.Remote}
	w := want.Rows[key.Key{Proto: key.TCP, Port: 443}]
	if g := got[k]; g.RxBytes != w.TxBytes || g.TxBytes != w.RxBytes || g.RxPackets != w.TxPackets {
		t.Errorf("443 remote = %+v, want flipped %+v", g, w)
	}
	if _, ok := got[key.Key{Proto: key.TCP, Port: 443}]; ok {
		t.Error("443 still counted as local")
	}
	// Equal ports 7000 from 192.0.2.10 to 198.51.100.20 and back: the
	// destination is the service; one packet each way on two rows.
	if g := got[key.Key{Proto: key.UDP, Port: 7000, Side: key.Remote}]; g.TxPackets != 1 {
		t.Errorf("7000 remote = %+v", g)
	}
	if g := got[key.Key{Proto: key.UDP, Port: 7000, Side: key.Local}]; g.RxPackets != 1 {
		t.Errorf("7000 local = %+v", g)
	}
}

func TestOfflineTruncatedFile(t *testing.T) {
	data, want := reference(t)
	cut := data[:len(data)-30] // in the middle of the last packet
	snaps, err := runOffline(t, cut, Config{})
	if err == nil {
		t.Fatal("no error for a truncated capture")
	}
	if len(snaps) != 1 {
		t.Fatalf("got %d reports, want the totals of what was read", len(snaps))
	}
	if got := snaps[0].Capture.Packets; got != want.Packets-1 {
		t.Errorf("read %d packets before the cut, want %d", got, want.Packets-1)
	}
}

func TestOfflineEmptyCapture(t *testing.T) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	snaps, err := runOffline(t, buf.Bytes(), Config{Every: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || len(snaps[0].Ports) != 0 {
		t.Fatalf("empty capture: %d reports", len(snaps))
	}
}
