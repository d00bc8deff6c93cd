package render

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/portset"
	"github.com/porttop/porttop/internal/snapshot"
)

func port(p uint16, proto key.Proto, side key.Side, rxDelta, txDelta, rxTotal, txTotal, pkts uint64, process string) snapshot.Port {
	return snapshot.Port{
		Key:     key.Key{Proto: proto, Side: side, Port: p},
		Delta:   snapshot.Counters{RxBytes: rxDelta, TxBytes: txDelta, RxPackets: pkts / 4},
		Total:   snapshot.Counters{RxBytes: rxTotal, TxBytes: txTotal, RxPackets: pkts},
		Process: process,
	}
}

// testSnapshot has ties on every sort key so the tie-break shows.
func testSnapshot() *snapshot.Snapshot {
	return &snapshot.Snapshot{
		Interval: 2 * time.Second,
		Ports: []snapshot.Port{
			port(443, key.TCP, key.Remote, 100, 900, 5000, 9000, 40, "firefox"), // rate 1000
			port(22, key.TCP, key.Local, 600, 400, 1000, 1000, 10, "sshd"),      // rate 1000
			port(53, key.UDP, key.Local, 0, 0, 0, 0, 0, ""),                     // idle listener
			port(80, key.UDP, key.Local, 50, 50, 20000, 0, 90, "Caddy"),         // rate 100
			port(80, key.TCP, key.Remote, 0, 0, 500, 500, 8, "curl"),            // rate 0
			port(80, key.TCP, key.Local, 2000, 0, 20000, 0, 90, "caddy"),        // rate 2000
			port(8080, key.TCP, key.Local, 0, 30, 10, 30, 2, ""),                // rate 30
		},
	}
}

func keys(rows []Row) string {
	var b []string
	for _, r := range rows {
		b = append(b, r.Port.Key.String())
	}
	return strings.Join(b, ", ")
}

func TestRowsSort(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"rate (default), ties on port then proto then side", Options{},
			"80/tcp local, 22/tcp local, 443/tcp remote, 80/udp local, 8080/tcp local, 53/udp local, 80/tcp remote"},
		{"rate reversed: ties still ascending", Options{Reverse: true},
			"53/udp local, 80/tcp remote, 8080/tcp local, 80/udp local, 22/tcp local, 443/tcp remote, 80/tcp local"},
		{"rx", Options{Sort: SortRx},
			"80/tcp local, 22/tcp local, 443/tcp remote, 80/udp local, 53/udp local, 80/tcp remote, 8080/tcp local"},
		{"tx", Options{Sort: SortTx},
			"443/tcp remote, 22/tcp local, 80/udp local, 8080/tcp local, 53/udp local, 80/tcp local, 80/tcp remote"},
		{"total", Options{Sort: SortTotal},
			"80/tcp local, 80/udp local, 443/tcp remote, 22/tcp local, 80/tcp remote, 8080/tcp local, 53/udp local"},
		{"rate with totals toggled is total", Options{Totals: true},
			"80/tcp local, 80/udp local, 443/tcp remote, 22/tcp local, 80/tcp remote, 8080/tcp local, 53/udp local"},
		{"rx totals", Options{Sort: SortRx, Totals: true},
			"80/tcp local, 80/udp local, 443/tcp remote, 22/tcp local, 80/tcp remote, 8080/tcp local, 53/udp local"},
		{"tx totals", Options{Sort: SortTx, Totals: true},
			"443/tcp remote, 22/tcp local, 80/tcp remote, 8080/tcp local, 53/udp local, 80/tcp local, 80/udp local"},
		{"port ascending, proto then side", Options{Sort: SortPort},
			"22/tcp local, 53/udp local, 80/tcp local, 80/tcp remote, 80/udp local, 443/tcp remote, 8080/tcp local"},
		{"port reversed: proto and side still ascending", Options{Sort: SortPort, Reverse: true},
			"8080/tcp local, 443/tcp remote, 80/tcp local, 80/tcp remote, 80/udp local, 53/udp local, 22/tcp local"},
		{"packets", Options{Sort: SortPackets},
			"80/tcp local, 80/udp local, 443/tcp remote, 22/tcp local, 80/tcp remote, 8080/tcp local, 53/udp local"},
		{"process: case-insensitive, unknown last", Options{Sort: SortProcess},
			"80/tcp local, 80/udp local, 80/tcp remote, 443/tcp remote, 22/tcp local, 53/udp local, 8080/tcp local"},
		{"process reversed", Options{Sort: SortProcess, Reverse: true},
			"53/udp local, 8080/tcp local, 22/tcp local, 443/tcp remote, 80/tcp remote, 80/tcp local, 80/udp local"},
		{"filter ports", Options{Sort: SortPort, Ports: mustSet(t, "22,80-100")},
			"22/tcp local, 80/tcp local, 80/tcp remote, 80/udp local"},
		{"filter and match", Options{Sort: SortPort, Ports: mustSet(t, "80"), Match: func(p *snapshot.Port) bool { return p.Key.Proto == key.UDP }},
			"80/udp local"},
		{"filter matches nothing", Options{Ports: mustSet(t, "9999")}, ""},
		{"rates from a RateFunc", Options{Sort: SortRx, Rates: func(k key.Key) (float64, float64) { return float64(k.Port % 100), 0 }},
			"80/tcp local, 80/tcp remote, 80/udp local, 8080/tcp local, 53/udp local, 443/tcp remote, 22/tcp local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot()
			before := slices.Clone(s.Ports)
			rows := Rows(s, tt.o)
			if got := keys(rows); got != tt.want {
				t.Errorf("order\n got %s\nwant %s", got, tt.want)
			}
			if !slices.EqualFunc(before, s.Ports, func(a, b snapshot.Port) bool { return a.Key == b.Key && a.Delta == b.Delta }) {
				t.Error("Rows modified the snapshot")
			}
		})
	}
}

func mustSet(t *testing.T, s string) portset.Set {
	t.Helper()
	set, err := portset.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestRowsRates(t *testing.T) {
	s := testSnapshot()
	rows := Rows(s, Options{Sort: SortPort, Ports: mustSet(t, "22")})
	if len(rows) != 1 {
		t.Fatalf("got %d rows", len(rows))
	}
	r := rows[0]
	if r.RxBps != 300 || r.TxBps != 200 || r.PacketsPerSec != 1 {
		t.Fatalf("rates rx %v tx %v pkt %v, want 300 200 1", r.RxBps, r.TxBps, r.PacketsPerSec)
	}
	if r.Port != &s.Ports[1] {
		t.Fatal("row does not point into the snapshot")
	}
	if Rows(nil, Options{}) != nil {
		t.Fatal("nil snapshot gave rows")
	}
	s.Interval = 0
	if r := Rows(s, Options{Sort: SortPort})[0]; r.RxBps != 0 || r.PacketsPerSec != 0 {
		t.Fatalf("zero interval gave rates %+v", r)
	}
}

func TestParseSortKey(t *testing.T) {
	for _, k := range SortKeys() {
		got, err := ParseSortKey(strings.ToUpper(k.String()))
		if err != nil || got != k {
			t.Errorf("ParseSortKey(%q) = %v, %v", k.String(), got, err)
		}
	}
	if len(SortKeys()) != 7 {
		t.Errorf("SortKeys() = %v", SortKeys())
	}
	_, err := ParseSortKey("speed")
	if err == nil || err.Error() != `unknown sort key "speed" (want rate, rx, tx, total, port, packets or process)` {
		t.Errorf("ParseSortKey(speed) error = %v", err)
	}
	if SortKey(99).String() != "sortkey(99)" {
		t.Errorf("bad key String = %q", SortKey(99).String())
	}
	var o Options
	if o.Sort != SortRate {
		t.Error("zero Options do not sort by rate")
	}
}

func TestCells(t *testing.T) {
	s := &snapshot.Snapshot{Interval: time.Second, Ports: []snapshot.Port{
		{Key: key.Key{Proto: key.TCP, Side: key.Local, Port: 443}, Service: "https",
			Delta:       snapshot.Counters{RxBytes: 1536, TxBytes: 1_200_000, RxPackets: 3, TxPackets: 2},
			Total:       snapshot.Counters{RxBytes: 5 << 30, TxBytes: 1023, RxPackets: 1000, TxPackets: 234},
			Connections: 12, Process: "nginx"},
		{Key: key.Key{Proto: key.UDP, Side: key.Remote, Port: 5353}},
	}}
	cols := append(Columns(), ColPacketRate)
	tests := []struct {
		o    Options
		want [][]string
	}{
		{Options{}, [][]string{
			{"443", "tcp", "https", "local", "1.5 KiB/s", "1.1 MiB/s", "5.0 GiB", "1023 B", "1.2k", "12", "nginx", "5.0"},
			{"5353", "udp", "-", "remote", "0 B/s", "0 B/s", "0 B", "0 B", "0", "0", "-", "0"},
		}},
		{Options{Bits: true}, [][]string{
			{"443", "tcp", "https", "local", "12.3 kb/s", "9.6 Mb/s", "5.0 GiB", "1023 B", "1.2k", "12", "nginx", "5.0"},
			{"5353", "udp", "-", "remote", "0 b/s", "0 b/s", "0 B", "0 B", "0", "0", "-", "0"},
		}},
	}
	for _, tt := range tests {
		rows := Rows(s, tt.o)
		var buf []string
		for i, r := range rows {
			buf = Cells(buf[:0], cols, r, tt.o)
			if !slices.Equal(buf, tt.want[i]) {
				t.Errorf("bits=%v row %d\n got %q\nwant %q", tt.o.Bits, i, buf, tt.want[i])
			}
		}
	}
	if got := Cell(Column(200), Row{Port: &s.Ports[0]}, Options{}); got != "" {
		t.Errorf("unknown column cell = %q", got)
	}
	if got := Cell(ColPort, Row{}, Options{}); got != "" {
		t.Errorf("nil port cell = %q", got)
	}
}

func TestColumns(t *testing.T) {
	want := []string{"PORT", "PROTO", "SERVICE", "SIDE", "RX/s", "TX/s", "RX TOTAL", "TX TOTAL", "PKTS", "CONNS", "PROCESS"}
	if got := Headers(Columns()); !slices.Equal(got, want) {
		t.Fatalf("headers %q, want %q", got, want)
	}
	tests := []struct {
		c        Column
		right    bool
		sort     SortKey
		sortable bool
	}{
		{ColPort, true, SortPort, true},
		{ColProto, false, 0, false},
		{ColService, false, 0, false},
		{ColRxRate, true, SortRx, true},
		{ColTxRate, true, SortTx, true},
		{ColRxTotal, true, SortTotal, true},
		{ColPackets, true, SortPackets, true},
		{ColPacketRate, true, 0, false},
		{ColConns, true, 0, false},
		{ColProcess, false, SortProcess, true},
		{Column(99), false, 0, false},
	}
	for _, tt := range tests {
		k, ok := tt.c.SortKey()
		if tt.c.Right() != tt.right || k != tt.sort || ok != tt.sortable {
			t.Errorf("%q: right %v sort %v/%v, want %v %v/%v", tt.c, tt.c.Right(), k, ok, tt.right, tt.sort, tt.sortable)
		}
	}
}
