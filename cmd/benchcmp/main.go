// Command benchcmp is `make bench`'s whole-program comparison: it generates
// a large capture, then times `porttop -r FILE -b` against bare read loops
// over the same file (libpcap through gopacket/pcap, and gopacket/pcapgo)
// and against `tcpdump -nn -q -r FILE`, and prints ns per packet and the
// ratios. With -scan it also times a full-range TCP connect scan of
// 127.0.0.1 against `nmap -sT -p-`.
//
// `benchcmp live` measures live capture on lo instead (see live.go): CPU
// per packet, peak memory and kernel drops of porttop (afpacket and pcap
// engines), tcpdump and iftop under a bounded UDP/TCP loopback load, peak
// memory with 1,000 active ports, and idle CPU.
//
//	benchcmp -porttop bin/porttop -n 3000000
//	benchcmp readloop -engine pcap FILE     (the bare loop itself)
//	benchcmp live -porttop bin/porttop      (live mode; benchcmp live -h)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/google/gopacket/pcap"
	"github.com/google/gopacket/pcapgo"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "readloop":
		err = readloop(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "live":
		err = live(os.Args[2:])
	default:
		err = compare(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchcmp:", err)
		os.Exit(1)
	}
}

// readloop reads every packet of a file and does nothing with it: the
// floor any reader of that file pays.
func readloop(args []string) error {
	fs := flag.NewFlagSet("readloop", flag.ContinueOnError)
	engine := fs.String("engine", "pcap", "pcap or pcapgo")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: readloop -engine pcap|pcapgo FILE")
	}
	path := fs.Arg(0)
	var n, bytes uint64
	switch *engine {
	case "pcap":
		h, err := pcap.OpenOffline(path)
		if err != nil {
			return err
		}
		defer h.Close()
		for {
			data, ci, err := h.ZeroCopyReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			n++
			bytes += uint64(ci.Length)
			_ = data
		}
	case "pcapgo":
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r, err := pcapgo.NewReader(f)
		if err != nil {
			return err
		}
		for {
			_, ci, err := r.ZeroCopyReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			n++
			bytes += uint64(ci.Length)
		}
	default:
		return fmt.Errorf("unknown engine %q", *engine)
	}
	fmt.Printf("%d packets %d bytes\n", n, bytes)
	return nil
}

type result struct {
	name      string
	wall, cpu time.Duration
	maxRSSKiB int64
}

// timeCmd runs argv `runs` times and keeps the fastest run.
func timeCmd(name string, runs int, argv ...string) (result, error) {
	best := result{name: name}
	for i := 0; i < runs; i++ {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout = io.Discard
		cmd.Stderr = io.Discard
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return best, fmt.Errorf("%s: %w", name, err)
		}
		wall := time.Since(start)
		ps := cmd.ProcessState
		cpu := ps.UserTime() + ps.SystemTime()
		rss := int64(0)
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss
		}
		if i == 0 || cpu < best.cpu {
			best = result{name: name, wall: wall, cpu: cpu, maxRSSKiB: rss}
		}
	}
	return best, nil
}

func compare(args []string) error {
	fs := flag.NewFlagSet("benchcmp", flag.ContinueOnError)
	porttop := fs.String("porttop", "bin/porttop", "porttop binary")
	n := fs.Int("n", 3000000, "packets in the generated capture")
	runs := fs.Int("runs", 3, "runs of each command (the fastest is kept)")
	scan := fs.Bool("scan", true, "also time a full-range scan of 127.0.0.1 against nmap")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "porttop-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "bench.pcap")
	gen := exec.Command("go", "run", "./cmd/pcapgen", "-scenario", "bench", "-n", fmt.Sprint(*n), "-snaplen", "128", "-o", file)
	gen.Stderr = os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("generating the capture: %w", err)
	}
	st, _ := os.Stat(file)
	fmt.Printf("capture: %d packets, 128-byte snaplen, %.1f MiB (%s)\n\n", *n, float64(st.Size())/(1<<20), file)

	var results []result
	add := func(name string, argv ...string) {
		r, err := timeCmd(name, *runs, argv...)
		if err != nil {
			fmt.Printf("%-34s skipped: %v\n", name, err)
			return
		}
		results = append(results, r)
	}
	add("bare libpcap loop (gopacket/pcap)", self, "readloop", "-engine", "pcap", file)
	add("bare pcapgo loop", self, "readloop", "-engine", "pcapgo", file)
	add("porttop -r FILE -b -o json", *porttop, "-r", file, "-b", "-o", "json")
	if _, err := exec.LookPath("tcpdump"); err == nil {
		add("tcpdump -nn -q -r FILE", "tcpdump", "-nn", "-q", "-r", file)
	} else {
		fmt.Println("tcpdump not installed: skipped (apt-get install tcpdump)")
	}
	fmt.Printf("%-34s %10s %10s %12s %10s\n", "command", "wall", "cpu", "cpu ns/pkt", "max RSS")
	per := map[string]float64{}
	for _, r := range results {
		ns := float64(r.cpu.Nanoseconds()) / float64(*n)
		per[r.name] = ns
		fmt.Printf("%-34s %10s %10s %12.0f %7d KiB\n", r.name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond), ns, r.maxRSSKiB)
	}
	pt := per["porttop -r FILE -b -o json"]
	if pt > 0 {
		fmt.Println()
		if v := per["bare libpcap loop (gopacket/pcap)"]; v > 0 {
			fmt.Printf("porttop / bare libpcap loop: %.2fx (target <= 1.5x)\n", pt/v)
		}
		if v := per["bare pcapgo loop"]; v > 0 {
			fmt.Printf("porttop / bare pcapgo loop:  %.2fx\n", pt/v)
		}
		if v := per["tcpdump -nn -q -r FILE"]; v > 0 {
			fmt.Printf("tcpdump / porttop:           %.1fx faster (target >= 10x)\n", v/pt)
		}
	}
	if *scan {
		fmt.Println()
		scanCompare(*porttop)
	}
	return nil
}

// scanCompare times a full TCP connect scan of 127.0.0.1 by porttop and
// by nmap (when installed).
func scanCompare(porttop string) {
	r, err := timeCmd("porttop scan 127.0.0.1 -p 1-65535", 1, porttop, "scan", "127.0.0.1", "-p", "1-65535", "-o", "json")
	if err != nil {
		fmt.Println("porttop scan:", err)
		return
	}
	fmt.Printf("%-40s wall %v, cpu %v\n", r.name, r.wall.Round(time.Millisecond), r.cpu.Round(time.Millisecond))
	if _, err := exec.LookPath("nmap"); err != nil {
		fmt.Println("nmap not installed: skipped (apt-get install nmap)")
		return
	}
	nm, err := timeCmd("nmap -sT -p- 127.0.0.1", 1, "nmap", "-sT", "-p-", "-n", "-Pn", "127.0.0.1")
	if err != nil {
		fmt.Println("nmap:", err)
		return
	}
	fmt.Printf("%-40s wall %v, cpu %v\n", nm.name, nm.wall.Round(time.Millisecond), nm.cpu.Round(time.Millisecond))
	fmt.Printf("nmap / porttop scan (wall): %.1fx\n", float64(nm.wall)/float64(r.wall))
}
