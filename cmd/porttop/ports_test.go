package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func listenTCP(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestPortsTable(t *testing.T) {
	port := listenTCP(t)
	var out, errb bytes.Buffer
	if code := runPorts(nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "PROTO") || !strings.Contains(lines[0], "ADDRESS") || !strings.Contains(lines[0], "USER") {
		t.Errorf("header: %q", lines[0])
	}
	pid := strconv.Itoa(os.Getpid())
	found := false
	prev := -1
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 7 {
			t.Errorf("short line %q", l)
			continue
		}
		p, err := strconv.Atoi(f[2])
		if err != nil || p < prev {
			t.Errorf("line %q: port out of order or not a number (previous %d)", l, prev)
		}
		prev = p
		if f[0] == "tcp" && f[1] == "127.0.0.1" && p == port {
			found = f[5] == pid
		}
	}
	if !found {
		t.Errorf("no tcp 127.0.0.1 %d row with pid %s in:\n%s", port, pid, out.String())
	}
}

func TestPortsJSONAndCSV(t *testing.T) {
	port := listenTCP(t)
	var out, errb bytes.Buffer
	if code := runPorts([]string{"-o", "json"}, &out, &errb); code != 0 {
		t.Fatalf("json: exit %d, stderr %q", code, errb.String())
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		for _, k := range []string{"proto", "address", "port", "service", "process", "pid", "user", "namespace", "note"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %q lacks %q", line, k)
			}
		}
		if m["proto"] == "tcp" && m["port"] == float64(port) {
			found = m["pid"] == float64(os.Getpid()) && m["address"] == "127.0.0.1" && m["process"] != ""
		}
	}
	if !found {
		t.Errorf("no row for our port %d with our pid in:\n%s", port, out.String())
	}

	out.Reset()
	if code := runPorts([]string{"-o", "csv"}, &out, &errb); code != 0 {
		t.Fatalf("csv: exit %d, stderr %q", code, errb.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "proto,address,port,service,process,pid,user,namespace,note,rx_bytes,tx_bytes,connections" {
		t.Errorf("csv header %v", recs[0])
	}
	found = false
	for _, r := range recs[1:] {
		found = found || r[0] == "tcp" && r[2] == strconv.Itoa(port) && r[5] == strconv.Itoa(os.Getpid())
	}
	if !found {
		t.Errorf("csv: no row for port %d", port)
	}
}

func TestPortsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-x"}, {"-o", "xml"}, {"extra"}, {"-o"}, {"--capture", "-1s"}, {"--capture", "soon"}} {
		var out, errb bytes.Buffer
		code := runPorts(args, &out, &errb)
		msg := errb.String()
		if code != 2 || out.Len() != 0 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "porttop ports: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line", args, code, out.String(), msg)
		}
	}
	var out, errb bytes.Buffer
	if code := runPorts([]string{"-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "usage: porttop ports") {
		t.Errorf("-h: exit %d, stderr %q", code, errb.String())
	}
}

// With --capture, each listening port carries the traffic seen on it.
func TestPortsCaptureTraffic(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("--capture needs root to capture on lo; skipped")
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Write(make([]byte, 3000))
			c.Close()
		}
	}()
	// Connect every 20 ms while porttop captures (bounded: at most 150
	// connections, stopped when the test ends).
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 150; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			c, err := net.Dial("tcp4", l.Addr().String())
			if err != nil {
				return
			}
			c.Write(make([]byte, 1000))
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					break
				}
			}
			c.Close()
		}
	}()
	var out, errb bytes.Buffer
	if code := runPorts([]string{"--capture", "1s", "-i", "lo", "-o", "json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r portRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Traffic == nil {
			t.Fatalf("row without traffic: %s", line)
		}
		if r.Proto == "tcp" && int(r.Port) == port {
			found = true
			if r.Traffic.RxBytes < 1000 || r.Traffic.TxBytes < 3000 || r.Traffic.Connections == 0 {
				t.Errorf("traffic %+v, want at least one 1000-byte request and 3000-byte answer", *r.Traffic)
			}
		}
	}
	if !found {
		t.Fatalf("port %d missing:\n%s", port, out.String())
	}
}
