package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests call runScan in-process and only ever scan 127.0.0.1.

func scanListener(t *testing.T, greeting string) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write([]byte(greeting))
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

func scanClosedPort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	return p
}

func runScanT(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = runScan(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestScanBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "missing target"},
		{[]string{"127.0.0.1", "::1"}, "one target only"},
		{[]string{""}, "empty target"},
		{[]string{"127.0.0.1:22"}, "bad target"},
		{[]string{"10.0.0.0/8"}, "bad target"},
		{[]string{"127.0.0.1", "-p", "22,x"}, `"x" is not a port number`},
		{[]string{"127.0.0.1", "-p", "70000"}, "out of range"},
		{[]string{"127.0.0.1", "-p", "9-1"}, "backwards"},
		{[]string{"127.0.0.1", "-p", "0-10"}, "port 0 cannot be scanned"},
		{[]string{"127.0.0.1", "-p", ","}, "empty item"},
		{[]string{"127.0.0.1", "--timeout", "fast"}, "bad --timeout"},
		{[]string{"127.0.0.1", "--timeout", "2"}, "bad --timeout"},
		{[]string{"127.0.0.1", "--timeout", "0s"}, "more than zero"},
		{[]string{"127.0.0.1", "--timeout", "-1s"}, "more than zero"},
		{[]string{"127.0.0.1", "--probe-timeout", "2h"}, "at most 1h"},
		{[]string{"127.0.0.1", "--concurrency", "0"}, "bad --concurrency"},
		{[]string{"127.0.0.1", "--concurrency", "-4"}, "bad --concurrency"},
		{[]string{"127.0.0.1", "--concurrency", "lots"}, "bad --concurrency"},
		{[]string{"127.0.0.1", "--concurrency", "70000"}, "bad --concurrency"},
		{[]string{"127.0.0.1", "--rate", "0"}, "bad --rate"},
		{[]string{"127.0.0.1", "--udp", "--udp-ports", "53,abc"}, "--udp-ports"},
		{[]string{"127.0.0.1", "-o", "xml"}, "bad output format"},
		{[]string{"127.0.0.1", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"127.0.0.1", "-p"}, "flag needs an argument: -p"},
	}
	for _, c := range cases {
		out, errs, code := runScanT(c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", c.args, code, errs)
		}
		if out != "" {
			t.Errorf("%q: stdout %q, want nothing", c.args, out)
		}
		if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "porttop: ") || !strings.Contains(errs, c.want) {
			t.Errorf("%q: stderr %q, want one porttop: line mentioning %q", c.args, errs, c.want)
		}
		if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
			t.Errorf("%q: stack trace: %q", c.args, errs)
		}
	}
}

func TestScanHelp(t *testing.T) {
	for _, a := range []string{"-h", "--help"} {
		out, errs, code := runScanT(a)
		if code != 0 || out != "" || !strings.Contains(errs, "usage: porttop scan TARGET") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", a, code, out, errs)
		}
	}
}

func TestScanJSON(t *testing.T) {
	ssh := scanListener(t, "SSH-2.0-porttop-test\r\n")
	closed := scanClosedPort(t)
	list := strconv.Itoa(int(ssh)) + "," + strconv.Itoa(int(closed))
	// Flags both before and after the target.
	out, errs, code := runScanT("-o", "json", "127.0.0.1", "-p", list, "--timeout", "1s", "--probe-timeout", "300ms", "--concurrency", "8", "--rate", "1000")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var doc struct {
		Target  string `json:"target"`
		Address string `json:"address"`
		Ports   []struct {
			Port    uint16 `json:"port"`
			Proto   string `json:"proto"`
			State   string `json:"state"`
			Service string `json:"service"`
			Guess   bool   `json:"guess"`
			Banner  string `json:"banner"`
		} `json:"ports"`
		Counts struct {
			Open, Closed, Total int
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if doc.Target != "127.0.0.1" || doc.Address != "127.0.0.1" || doc.Counts.Open != 1 || doc.Counts.Closed != 1 || doc.Counts.Total != 2 {
		t.Errorf("document %+v", doc)
	}
	if len(doc.Ports) != 1 || doc.Ports[0].Port != ssh || doc.Ports[0].State != "open" ||
		doc.Ports[0].Service != "ssh" || doc.Ports[0].Guess || doc.Ports[0].Banner != "SSH-2.0-porttop-test" {
		t.Errorf("ports %+v", doc.Ports)
	}
}

func TestScanTable(t *testing.T) {
	ssh := scanListener(t, "SSH-2.0-porttop-test\r\n")
	closed := scanClosedPort(t)
	out, errs, code := runScanT("127.0.0.1", "-p", strconv.Itoa(int(ssh))+","+strconv.Itoa(int(closed)), "--probe-timeout", "300ms")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	wantRow := strconv.Itoa(int(ssh)) + "/tcp"
	if !strings.HasPrefix(out, "scan of 127.0.0.1: 2 ports in ") || !strings.Contains(out, wantRow) ||
		!strings.Contains(out, "ssh") || !strings.HasSuffix(out, "not shown: 1 closed\n") {
		t.Errorf("table:\n%s", out)
	}
	out, _, code = runScanT("127.0.0.1", "-p", strconv.Itoa(int(closed)), "--all")
	if code != 0 || !strings.Contains(out, "closed") || !strings.Contains(out, "conn-refused") {
		t.Errorf("--all: exit %d\n%s", code, out)
	}
}

func TestParsePortList(t *testing.T) {
	got, err := parsePortList("-")
	if err != nil || len(got) != 65535 || got[0] != 1 || got[65534] != 65535 {
		t.Errorf(`"-": %d ports, %v`, len(got), err)
	}
	got, err = parsePortList("8080, 22,20-21,22")
	if err != nil || len(got) != 4 || got[0] != 20 || got[3] != 8080 {
		t.Errorf("list: %v %v", got, err)
	}
}

func TestIsTerminal(t *testing.T) {
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) {
		t.Error("a pipe is a terminal")
	}
}
