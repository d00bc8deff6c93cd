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
	"text/tabwriter"

	"github.com/porttop/porttop/internal/procs"
	"github.com/porttop/porttop/internal/services"
)

const portsUsage = `usage: porttop ports [-o table|json|csv]

Lists this host's listening TCP and UDP sockets: proto, bind address, port,
service, process, pid and user, sorted by port then proto. Owners of other
users' sockets are shown only to root or with cap_sys_ptrace.

  -o FORMAT   table (default), json (one object per line) or csv
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
}

// runPorts runs `porttop ports`; args are the arguments after "ports". It
// returns the process exit code: 0 done, 1 the socket table could not be
// read or written out, 2 bad command line.
func runPorts(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("porttop ports", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("o", "table", "")
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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	t, err := procs.NewScanner(procs.Options{}).Refresh(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "porttop ports: %v\n", err)
		return 1
	}
	if err := write(stdout, listeningRows(t)); err != nil {
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

func writePortsTable(w io.Writer, rows []portRow) error {
	withNS := false
	for _, r := range rows {
		withNS = withNS || r.Namespace != ""
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "PROTO\tADDRESS\tPORT\tSERVICE\tPROCESS\tPID\tUSER"
	if withNS {
		header += "\tNAMESPACE"
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
	cw.Write([]string{"proto", "address", "port", "service", "process", "pid", "user", "namespace", "note"})
	for _, r := range rows {
		cw.Write([]string{r.Proto, r.Address, strconv.Itoa(int(r.Port)), r.Service, r.Process,
			strconv.Itoa(int(r.PID)), r.User, r.Namespace, r.Note})
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
