package scan

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/porttop/porttop/internal/golden"
	"github.com/porttop/porttop/internal/key"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sampleResult is a fixed result covering every state and field.
func sampleResult() *Result {
	r := &Result{
		Target:    "localhost",
		Addresses: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		Address:   netip.MustParseAddr("127.0.0.1"),
		Started:   time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC),
		Duration:  1234 * time.Millisecond,
		Ports: []Port{
			{Port: 22, Proto: key.TCP, State: Open, Reason: "syn-ack", Service: "ssh", Banner: "SSH-2.0-OpenSSH_9.6", Detail: "protocol 2.0; OpenSSH_9.6"},
			{Port: 23, Proto: key.TCP, State: Closed, Reason: "conn-refused"},
			{Port: 443, Proto: key.TCP, State: Open, Reason: "syn-ack", Service: "https", TLS: "TLS 1.3", Banner: "HTTP/1.1 200 OK", Detail: "HTTP/1.1 200 OK; server nginx <&>; cert CN=example"},
			{Port: 8081, Proto: key.TCP, State: Filtered, Reason: "no-response"},
			{Port: 9999, Proto: key.TCP, State: Open, Reason: "syn-ack", Service: "distinct", Guess: true, Detail: "no banner; no probe answered"},
			{Port: 12345, Proto: key.TCP, State: Open, Reason: "syn-ack", Banner: "hello"},
			{Port: 53, Proto: key.UDP, State: Open, Reason: "udp-response", Service: "domain", Detail: "rcode REFUSED"},
			{Port: 123, Proto: key.UDP, State: OpenFiltered, Reason: "no-response", Service: "ntp", Guess: true},
		},
	}
	for _, p := range r.Ports {
		r.Counts.add(p.State)
	}
	return r
}

func TestWriteTable(t *testing.T) {
	for _, c := range []struct {
		file string
		opts ReportOptions
	}{{"table.golden", ReportOptions{}}, {"table_all.golden", ReportOptions{All: true}}} {
		var b bytes.Buffer
		if err := WriteTable(&b, sampleResult(), c.opts); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, c.file, b.Bytes(), *update)
	}
}

func TestWriteTableNothingOpen(t *testing.T) {
	r := &Result{Target: "127.0.0.1", Address: loopback4, Ports: []Port{{Port: 1, State: Closed}}}
	r.Counts.add(Closed)
	var b bytes.Buffer
	if err := WriteTable(&b, r, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "scan of 127.0.0.1: 1 ports in 0.00s\nno open ports\nnot shown: 1 closed\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleResult(), ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "result.golden.json", b.Bytes(), *update)

	// The document is what scripts rely on: check it decodes and holds
	// the documented fields.
	var doc struct {
		Version   int      `json:"version"`
		Target    string   `json:"target"`
		Addresses []string `json:"addresses"`
		DurationS float64  `json:"duration_s"`
		Ports     []struct {
			Port    int    `json:"port"`
			Proto   string `json:"proto"`
			State   string `json:"state"`
			Service string `json:"service"`
			Guess   bool   `json:"guess"`
			TLS     string `json:"tls"`
		} `json:"ports"`
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != 1 || doc.Target != "localhost" || len(doc.Addresses) != 2 || doc.DurationS != 1.234 {
		t.Errorf("header %+v", doc)
	}
	if len(doc.Ports) != 6 || doc.Ports[1].TLS != "TLS 1.3" || doc.Ports[2].Guess != true || doc.Ports[5].State != "open|filtered" {
		t.Errorf("ports %+v", doc.Ports)
	}
	want := map[string]int{"open": 5, "closed": 1, "filtered": 1, "open_filtered": 1, "unknown": 0, "total": 8}
	for k, v := range want {
		if doc.Counts[k] != v {
			t.Errorf("counts[%s] = %d, want %d", k, doc.Counts[k], v)
		}
	}
	b.Reset()
	if err := WriteJSON(&b, sampleResult(), ReportOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `"port":`); n != 8 {
		t.Errorf("--all lists %d ports, want 8", n)
	}
}

func TestServiceLabel(t *testing.T) {
	for _, c := range []struct {
		p    Port
		want string
	}{{Port{}, "-"}, {Port{Service: "ssh"}, "ssh"}, {Port{Service: "http", Guess: true}, "http?"}} {
		if got := ServiceLabel(c.p); got != c.want {
			t.Errorf("ServiceLabel(%+v) = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	p := Progress{Done: 32768, Total: 65535, Open: 3, Elapsed: 800 * time.Millisecond}
	got := ProgressLine(p, 80)
	want := "[####################....................]  50%  32768/65535 ports  3 open  0.8s"
	if got != want || len(got) != 80 {
		t.Errorf("got  %q (%d)\nwant %q", got, len(got), want)
	}
	if got := ProgressLine(Progress{Total: 10}, 10); got != "0%  0/10 ports  0 open  0.0s" {
		t.Errorf("narrow: %q", got)
	}
	if got := ProgressLine(Progress{Done: 10, Total: 10}, 60); !strings.HasPrefix(got, "[#####") || strings.Contains(got, ".]") {
		t.Errorf("full: %q", got)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Unknown: "unknown", Open: "open", Closed: "closed", Filtered: "filtered", OpenFiltered: "open|filtered", 99: "unknown"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}
