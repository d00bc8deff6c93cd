package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"
)

// ReportOptions chooses what a report shows.
type ReportOptions struct {
	// All lists closed and filtered ports too; by default they are only
	// counted.
	All bool
}

// shown reports whether p is listed (not only counted).
func (o ReportOptions) shown(p Port) bool {
	return o.All || p.State != Closed && p.State != Filtered
}

// JSONVersion is the "version" field of the JSON document; it changes only
// when a field changes meaning or goes away.
const JSONVersion = 1

type jsonPort struct {
	Port    uint16 `json:"port"`
	Proto   string `json:"proto"`
	State   State  `json:"state"`
	Reason  string `json:"reason"`
	Service string `json:"service"`
	Guess   bool   `json:"guess"`
	Banner  string `json:"banner"`
	TLS     string `json:"tls"`
	Detail  string `json:"detail"`
}

type jsonCounts struct {
	Open         int `json:"open"`
	Closed       int `json:"closed"`
	Filtered     int `json:"filtered"`
	OpenFiltered int `json:"open_filtered"`
	Unknown      int `json:"unknown"`
	Total        int `json:"total"`
}

type jsonResult struct {
	Version   int          `json:"version"`
	Target    string       `json:"target"`
	Address   netip.Addr   `json:"address"`
	Addresses []netip.Addr `json:"addresses"`
	Started   string       `json:"started"`
	DurationS float64      `json:"duration_s"`
	Ports     []jsonPort   `json:"ports"`
	Counts    jsonCounts   `json:"counts"`
}

// WriteJSON writes r as one JSON document followed by a newline:
//
//	{"version", "target", "address", "addresses", "started" (RFC 3339),
//	 "duration_s", "ports": [{"port", "proto", "state", "reason", "service",
//	 "guess", "banner", "tls", "detail"}], "counts": {"open", "closed",
//	 "filtered", "open_filtered", "unknown", "total"}}
//
// "ports" lists open, open|filtered and unknown ports (all ports with
// o.All); "counts" always covers every scanned port.
func WriteJSON(w io.Writer, r *Result, o ReportOptions) error {
	doc := jsonResult{
		Version:   JSONVersion,
		Target:    r.Target,
		Address:   r.Address,
		Addresses: r.Addresses,
		Started:   r.Started.UTC().Format(time.RFC3339Nano),
		DurationS: r.Duration.Seconds(),
		Ports:     []jsonPort{},
		Counts: jsonCounts{
			Open: r.Counts.Open, Closed: r.Counts.Closed, Filtered: r.Counts.Filtered,
			OpenFiltered: r.Counts.OpenFiltered, Unknown: r.Counts.Unknown, Total: r.Counts.Total(),
		},
	}
	if doc.Addresses == nil {
		doc.Addresses = []netip.Addr{}
	}
	for _, p := range r.Ports {
		if !o.shown(p) {
			continue
		}
		doc.Ports = append(doc.Ports, jsonPort{
			Port: p.Port, Proto: p.Proto.String(), State: p.State, Reason: p.Reason,
			Service: p.Service, Guess: p.Guess, Banner: p.Banner, TLS: p.TLS, Detail: p.Detail,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// ServiceLabel is the service as a table shows it: a guess from the
// services table ends in "?", nothing known is "-".
func ServiceLabel(p Port) string {
	switch {
	case p.Service == "":
		return "-"
	case p.Guess:
		return p.Service + "?"
	}
	return p.Service
}

// WriteTable writes r for people: a header line, one row per listed port
// (see ReportOptions), and a line counting the ports not listed.
func WriteTable(w io.Writer, r *Result, o ReportOptions) error {
	addr := r.Address.String()
	head := r.Target
	if head != addr {
		head += " (" + addr + ")"
	}
	if _, err := fmt.Fprintf(w, "scan of %s: %d ports in %.2fs\n", head, r.Counts.Total(), r.Duration.Seconds()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rows := 0
	for _, p := range r.Ports {
		if !o.shown(p) {
			continue
		}
		if rows == 0 {
			fmt.Fprintln(tw, "PORT\tSTATE\tSERVICE\tTLS\tDETAIL")
		}
		rows++
		detail := p.Detail
		if detail == "" {
			detail = p.Banner
		}
		if detail == "" && p.State != Open {
			detail = p.Reason
		}
		tls := p.TLS
		if tls == "" {
			tls = "-"
		}
		fmt.Fprintf(tw, "%d/%s\t%s\t%s\t%s\t%s\n", p.Port, p.Proto, p.State, ServiceLabel(p), tls, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rows == 0 {
		if _, err := fmt.Fprintln(w, "no open ports"); err != nil {
			return err
		}
	}
	var hidden []string
	c := r.Counts
	if !o.All && c.Closed > 0 {
		hidden = append(hidden, fmt.Sprintf("%d closed", c.Closed))
	}
	if !o.All && c.Filtered > 0 {
		hidden = append(hidden, fmt.Sprintf("%d filtered", c.Filtered))
	}
	if len(hidden) > 0 {
		_, err := fmt.Fprintf(w, "not shown: %s\n", strings.Join(hidden, ", "))
		return err
	}
	return nil
}

// ProgressLine renders a one-line progress bar of the given width in
// columns, for redrawing with a leading carriage return:
//
//	[#########...........]  45%  29491/65535 ports  3 open  0.8s
func ProgressLine(p Progress, width int) string {
	pct := 0
	if p.Total > 0 {
		pct = p.Done * 100 / p.Total
	}
	tail := fmt.Sprintf(" %3d%%  %d/%d ports  %d open  %.1fs", pct, p.Done, p.Total, p.Open, p.Elapsed.Seconds())
	bar := width - len(tail) - 2
	if bar < 5 {
		return strings.TrimSpace(tail)
	}
	fill := 0
	if p.Total > 0 {
		fill = bar * p.Done / p.Total
	}
	return "[" + strings.Repeat("#", fill) + strings.Repeat(".", bar-fill) + "]" + tail
}
