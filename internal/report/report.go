// Package report writes batch reports (porttop -b): a snapshot per interval
// as an aligned text table like `top -b`, as JSON Lines (the contract in
// DESIGN.md), or as CSV with raw numbers. Every writer takes the same
// render.Options, so the rows, their filter and their order are the same in
// every format and on the dashboard.
package report

import (
	"fmt"
	"io"

	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/snapshot"
)

// Writer writes one report per snapshot.
type Writer interface {
	// Write writes the report for s. It returns the underlying writer's
	// error, if any; a nil snapshot is an error.
	Write(s *snapshot.Snapshot) error
}

// Formats lists the output formats New accepts.
func Formats() []string { return []string{"table", "json", "csv"} }

// New returns the writer for format ("table", "json" or "csv") on w.
func New(format string, w io.Writer, o render.Options) (Writer, error) {
	if w == nil {
		return nil, fmt.Errorf("no output for the %s report", format)
	}
	switch format {
	case "table":
		return &tableWriter{w: w, o: o}, nil
	case "json":
		return &jsonWriter{w: w, o: o}, nil
	case "csv":
		return &csvWriter{w: w, o: o}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want table, json or csv)", format)
}

var errNilSnapshot = fmt.Errorf("report: no snapshot to write")
