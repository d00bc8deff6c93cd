// Command porttop is top for network ports: a live per-port traffic monitor
// with a terminal dashboard, batch reports, capture-file reading, a
// listening-port inventory and a port scanner.
//
// main only parses flags, wires the packages together and maps errors to
// exit codes: 0 success, 1 runtime failure, 2 bad command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/engine"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/memlimit"
	"github.com/porttop/porttop/internal/nic"
	"github.com/porttop/porttop/internal/procs"
	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/report"
	"github.com/porttop/porttop/internal/services"
	"github.com/porttop/porttop/internal/snapshot"
	"github.com/porttop/porttop/internal/trim"
)

func main() {
	// A monitor must stay small: give back gopacket's decoder tables,
	// which porttop's own decoder never reads (5 MiB), and keep the heap
	// near what is live.
	trim.GopacketTables()
	memlimit.SetGCPercent(os.Getenv("GOGC"))
	memlimit.Run(context.Background(), 5*time.Second, os.Getenv("GOMEMLIMIT"))
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is porttop without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "scan":
			return runScan(args[1:], stdout, stderr)
		case "ports":
			return runPorts(args[1:], stdout, stderr)
		}
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "porttop:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runMain(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "porttop:", oneLine(err))
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func runMain(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	svc := services.Builtin()
	path := o.services
	if path == "" {
		path = defaultServicesFile()
	}
	if path != "" {
		t, err := loadServices(path, svc)
		if err != nil {
			return usageError{err.Error()}
		}
		svc = t
	}
	view := render.Options{Sort: o.sort, Reverse: o.reverse, Ports: o.ports, Bits: o.bits}
	if !o.batch {
		return runDashboard(ctx, o, svc, view, stderr)
	}
	w, err := report.New(o.format, stdout, view)
	if err != nil {
		return usageError{err.Error()}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reports := 0
	var writeErr error
	sink := engine.SinkFunc(func(s *snapshot.Snapshot) error {
		if writeErr != nil {
			return writeErr
		}
		if err := w.Write(s); err != nil {
			writeErr = fmt.Errorf("writing the report: %w", err)
			cancel()
			return err
		}
		reports++
		if o.count > 0 && reports >= o.count {
			cancel()
		}
		return nil
	})
	if o.file != "" {
		err = runFile(ctx, o, svc, sink)
	} else {
		err = runLive(ctx, o, svc, stderr, sink)
	}
	if writeErr != nil {
		return writeErr
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// runFile reads the capture file named by -r.
func runFile(ctx context.Context, o *options, svc *services.Table, sinks ...engine.Sink) error {
	src, err := capture.OpenFile(o.file, captureFilter(o))
	if err != nil {
		return err
	}
	defer src.Close()
	e, err := engine.New(engine.Config{Every: o.every, Local: o.local, Services: svc},
		engine.Inputs{Sources: []capture.Source{src}}, sinks...)
	if err != nil {
		return err
	}
	return e.RunOffline(ctx)
}

// openSources opens every interface of -i (or the default one). It keeps
// going while any interface works, warning about the others.
func openSources(o *options, stderr io.Writer) ([]capture.Source, error) {
	names := o.ifaces
	if len(names) == 0 {
		def, err := capture.DefaultInterface()
		if err != nil {
			return nil, fmt.Errorf("no default interface (%v): name one with -i", err)
		}
		names = []string{def}
	}
	var srcs []capture.Source
	var errs []error
	for _, n := range names {
		src, err := capture.OpenLive(capture.LiveOptions{
			Interface:  n,
			Snaplen:    o.snaplen,
			BufferSize: o.bufferMiB << 20,
			Filter:     captureFilter(o),
			Promisc:    o.promisc,
			Engine:     o.engine,
			// Each tick waits up to this long for the packets that
			// arrived before it (see capture.Holder).
			HoldTime: min(capture.DefaultHoldTime, o.interval/2),
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		srcs = append(srcs, src)
	}
	if len(srcs) == 0 {
		return nil, errors.Join(errs...)
	}
	for _, err := range errs {
		fmt.Fprintln(stderr, "porttop: warning:", oneLine(err))
	}
	return srcs, nil
}

// runLive captures on the live interfaces until ctx ends.
func runLive(ctx context.Context, o *options, svc *services.Table, stderr io.Writer, sinks ...engine.Sink) error {
	srcs, err := openSources(o, stderr)
	if err != nil {
		return err
	}
	setProcs(os.Getenv("GOMAXPROCS"), len(srcs))
	return runSources(ctx, o, svc, srcs, sinks...)
}

// setProcs gives the Go runtime one P per capture source (at least one, at
// most the CPUs) unless the user set GOMAXPROCS (gomaxprocs, "" when
// unset). The per-packet work is one goroutine per source; the tick, the
// socket table and the screen are light. Fewer Ps mean fewer threads
// woken to hand work from one goroutine to the next: on lo at 20,000
// packets/s, 167-171 instead of 183-188 ns of CPU per packet
// (docs/PERFORMANCE.md).
func setProcs(gomaxprocs string, sources int) {
	if gomaxprocs != "" {
		return
	}
	runtime.GOMAXPROCS(max(1, min(sources, runtime.NumCPU())))
}

// runSources runs the live engine over opened sources until ctx ends,
// then closes them.
func runSources(ctx context.Context, o *options, svc *services.Table, srcs []capture.Source, sinks ...engine.Sink) error {
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	watcher := procs.NewWatcher(procs.NewScanner(procs.Options{}), o.interval)
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	watcher.Start(wctx)
	e, err := engine.New(engine.Config{Interval: o.interval, Local: o.local, Services: svc},
		engine.Inputs{
			Sources:    srcs,
			NIC:        nic.NewReader(""),
			LocalAddrs: nic.LocalAddrs,
			Processes:  processes{watcher},
		}, sinks...)
	if err != nil {
		return err
	}
	return e.Run(ctx)
}

// processes adapts the socket-table watcher to the engine.
type processes struct{ w *procs.Watcher }

func (p processes) ListeningKeys() []key.Key {
	if t := p.w.Latest(); t != nil {
		return procs.ListeningPorts(t)
	}
	return nil
}

// Annotate is called on every engine tick: it also lets the watcher
// refresh the socket table in that same wake-up (see procs.Watcher.Tick).
func (p processes) Annotate(ports []snapshot.Port, flows []snapshot.Flow) {
	p.w.Annotate(ports, flows)
	p.w.Tick()
}

// captureFilter is the user's -f expression, with this ssh session's own
// connection left out when --exclude-own-ssh asks for it.
func captureFilter(o *options) string {
	if !o.excludeOwnSSH || o.file != "" {
		return o.filter
	}
	self := sshSelfFilter(os.Getenv("SSH_CONNECTION"))
	switch {
	case self == "":
		return o.filter
	case o.filter == "":
		return self
	default:
		return "(" + o.filter + ") and " + self
	}
}

// sshSelfFilter turns SSH_CONNECTION ("client_ip client_port server_ip
// server_port") into a BPF expression excluding that connection.
func sshSelfFilter(conn string) string {
	f := strings.Fields(conn)
	if len(f) != 4 {
		return ""
	}
	return fmt.Sprintf("not (host %s and host %s and port %s and port %s)", f[0], f[2], f[1], f[3])
}

// defaultServicesFile returns the user's service-name file,
// $XDG_CONFIG_HOME/porttop/services (~/.config/porttop/services), when it
// exists, else "".
func defaultServicesFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	path := filepath.Join(dir, "porttop", "services")
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

// loadServices reads a services(5)-format file of additions and renames.
func loadServices(path string, base *services.Table) (*services.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("services file: %w", err)
	}
	defer f.Close()
	entries, err := services.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("services file %s: %w", path, err)
	}
	return base.WithOverrides(entries), nil
}
