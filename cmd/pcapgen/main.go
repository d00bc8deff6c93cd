// Command pcapgen writes the synthetic captures porttop's tests and
// benchmarks read: the reference scenario (exactly known per-port totals)
// or a large benchmark mix, as pcap or pcapng, optionally gzip-compressed.
//
//	pcapgen -scenario testdata -o testdata/reference.pcap
//	pcapgen -scenario bench -n 3000000 -snaplen 128 -o /tmp/bench.pcap
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/porttop/porttop/internal/pcapgen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pcapgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pcapgen", flag.ContinueOnError)
	out := fs.String("o", "", "file to write (required)")
	format := fs.String("format", "pcap", "pcap or pcapng")
	gz := fs.Bool("gzip", false, "gzip the output")
	scenario := fs.String("scenario", "testdata", "testdata or bench")
	n := fs.Int("n", 1000000, "bench: packets to write")
	ports := fs.Int("ports", 1000, "bench: service ports")
	snaplen := fs.Int("snaplen", 0, "bytes kept per packet (0 = all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-o FILE is required")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	var w io.Writer = bw
	var zw *gzip.Writer
	if *gz {
		zw = gzip.NewWriter(bw)
		w = zw
	}
	var pw pcapgen.PacketWriter
	var ng *pcapgo.NgWriter
	switch *format {
	case "pcap":
		pcw := pcapgo.NewWriterNanos(w)
		if err := pcw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			return err
		}
		pw = pcw
	case "pcapng":
		ng, err = pcapgo.NewNgWriter(w, layers.LinkTypeEthernet)
		if err != nil {
			return err
		}
		pw = ng
	default:
		return fmt.Errorf("unknown format %q (want pcap or pcapng)", *format)
	}
	g := pcapgen.New(pw, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 100*time.Millisecond, *snaplen)
	switch *scenario {
	case "testdata":
		err = pcapgen.Testdata(g)
	case "bench":
		g.Step = time.Microsecond
		err = pcapgen.Bench(g, *n, *ports)
	default:
		err = fmt.Errorf("unknown scenario %q (want testdata or bench)", *scenario)
	}
	if err != nil {
		return err
	}
	if ng != nil {
		if err := ng.Flush(); err != nil {
			return err
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "pcapgen: wrote %d packets, %d wire bytes to %s\n", g.Expect.Packets, g.Expect.Bytes, *out)
	return f.Close()
}
