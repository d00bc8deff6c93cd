package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/portset"
	"github.com/porttop/porttop/internal/render"
)

// options are porttop's command-line settings.
type options struct {
	batch         bool
	count         int
	interval      time.Duration
	every         time.Duration
	format        string
	sort          render.SortKey
	reverse       bool
	ports         portset.Set
	file          string
	ifaces        []string
	filter        string
	local         []netip.Prefix
	snaplen       int
	bufferMiB     int
	engine        capture.Engine
	promisc       bool
	noColor       bool
	bits          bool
	excludeOwnSSH bool
	services      string
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// localFlag collects repeated --local CIDR values.
type localFlag struct{ p *[]netip.Prefix }

func (l localFlag) String() string { return "" }

func (l localFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if pfx, err := netip.ParsePrefix(part); err == nil {
			*l.p = append(*l.p, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return fmt.Errorf("bad address or CIDR %q (want e.g. 10.0.0.0/8 or 192.0.2.1)", part)
		}
		*l.p = append(*l.p, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return nil
}

const usageText = `porttop — top for network ports: live per-port traffic.

Usage:
  porttop [flags]              live dashboard on the default interface
  porttop -b [flags]           batch: a report every interval (-n N: stop after N)
  porttop -r FILE [flags]      read a pcap/pcapng file (gzip too); with -b print the
                               totals at end of file (--every D: a report per D of packet time)
  porttop ports [-o FORMAT]    list listening ports and their processes
  porttop scan TARGET [flags]  TCP connect scan with service identification

Bytes are frame lengths on the wire (link-layer header included);
rx = toward this host, tx = from it (on loopback: toward / from the service port).

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("porttop", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var ifaces, sortKey, ports, engine string
	fs.BoolVar(&o.batch, "b", false, "batch mode: print a report every interval instead of the dashboard")
	fs.IntVar(&o.count, "n", 0, "batch: stop after `N` reports (0 = until interrupted)")
	fs.DurationVar(&o.interval, "d", time.Second, "refresh `interval`")
	fs.DurationVar(&o.every, "every", 0, "with -r: a report per `DURATION` of packet time (default: totals at end of file)")
	fs.StringVar(&o.format, "o", "table", "batch output `format`: table, json or csv")
	fs.StringVar(&sortKey, "s", "rate", "sort `key`: rate, rx, tx, total, port, packets, process")
	fs.BoolVar(&o.reverse, "reverse", false, "reverse the sort order")
	fs.StringVar(&ports, "p", "", "only these `ports`, e.g. 22,80,8000-8100")
	fs.StringVar(&o.file, "r", "", "read packets from a pcap/pcapng `file` (gzip-compressed too)")
	fs.StringVar(&ifaces, "i", "", "`interfaces` to capture on, comma-separated; any = all (default: the default route's)")
	fs.StringVar(&o.filter, "f", "", "BPF filter `expression` (tcpdump syntax; VLAN-tagged frames match too)")
	fs.Var(localFlag{&o.local}, "local", "this host's addresses, `CIDR` or address (repeatable); offline without it the service end is this host")
	fs.IntVar(&o.snaplen, "snaplen", capture.DefaultSnaplen, "bytes kept per packet: headers only, never payload")
	fs.IntVar(&o.bufferMiB, "buffer", capture.DefaultBufferSize>>20, "kernel capture buffer in `MiB`")
	fs.StringVar(&engine, "engine", "auto", "live capture `engine`: auto, pcap or afpacket")
	fs.BoolVar(&o.promisc, "promisc", false, "put the interfaces in promiscuous mode")
	fs.BoolVar(&o.noColor, "no-color", false, "dashboard without colours (also NO_COLOR=1)")
	fs.BoolVar(&o.bits, "bits", false, "show rates in bits per second")
	fs.BoolVar(&o.excludeOwnSSH, "exclude-own-ssh", false, "leave out this ssh session's own connection (SSH_CONNECTION), which carries porttop's screen updates")
	fs.StringVar(&o.services, "services", "", "services(5)-format `file` adding or renaming service names")
	// The flag package calls Usage on every parse error; porttop prints
	// one line instead, and the full usage only for -h.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usageText)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return nil, err
		}
		return nil, usageError{err.Error() + " (see porttop -h)"}
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (see porttop -h)", fs.Arg(0))
	}
	if o.interval <= 0 {
		return nil, usagef("bad -d %v: the refresh interval must be positive", o.interval)
	}
	if o.every < 0 {
		return nil, usagef("bad --every %v: must be positive", o.every)
	}
	if o.every > 0 && o.file == "" {
		return nil, usagef("--every needs -r FILE (live mode reports every -d)")
	}
	if o.count < 0 {
		return nil, usagef("bad -n %d: must be 0 or more", o.count)
	}
	switch o.format {
	case "table", "json", "csv":
	default:
		return nil, usagef("unknown output format %q (want table, json or csv)", o.format)
	}
	var err error
	if o.sort, err = render.ParseSortKey(sortKey); err != nil {
		return nil, usageError{err.Error()}
	}
	if ports != "" {
		if o.ports, err = portset.Parse(ports); err != nil {
			return nil, usageError{err.Error()}
		}
	}
	if o.engine, err = capture.ParseEngine(engine); err != nil {
		return nil, usageError{err.Error()}
	}
	if o.snaplen < 1 || o.snaplen > 262144 {
		return nil, usagef("bad --snaplen %d (want 1 to 262144)", o.snaplen)
	}
	if o.bufferMiB < 1 || o.bufferMiB > 1024 {
		return nil, usagef("bad --buffer %d MiB (want 1 to 1024)", o.bufferMiB)
	}
	if ifaces != "" {
		if o.file != "" {
			return nil, usagef("-i and -r cannot be used together")
		}
		for _, n := range strings.Split(ifaces, ",") {
			if n = strings.TrimSpace(n); n != "" {
				o.ifaces = append(o.ifaces, n)
			}
		}
		if len(o.ifaces) == 0 {
			return nil, usagef("bad -i %q: no interface named", ifaces)
		}
	}
	return o, nil
}
