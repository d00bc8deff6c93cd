package report

import (
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/snapshot"
)

// tableWriter prints a report like `top -b`:
//
//	porttop 2026-11-28T12:00:00Z, interval 1s, 3 ports, rx 1.2 MiB tx 3.4 MiB, other rx 10 B tx 0 B, packets 1.2k, decode errors 0
//	eth0: nic rx 1.2 MiB/s tx 3.4 KiB/s, total rx 1.0 GiB tx 2.0 GiB, captured 1.0 GiB, coverage 99.8%, dropped 0, decode errors 0
//	<blank>
//	 PORT  PROTO  SERVICE  SIDE  RX/s ...  PROCESS
//	   22  tcp    ssh      local  ...      sshd
//	<blank>
//
// The header's rx/tx are all counted bytes since start (ports and other).
// Rows use render's cells, so units match the dashboard; Options.Rates is
// honoured. The column header is printed even when there are no rows.
type tableWriter struct {
	w     io.Writer
	o     render.Options
	buf   []byte
	cells [][]string
}

func (t *tableWriter) Write(s *snapshot.Snapshot) error {
	if s == nil {
		return errNilSnapshot
	}
	b := t.buf[:0]
	rows := render.Rows(s, t.o)

	var total snapshot.Counters
	for i := range s.Ports {
		total.Add(s.Ports[i].Total)
	}
	total.Add(s.Other)
	b = append(b, "porttop "...)
	b = s.Time.AppendFormat(b, time.RFC3339)
	b = append(b, ", interval "...)
	b = append(b, s.Interval.Round(time.Millisecond).String()...)
	b = append(b, ", "...)
	b = append(b, render.FormatCount(uint64(len(rows)))...)
	if len(rows) == 1 {
		b = append(b, " port"...)
	} else {
		b = append(b, " ports"...)
	}
	b = append(b, ", rx "...)
	b = append(b, render.FormatBytes(total.RxBytes)...)
	b = append(b, " tx "...)
	b = append(b, render.FormatBytes(total.TxBytes)...)
	b = append(b, ", other rx "...)
	b = append(b, render.FormatBytes(s.Other.RxBytes)...)
	b = append(b, " tx "...)
	b = append(b, render.FormatBytes(s.Other.TxBytes)...)
	b = append(b, ", packets "...)
	b = append(b, render.FormatCount(s.Capture.Packets)...)
	b = append(b, ", decode errors "...)
	b = append(b, render.FormatCount(s.Capture.DecodeErrors)...)
	b = append(b, '\n')

	for i := range s.Interfaces {
		b = t.appendInterface(b, &s.Interfaces[i])
	}
	b = append(b, '\n')

	cols := render.Columns()
	t.cells = t.cells[:0]
	t.cells = append(t.cells, render.Headers(cols))
	for _, r := range rows {
		t.cells = append(t.cells, render.Cells(nil, cols, r, t.o))
	}
	b = appendAligned(b, cols, t.cells)
	b = append(b, '\n')
	t.buf = b
	_, err := t.w.Write(b)
	return err
}

func (t *tableWriter) appendInterface(b []byte, f *snapshot.Interface) []byte {
	b = append(b, oneLine(f.Name)...)
	b = append(b, ": "...)
	if f.NICValid {
		b = append(b, "nic rx "...)
		b = append(b, render.FormatRate(f.RxBps, t.o.Bits)...)
		b = append(b, " tx "...)
		b = append(b, render.FormatRate(f.TxBps, t.o.Bits)...)
		b = append(b, ", total rx "...)
		b = append(b, render.FormatBytes(f.RxBytes)...)
		b = append(b, " tx "...)
		b = append(b, render.FormatBytes(f.TxBytes)...)
	} else {
		b = append(b, "nic counters n/a"...)
	}
	b = append(b, ", captured "...)
	b = append(b, render.FormatBytes(f.CapturedBytes)...)
	b = append(b, ", coverage "...)
	b = append(b, render.FormatPercent(f.Coverage)...)
	b = append(b, ", dropped "...)
	b = append(b, render.FormatCount(f.DroppedPackets+f.IfDropped)...)
	b = append(b, ", decode errors "...)
	b = append(b, render.FormatCount(f.DecodeErrors)...)
	if f.Err != "" {
		b = append(b, ", error: "...)
		b = append(b, oneLine(f.Err)...)
	}
	return append(b, '\n')
}

// appendAligned lays out rows of cells in columns two spaces apart, each
// padded to its widest cell (right-aligned where the column says so); the
// last column is not padded, so lines carry no trailing spaces.
func appendAligned(b []byte, cols []render.Column, rows [][]string) []byte {
	widths := make([]int, len(cols))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		for i, c := range row {
			c = oneLine(c)
			pad := widths[i] - utf8.RuneCountInString(c)
			if i > 0 {
				b = append(b, "  "...)
			}
			if cols[i].Right() {
				b = appendSpaces(b, pad)
				b = append(b, c...)
			} else {
				b = append(b, c...)
				if i < len(row)-1 {
					b = appendSpaces(b, pad)
				}
			}
		}
		b = append(b, '\n')
	}
	return b
}

func appendSpaces(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}

// oneLine keeps a line-oriented report intact when a name or error holds
// control characters: they become spaces.
func oneLine(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
