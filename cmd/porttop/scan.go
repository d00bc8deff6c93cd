package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/porttop/porttop/internal/portset"
	"github.com/porttop/porttop/internal/scan"
	"golang.org/x/term"
)

const scanUsage = `usage: porttop scan TARGET [flags]

TCP connect scan of TARGET (an IP address or a host name, resolved once;
the first address is scanned). Open ports are identified from what they
say; a name from the services table is marked with "?".

flags:
  -p LIST             TCP ports, e.g. 22,80,8000-8100; "-" for 1-65535
                      (default: the 1,000 most common)
  --timeout D         connect timeout (default 500ms)
  --probe-timeout D   wait for a banner or a probe's answer (default 2x timeout)
  --concurrency N     connects in flight (default 1000 on loopback, 256 otherwise)
  --rate N            at most N connects per second (default: no cap)
  --udp               also probe UDP ports with DNS and NTP questions
  --udp-ports LIST    UDP ports for --udp (default 53,123)
  --all               list closed and filtered ports too (default: count them)
  -o table|json       output format (default table)

exit status: 0 done, 1 scan failed, 2 bad usage, 130 interrupted.
`

// scanFlags are the parsed command line of `porttop scan`.
type scanFlags struct {
	target string
	opts   scan.Options
	report scan.ReportOptions
	format string
}

// runScan runs `porttop scan`; args are the arguments after "scan". It
// returns the process exit code.
func runScan(args []string, stdout, stderr io.Writer) int {
	f, err := parseScanFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, scanUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "porttop:", oneLine(err))
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var bar *progressBar
	if isTerminal(stderr) {
		bar = &progressBar{w: stderr, width: terminalWidth(stderr) - 1}
		f.opts.OnProgress = bar.draw
	}
	res, err := scan.Scan(ctx, f.target, f.opts)
	if bar != nil {
		bar.clear()
	}
	interrupted := ctx.Err() != nil
	var terr *scan.TargetError
	if errors.As(err, &terr) && !interrupted {
		fmt.Fprintln(stderr, "porttop:", oneLine(err))
		return 2
	}
	if err != nil && !interrupted {
		fmt.Fprintln(stderr, "porttop:", oneLine(err))
		return 1
	}
	if res != nil {
		var werr error
		if f.format == "json" {
			werr = scan.WriteJSON(stdout, res, f.report)
		} else {
			werr = scan.WriteTable(stdout, res, f.report)
		}
		if werr != nil {
			fmt.Fprintln(stderr, "porttop: writing the report:", oneLine(werr))
			return 1
		}
	}
	if interrupted {
		fmt.Fprintln(stderr, "porttop: scan interrupted; the report covers the ports scanned so far")
		return 130
	}
	return 0
}

// parseScanFlags parses the arguments of `porttop scan`. Flags may come
// before or after the target.
func parseScanFlags(args []string) (scanFlags, error) {
	fs := flag.NewFlagSet("porttop scan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	ports := fs.String("p", "", "")
	timeout := fs.String("timeout", "", "")
	probeTimeout := fs.String("probe-timeout", "", "")
	concurrency := fs.String("concurrency", "", "")
	rate := fs.String("rate", "", "")
	udp := fs.Bool("udp", false, "")
	udpPorts := fs.String("udp-ports", "53,123", "")
	all := fs.Bool("all", false, "")
	format := fs.String("o", "table", "")

	var positional []string
	rest := args
	for range len(args) + 1 { // each round consumes at least one argument
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return scanFlags{}, err
			}
			return scanFlags{}, errors.New(firstErrLine(err))
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	var f scanFlags
	switch len(positional) {
	case 0:
		return f, errors.New("missing target (usage: porttop scan TARGET [-p LIST] [-o table|json]; -h for help)")
	case 1:
		f.target = positional[0]
	default:
		return f, fmt.Errorf("one target only, got %d: %s", len(positional), strings.Join(positional, " "))
	}
	if strings.TrimSpace(f.target) == "" {
		return f, errors.New("empty target (want an IP address or host name)")
	}
	var err error
	if *ports != "" {
		if f.opts.Ports, err = parsePortList(*ports); err != nil {
			return f, err
		}
	}
	if *udp {
		if f.opts.UDPPorts, err = parsePortList(*udpPorts); err != nil {
			return f, fmt.Errorf("--udp-ports: %w", err)
		}
	}
	if f.opts.Timeout, err = parsePositiveDuration("--timeout", *timeout); err != nil {
		return f, err
	}
	if f.opts.ProbeTimeout, err = parsePositiveDuration("--probe-timeout", *probeTimeout); err != nil {
		return f, err
	}
	if f.opts.Concurrency, err = parseCount("--concurrency", *concurrency, 1, scan.MaxConcurrency); err != nil {
		return f, err
	}
	if f.opts.Rate, err = parseCount("--rate", *rate, 1, 1_000_000); err != nil {
		return f, err
	}
	switch *format {
	case "table", "json":
		f.format = *format
	default:
		return f, fmt.Errorf("bad output format %q (want table or json)", *format)
	}
	f.report.All = *all
	return f, nil
}

// firstErrLine keeps flag's error to one line.
func firstErrLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// parsePortList parses a -p list with portset; "-" means every port.
// Port 0 cannot be connected to, so it is refused.
func parsePortList(s string) ([]uint16, error) {
	if strings.TrimSpace(s) == "-" {
		s = "1-65535"
	}
	set, err := portset.Parse(s)
	if err != nil {
		return nil, err
	}
	if set.Contains(0) {
		return nil, fmt.Errorf("bad port list %q: port 0 cannot be scanned (ports are 1-65535)", s)
	}
	var out []uint16
	for _, r := range set.Ranges() {
		for p := uint32(r.Lo); p <= uint32(r.Hi); p++ {
			out = append(out, uint16(p))
		}
	}
	return out, nil
}

// parsePositiveDuration parses a flag like "500ms"; "" means the default
// (0). A bare number is refused so that "--timeout 2" is not read as 2ns.
func parsePositiveDuration(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad %s %q (want a duration like 500ms or 2s)", name, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("bad %s %q (must be more than zero)", name, s)
	}
	if d > time.Hour {
		return 0, fmt.Errorf("bad %s %q (at most 1h)", name, s)
	}
	return d, nil
}

// parseCount parses a whole number in [lo, hi]; "" means the default (0).
func parseCount(name, s string, lo, hi int) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("bad %s %q (want a whole number %d-%d)", name, s, lo, hi)
	}
	return n, nil
}

// progressBar redraws one line on a terminal.
type progressBar struct {
	w     io.Writer
	width int
	drawn bool
}

func (b *progressBar) draw(p scan.Progress) {
	fmt.Fprint(b.w, "\r"+scan.ProgressLine(p, b.width)+"\x1b[K")
	b.drawn = true
}

// clear erases the bar so the report starts on a clean line.
func (b *progressBar) clear() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is the width of the terminal w, else $COLUMNS, else 80.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols >= 20 {
			return cols
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 20 && n <= 1000 {
		return n
	}
	return 80
}
