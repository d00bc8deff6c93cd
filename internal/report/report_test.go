package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/golden"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/portset"
	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// fixture returns three reports: a busy one, the next second, and an idle
// link with no rows at all.
func fixture() []*snapshot.Snapshot {
	busy := &snapshot.Snapshot{
		Seq: 1, Time: t0.Add(1500 * time.Millisecond), Start: t0, Interval: 1500 * time.Millisecond,
		Interfaces: []snapshot.Interface{
			{Name: "eth0", NICValid: true, RxBytes: 10 << 20, TxBytes: 3 << 30, RxBps: 1536, TxBps: 1.5 * 1024 * 1024,
				CapturedBytes: 3 << 30, CapturedPackets: 2_500_000, ReceivedPackets: 2_500_100, DroppedPackets: 12, IfDropped: 1,
				DecodeErrors: 3, Coverage: 0.998},
			{Name: "lo", NICValid: true, RxBytes: 4096, TxBytes: 4096, RxBps: 0, TxBps: 0, CapturedBytes: 4096, CapturedPackets: 40, Coverage: -1},
			{Name: "wlan0", Coverage: -1, Err: "permission denied\n(needs cap_net_raw)"},
		},
		Ports: []snapshot.Port{
			{Key: key.Key{Proto: key.TCP, Side: key.Remote, Port: 443}, Service: "https",
				Total:       snapshot.Counters{RxBytes: 3 << 30, TxBytes: 20 << 20, RxPackets: 2_000_000, TxPackets: 400_000},
				Delta:       snapshot.Counters{RxBytes: 1_500_000, TxBytes: 30_000, RxPackets: 1000, TxPackets: 500},
				Connections: 7, Process: `my "browser", v2`, PID: 4242},
			{Key: key.Key{Proto: key.TCP, Side: key.Local, Port: 22}, Service: "ssh", Listening: true,
				Total:       snapshot.Counters{RxBytes: 120_000, TxBytes: 900_000, RxPackets: 900, TxPackets: 1100},
				Delta:       snapshot.Counters{RxBytes: 600, TxBytes: 4500, RxPackets: 6, TxPackets: 8},
				Connections: 1, Process: "sshd", PID: 812},
			{Key: key.Key{Proto: key.UDP, Side: key.Local, Port: 53}, Service: "domain", Listening: true,
				Process: "", ProcessNote: "needs root or cap_sys_ptrace"},
			{Key: key.Key{Proto: key.UDP, Side: key.Local, Port: 8125},
				Total: snapshot.Counters{RxBytes: 300, RxPackets: 3}},
			{Key: key.Key{Proto: key.TCP, Side: key.Local, Port: 53}, Service: "domain", Listening: true,
				Total:       snapshot.Counters{RxBytes: 600, TxBytes: 900, RxPackets: 6, TxPackets: 6},
				Delta:       snapshot.Counters{RxBytes: 600, TxBytes: 900, RxPackets: 6, TxPackets: 6},
				Connections: 3, Process: "unbound", PID: 300},
		},
		Other:      snapshot.Counters{RxBytes: 840, TxBytes: 84, RxPackets: 10, TxPackets: 1},
		OtherDelta: snapshot.Counters{RxBytes: 84, RxPackets: 1},
		Capture:    snapshot.CaptureStats{Packets: 2_402_032, Bytes: 3<<30 + 20<<20 + 1_021_800 + 924, DecodeErrors: 3, Truncated: 2, FlowOverflow: 0},
	}
	next := *busy
	next.Seq, next.Time, next.Interval = 2, busy.Time.Add(time.Second), time.Second
	next.Ports = []snapshot.Port{busy.Ports[1], busy.Ports[2]}
	next.Ports[0].Delta = snapshot.Counters{TxBytes: 1 << 20, TxPackets: 700}
	next.Ports[0].Total.Add(next.Ports[0].Delta)
	idle := &snapshot.Snapshot{Seq: 1, Time: t0.Add(time.Second), Start: t0, Interval: time.Second, Offline: true}
	return []*snapshot.Snapshot{busy, &next, idle}
}

func render3(t *testing.T, format string, o render.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range fixture() {
		if err := w.Write(s); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		format string
		o      render.Options
	}{
		{"table", "table", render.Options{}},
		{"json", "json", render.Options{}},
		{"csv", "csv", render.Options{}},
		{"table_bits_by_port", "table", render.Options{Sort: render.SortPort, Bits: true}},
		{"csv_filtered", "csv", render.Options{Sort: render.SortProcess, Ports: mustSet(t, "22,53")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.Check(t, tt.name+".golden", render3(t, tt.format, tt.o), *update)
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

// contract mirrors DESIGN.md's JSON contract; decoding with
// DisallowUnknownFields is not used because fields may be added.
type contract struct {
	Version    *int     `json:"version"`
	Time       *string  `json:"time"`
	IntervalS  *float64 `json:"interval_s"`
	Interfaces []struct {
		Name           *string  `json:"name"`
		RxBytes        *uint64  `json:"rx_bytes"`
		TxBytes        *uint64  `json:"tx_bytes"`
		RxBps          *float64 `json:"rx_bps"`
		TxBps          *float64 `json:"tx_bps"`
		CapturedBytes  *uint64  `json:"captured_bytes"`
		DroppedPackets *uint64  `json:"dropped_packets"`
	} `json:"interfaces"`
	Ports []struct {
		Port        *uint16  `json:"port"`
		Proto       *string  `json:"proto"`
		Service     *string  `json:"service"`
		Side        *string  `json:"side"`
		RxBytes     *uint64  `json:"rx_bytes"`
		TxBytes     *uint64  `json:"tx_bytes"`
		RxPackets   *uint64  `json:"rx_packets"`
		TxPackets   *uint64  `json:"tx_packets"`
		RxBps       *float64 `json:"rx_bps"`
		TxBps       *float64 `json:"tx_bps"`
		Connections *int     `json:"connections"`
		Process     *string  `json:"process"`
		PID         *int32   `json:"pid"`
	} `json:"ports"`
	Other *struct {
		RxBytes   *uint64 `json:"rx_bytes"`
		TxBytes   *uint64 `json:"tx_bytes"`
		RxPackets *uint64 `json:"rx_packets"`
		TxPackets *uint64 `json:"tx_packets"`
	} `json:"other"`
}

// allSet reports the path of the first nil pointer or nil slice in v.
func allSet(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return path
		}
		return allSet(v.Elem(), path)
	case reflect.Slice:
		if v.IsNil() {
			return path + " (null)"
		}
		for i := range v.Len() {
			if p := allSet(v.Index(i), path); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if p := allSet(v.Field(i), path+"."+v.Type().Field(i).Tag.Get("json")); p != "" {
				return p
			}
		}
	}
	return ""
}

func TestJSONContract(t *testing.T) {
	out := render3(t, "json", render.Options{})
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want one per report (3)", len(lines))
	}
	snaps := fixture()
	for i, line := range lines {
		var c contract
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, line)
		}
		if p := allSet(reflect.ValueOf(c), ""); p != "" {
			t.Fatalf("line %d: contract field %s missing", i, p)
		}
		s := snaps[i]
		if *c.Version != 1 || *c.Time != s.Time.Format(time.RFC3339Nano) || *c.IntervalS != s.Interval.Seconds() {
			t.Errorf("line %d: version %d time %s interval %v", i, *c.Version, *c.Time, *c.IntervalS)
		}
		if len(c.Ports) != len(s.Ports) || len(c.Interfaces) != len(s.Interfaces) {
			t.Errorf("line %d: %d ports %d interfaces, want %d %d", i, len(c.Ports), len(c.Interfaces), len(s.Ports), len(s.Interfaces))
		}
	}
	var first contract
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, p := range first.Ports {
		order = append(order, key.Key{Port: *p.Port, Proto: must(key.ParseProto(*p.Proto)), Side: side(*p.Side)}.String())
	}
	want := "443/tcp remote,22/tcp local,53/tcp local,53/udp local,8125/udp local"
	if got := strings.Join(order, ","); got != want {
		t.Errorf("port order %s, want %s", got, want)
	}
	p := first.Ports[0]
	if *p.RxBps != 1_000_000 || *p.TxBps != 20_000 || *p.Process != `my "browser", v2` || *p.PID != 4242 || *p.RxBytes != 3<<30 {
		t.Errorf("443 row: rx_bps %v tx_bps %v process %q pid %d rx_bytes %d", *p.RxBps, *p.TxBps, *p.Process, *p.PID, *p.RxBytes)
	}
	if !strings.Contains(lines[2], `"interfaces":[],"ports":[]`) {
		t.Errorf("idle report does not carry empty arrays: %s", lines[2])
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func side(s string) key.Side {
	if s == "remote" {
		return key.Remote
	}
	return key.Local
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f", "<a&b>", "ünïcødé ✓", "\u2028\u2029", "bad\xffutf8\xc3", "emoji 😀"} {
		got := appendString(nil, s)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1, "1"}, {1.5, "1.5"}, {1e6, "1000000"}, {1.0 / 3, "0.3333333333333333"},
		{1e-7, "1e-7"}, {1e21, "1e+21"}, {-2.5, "-2.5"},
	}
	for _, tt := range tests {
		got := string(appendFloat(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
		var back float64
		if err := json.Unmarshal([]byte(got), &back); err != nil || back != tt.in {
			t.Errorf("%s does not decode back to %v: %v", got, tt.in, err)
		}
	}
}

func TestNew(t *testing.T) {
	for _, f := range Formats() {
		if _, err := New(f, &bytes.Buffer{}, render.Options{}); err != nil {
			t.Errorf("New(%q): %v", f, err)
		}
	}
	tests := []struct {
		format string
		want   string
	}{
		{"xml", `unknown output format "xml" (want table, json or csv)`},
		{"", `unknown output format "" (want table, json or csv)`},
		{"JSON", `unknown output format "JSON" (want table, json or csv)`},
	}
	for _, tt := range tests {
		_, err := New(tt.format, &bytes.Buffer{}, render.Options{})
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%q) error = %v, want %q", tt.format, err, tt.want)
		}
	}
	if _, err := New("json", nil, render.Options{}); err == nil {
		t.Error("New with a nil writer did not fail")
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestWriteErrors(t *testing.T) {
	boom := errors.New("disk full")
	for _, f := range Formats() {
		w, err := New(f, failWriter{boom}, render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(fixture()[0]); !errors.Is(err, boom) {
			t.Errorf("%s: Write error = %v, want %v", f, err, boom)
		}
		if err := w.Write(nil); err == nil {
			t.Errorf("%s: Write(nil) did not fail", f)
		}
	}
}

func TestCSVHeaderOnce(t *testing.T) {
	out := string(render3(t, "csv", render.Options{}))
	if n := strings.Count(out, "time,port,proto"); n != 1 {
		t.Fatalf("header printed %d times", n)
	}
	if n := strings.Count(out, "\n"); n != 1+5+2 {
		t.Fatalf("got %d lines, want header + 5 + 2 rows", n)
	}
}

func TestTableEveryReport(t *testing.T) {
	out := string(render3(t, "table", render.Options{}))
	if n := strings.Count(out, "PORT  PROTO"); n != 3 {
		t.Fatalf("column header printed %d times, want 3 (one per report, idle included)", n)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space in %q", line)
		}
	}
}
