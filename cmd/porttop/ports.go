package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/engine"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/procs"
	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/services"
	"github.com/porttop/porttop/internal/snapshot"
)

const portsUsage = `usage: porttop ports [-o table|json|csv] [--capture DURATION [-i IFACES]]

Lists this host's listening TCP and UDP sockets: proto, bind address, port,
service, process, pid and user, sorted by port then proto. Owners of other
users' sockets are shown only to root or with cap_sys_ptrace.

  -o FORMAT            table (default), json (one object per line) or csv
  --capture DURATION   capture for DURATION first and add each port's
                       traffic (rx/tx bytes, connections) to the list
  -i IFACES            interfaces for --capture (default: the default route's)
`

// portRow is one line of the listening inventory.
type portRow struct {
	Proto     string `json:"proto"`
	Address   string `json:"address"`
	Port      uint16 `json:"port"`
	Service   string `json:"service"`
	Process   string `json:"process"`
	PID       int32  `json:"pid"`
	User      string `json:"user"`
	Namespace string `json:"namespace"`
	// Note says why Process is empty ("needs root or cap_sys_ptrace").
	Note string `json:"note"`
	// Traffic is the port's traffic during --capture (nil without it).
	Traffic *portTraffic `json:"traffic,omitempty"`
}

// portTraffic is a listening port's traffic while porttop captured.
type portTraffic struct {
	RxBytes     uint64 `json:"rx_bytes"`
	TxBytes     uint64 `json:"tx_bytes"`
	RxPackets   uint64 `json:"rx_packets"`
	TxPackets   uint64 `json:"tx_packets"`
	Connections int    `json:"connections"`
}

// runPorts runs `porttop ports`; args are the arguments after "ports". It
// returns the process exit code: 0 done, 1 the socket table could not be
// read or written out, 2 bad command line.
func runPorts(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("porttop ports", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("o", "table", "")
	captureFor := fs.Duration("capture", 0, "")
	ifaces := fs.String("i", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, portsUsage)
			return 0
		}
		fmt.Fprintf(stderr, "porttop ports: %v (see porttop ports -h)\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "porttop ports: unexpected argument %q (see porttop ports -h)\n", fs.Arg(0))
		return 2
	}
	var write func(io.Writer, []portRow) error
	switch *format {
	case "table":
		write = writePortsTable
	case "json":
		write = writePortsJSON
	case "csv":
		write = writePortsCSV
	default:
		fmt.Fprintf(stderr, "porttop ports: unknown output format %q (want table, json or csv)\n", *format)
		return 2
	}

	if *captureFor < 0 {
		fmt.Fprintf(stderr, "porttop ports: bad --capture %v: must be positive\n", *captureFor)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var traffic *snapshot.Snapshot
	if *captureFor > 0 {
		s, err := captureTraffic(ctx, *captureFor, *ifaces, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "porttop ports: %s\n", oneLine(err))
			return 1
		}
		traffic = s
	}
	t, err := procs.NewScanner(procs.Options{}).Refresh(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "porttop ports: %v\n", err)
		return 1
	}
	rows := listeningRows(t)
	if traffic != nil {
		addTraffic(rows, traffic)
	}
	if err := write(stdout, rows); err != nil {
		fmt.Fprintf(stderr, "porttop ports: writing the list: %v\n", err)
		return 1
	}
	return 0
}

// listeningRows turns the table's listening sockets into rows, sorted by
// port, proto, address and pid, one per distinct (proto, address, port,
// pid).
func listeningRows(t *procs.Table) []portRow {
	type seenKey struct {
		proto, addr string
		port        uint16
		pid         int32
	}
	seen := make(map[seenKey]bool)
	var rows []portRow
	for _, s := range t.Listening() {
		r := portRow{
			Proto:     s.Proto.String(),
			Address:   s.Local.Addr().String(),
			Port:      s.Local.Port(),
			Service:   services.Name(s.Proto, s.Local.Port()),
			PID:       s.PID,
			User:      s.User,
			Namespace: s.Netns,
		}
		k := seenKey{r.Proto, r.Address, r.Port, r.PID}
		if seen[k] {
			continue
		}
		seen[k] = true
		if p, ok := t.Process(s.PID); ok {
			r.Process = p.Name
			if p.Namespace != "" {
				r.Namespace = p.Namespace
			}
			if p.User != "" {
				r.User = p.User
			}
		}
		if s.PID == 0 && s.Inode != 0 {
			r.Note = t.HiddenNote()
		}
		rows = append(rows, r)
	}
	return rows
}

// captureTraffic captures on ifaces (comma-separated; "" = the default
// interface) for d and returns the last snapshot.
func captureTraffic(ctx context.Context, d time.Duration, ifaces string, stderr io.Writer) (*snapshot.Snapshot, error) {
	o := &options{snaplen: capture.DefaultSnaplen, bufferMiB: capture.DefaultBufferSize >> 20, interval: d}
	for _, n := range strings.Split(ifaces, ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.ifaces = append(o.ifaces, n)
		}
	}
	var last *snapshot.Snapshot
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sink := engine.SinkFunc(func(s *snapshot.Snapshot) error {
		last = s
		cancel() // one interval of length d is all we need
		return nil
	})
	if err := runLive(ctx, o, services.Builtin(), stderr, sink); err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	if last == nil {
		return nil, errors.New("capture stopped before the first report")
	}
	return last, nil
}

// addTraffic fills each row's traffic from the snapshot's local rows.
func addTraffic(rows []portRow, s *snapshot.Snapshot) {
	byKey := make(map[key.Key]*snapshot.Port, len(s.Ports))
	for i := range s.Ports {
		byKey[s.Ports[i].Key] = &s.Ports[i]
	}
	for i := range rows {
		p, err := key.ParseProto(rows[i].Proto)
		if err != nil {
			continue
		}
		t := &portTraffic{}
		if sp := byKey[key.Key{Proto: p, Port: rows[i].Port, Side: key.Local}]; sp != nil {
			t.RxBytes, t.TxBytes = sp.Total.RxBytes, sp.Total.TxBytes
			t.RxPackets, t.TxPackets = sp.Total.RxPackets, sp.Total.TxPackets
			t.Connections = sp.Connections
		}
		rows[i].Traffic = t
	}
}

func writePortsTable(w io.Writer, rows []portRow) error {
	withNS, withTraffic := false, false
	for _, r := range rows {
		withNS = withNS || r.Namespace != ""
		withTraffic = withTraffic || r.Traffic != nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "PROTO\tADDRESS\tPORT\tSERVICE\tPROCESS\tPID\tUSER"
	if withNS {
		header += "\tNAMESPACE"
	}
	if withTraffic {
		header += "\tRX TOTAL\tTX TOTAL\tCONNS"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		proc := r.Process
		if proc == "" && r.Note != "" {
			proc = "(" + r.Note + ")"
		}
		line := fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s\t%s",
			r.Proto, r.Address, r.Port, dash(r.Service), dash(proc), dash(pidString(r.PID)), dash(r.User))
		if withNS {
			line += "\t" + dash(r.Namespace)
		}
		if withTraffic && r.Traffic != nil {
			line += "\t" + render.FormatBytes(r.Traffic.RxBytes) + "\t" + render.FormatBytes(r.Traffic.TxBytes) +
				"\t" + strconv.Itoa(r.Traffic.Connections)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func writePortsJSON(w io.Writer, rows []portRow) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func writePortsCSV(w io.Writer, rows []portRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"proto", "address", "port", "service", "process", "pid", "user", "namespace", "note",
		"rx_bytes", "tx_bytes", "connections"})
	for _, r := range rows {
		var rx, tx, conns string
		if r.Traffic != nil {
			rx, tx = strconv.FormatUint(r.Traffic.RxBytes, 10), strconv.FormatUint(r.Traffic.TxBytes, 10)
			conns = strconv.Itoa(r.Traffic.Connections)
		}
		cw.Write([]string{r.Proto, r.Address, strconv.Itoa(int(r.Port)), r.Service, r.Process,
			strconv.Itoa(int(r.PID)), r.User, r.Namespace, r.Note, rx, tx, conns})
	}
	cw.Flush()
	return cw.Error()
}

func pidString(pid int32) string {
	if pid == 0 {
		return ""
	}
	return strconv.Itoa(int(pid))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
