package capture

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the FuzzNewReader seed corpus in testdata/fuzz")

// FuzzNewReader feeds arbitrary bytes to NewReader and reads every packet:
// it must never panic, never return a packet longer than its Length or
// than the data handed out, and end with io.EOF or an error.
func FuzzNewReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		src, err := NewReader(bytes.NewReader(b), "fuzz", "")
		if err != nil {
			if src != nil {
				t.Fatal("source and error both returned")
			}
			return
		}
		defer src.Close()
		for i := 0; ; i++ {
			var info Info
			data, err := src.ReadPacket(&info)
			if err != nil {
				if err == ErrTimeout {
					t.Fatal("a file source returned ErrTimeout")
				}
				return
			}
			if len(data) != info.CaptureLength || info.CaptureLength < 0 || info.Length < 0 {
				t.Fatalf("packet %d: %d bytes, info %+v", i, len(data), info)
			}
			if i > len(b) {
				t.Fatalf("more packets (%d) than input bytes (%d)", i, len(b))
			}
		}
	})
}

// fuzzSeed is one seed of the committed corpus and what reading it gives.
type fuzzSeed struct {
	name    string
	data    []byte
	packets int    // packets before the end
	errText string // "" for a clean io.EOF; else part of the error
}

func fuzzSeeds(t *testing.T) []fuzzSeed {
	pkts := testPackets(t, 3)
	pcapng := writePcapng(t, pkts)
	return []fuzzSeed{
		{"pcap", writePcap(t, pkts, false, layers.LinkTypeEthernet), 3, ""},
		{"pcap-nano-be", writePcapBE(t, pkts, true), 3, ""},
		{"pcapng", pcapng, 3, ""},
		{"pcap-gzip", gzipped(t, writePcap(t, pkts, true, layers.LinkTypeEthernet)), 3, ""},
		{"pcapng-gzip", gzipped(t, pcapng), 3, ""},
		{"pcapng-truncated", pcapng[:len(pcapng)-7], 3, "truncated capture after 3 packets"},
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n"), 0, "not a pcap or pcapng file"},
		{"empty", nil, 0, "empty file"},
	}
}

// TestFuzzSeeds checks the committed seed corpus: each seed is there and
// reads as it should (run with -update-seeds to rewrite it).
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzNewReader")
	for _, s := range fuzzSeeds(t) {
		path := filepath.Join(dir, s.name)
		if *updateSeeds {
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s.data)) + ")\n"
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("seed %s: %v (run go test -run TestFuzzSeeds -update-seeds)", s.name, err)
		}
		lines := strings.SplitN(string(raw), "\n", 3)
		if len(lines) < 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("seed %s: not a fuzz corpus file", s.name)
		}
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("seed %s: %v", s.name, err)
		}
		got, err := readSeed([]byte(data))
		if len(got) != s.packets {
			t.Errorf("seed %s: %d packets, want %d", s.name, len(got), s.packets)
		}
		switch {
		case s.errText == "" && err != io.EOF:
			t.Errorf("seed %s: %v, want io.EOF", s.name, err)
		case s.errText != "" && (err == nil || err == io.EOF || !strings.Contains(err.Error(), s.errText)):
			t.Errorf("seed %s: %v, want an error with %q", s.name, err, s.errText)
		}
	}
}

// readSeed reads a seed through NewReader.
func readSeed(b []byte) ([]testPacket, error) {
	src, err := NewReader(bytes.NewReader(b), "seed", "")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return readAll(src)
}

// TestMalformedNeverPanics runs corruptions that hit pcapgo's weak spots:
// absurd lengths and timestamp resolutions.
func TestMalformedNeverPanics(t *testing.T) {
	pkts := testPackets(t, 2)
	ng := writePcapng(t, pkts)
	ends, _ := pcapngBoundaries(ng)
	idb := ends[0] // the interface description block starts here
	corrupt := func(at int, v ...byte) []byte {
		b := append([]byte(nil), ng...)
		copy(b[at:], v)
		return b
	}
	// An if_tsresol option (code 9, length 1) with exponent 2^-127 would
	// make pcapgo divide by zero; patch it into the IDB's options.
	withTsresol := func(res byte) []byte {
		b := append([]byte(nil), ng[:idb]...)
		body := []byte{1, 0, 0, 0, 0xff, 0xff, 0, 0, // link type 1, snaplen 65535
			9, 0, 1, 0, res, 0, 0, 0, // if_tsresol
			0, 0, 0, 0} // end of options
		n := uint32(12 + len(body))
		b = append(b, 1, 0, 0, 0, byte(n), byte(n>>8), 0, 0)
		b = append(b, body...)
		b = append(b, byte(n), byte(n>>8), 0, 0)
		return append(b, ng[ends[1]:]...)
	}
	for name, b := range map[string][]byte{
		"huge caplen":      corrupt(ends[1]+20, 0xff, 0xff, 0xff, 0x7f),
		"huge snaplen":     corrupt(idb+12, 0xff, 0xff, 0xff, 0xff),
		"bad block length": corrupt(ends[1]+4, 0x0d, 0, 0, 0),
		"tsresol 2^-127":   withTsresol(0xff),
		"tsresol 10^-127":  withTsresol(0x7f),
		"pcap huge caplen": func() []byte {
			b := writePcap(t, pkts, false, 1)
			copy(b[24+8:], []byte{0xff, 0xff, 0xff, 0x7f})
			return b
		}(),
		"pcap bad version":   func() []byte { b := writePcap(t, pkts, false, 1); b[4] = 9; return b }(),
		"pcapng bad version": corrupt(12, 9),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := readSeed(b)
			if err == nil || err == io.EOF {
				t.Fatalf("%d packets and %v, want an error", len(got), err)
			}
			if errors.Is(err, ErrTimeout) || !strings.HasPrefix(err.Error(), "seed: ") {
				t.Fatalf("error %q does not name the source", err)
			}
			t.Log(fmt.Sprint(len(got), " packets: ", err))
		})
	}
}
