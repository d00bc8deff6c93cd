package render

import (
	"strconv"
)

// Column is one column of the port table.
type Column uint8

// The port table's columns.
const (
	ColPort       Column = iota // PORT: the service port number
	ColProto                    // PROTO: tcp or udp
	ColService                  // SERVICE: name from the services table, "-" if none
	ColSide                     // SIDE: local or remote
	ColRxRate                   // RX/s: receive rate
	ColTxRate                   // TX/s: transmit rate
	ColRxTotal                  // RX TOTAL: bytes received since start
	ColTxTotal                  // TX TOTAL: bytes sent since start
	ColPackets                  // PKTS: packets both ways since start
	ColPacketRate               // PKT/s: packets both ways per second, last interval
	ColConns                    // CONNS: distinct flows in the last interval
	ColProcess                  // PROCESS: main process, "-" if unknown
	numColumns
)

type columnInfo struct {
	header   string
	right    bool
	sort     SortKey
	sortable bool
}

var columnInfos = [numColumns]columnInfo{
	ColPort:       {header: "PORT", right: true, sort: SortPort, sortable: true},
	ColProto:      {header: "PROTO"},
	ColService:    {header: "SERVICE"},
	ColSide:       {header: "SIDE"},
	ColRxRate:     {header: "RX/s", right: true, sort: SortRx, sortable: true},
	ColTxRate:     {header: "TX/s", right: true, sort: SortTx, sortable: true},
	ColRxTotal:    {header: "RX TOTAL", right: true, sort: SortTotal, sortable: true},
	ColTxTotal:    {header: "TX TOTAL", right: true, sort: SortTotal, sortable: true},
	ColPackets:    {header: "PKTS", right: true, sort: SortPackets, sortable: true},
	ColPacketRate: {header: "PKT/s", right: true},
	ColConns:      {header: "CONNS", right: true},
	ColProcess:    {header: "PROCESS", sort: SortProcess, sortable: true},
}

// Columns returns the standard columns of the batch table, in order:
// PORT, PROTO, SERVICE, SIDE, RX/s, TX/s, RX TOTAL, TX TOTAL, PKTS, CONNS,
// PROCESS. The caller owns the slice.
func Columns() []Column {
	return []Column{ColPort, ColProto, ColService, ColSide, ColRxRate, ColTxRate,
		ColRxTotal, ColTxTotal, ColPackets, ColConns, ColProcess}
}

// Header returns the column's header text, "" for an unknown column.
func (c Column) Header() string {
	if c < numColumns {
		return columnInfos[c].header
	}
	return ""
}

// String returns the column's header text.
func (c Column) String() string { return c.Header() }

// Right reports whether the column is right-aligned (numbers are).
func (c Column) Right() bool { return c < numColumns && columnInfos[c].right }

// SortKey returns the sort key a click on the column's header selects, and
// false when the column does not sort.
func (c Column) SortKey() (SortKey, bool) {
	if c < numColumns && columnInfos[c].sortable {
		return columnInfos[c].sort, true
	}
	return 0, false
}

// Headers returns the header text of each column.
func Headers(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Header()
	}
	return out
}

// Cell formats one cell of r in human units; an unknown column gives "".
func Cell(c Column, r Row, o Options) string {
	p := r.Port
	if p == nil {
		return ""
	}
	switch c {
	case ColPort:
		return strconv.Itoa(int(p.Key.Port))
	case ColProto:
		return p.Key.Proto.String()
	case ColService:
		return orDash(p.Service)
	case ColSide:
		return p.Key.Side.String()
	case ColRxRate:
		return FormatRate(r.RxBps, o.Bits)
	case ColTxRate:
		return FormatRate(r.TxBps, o.Bits)
	case ColRxTotal:
		return FormatBytes(p.Total.RxBytes)
	case ColTxTotal:
		return FormatBytes(p.Total.TxBytes)
	case ColPackets:
		return FormatCount(p.Total.Packets())
	case ColPacketRate:
		return formatPerSecond(r.PacketsPerSec)
	case ColConns:
		return FormatCount(uint64(max(p.Connections, 0)))
	case ColProcess:
		return orDash(p.Process)
	}
	return ""
}

// Cells formats r's cells for cols, appending them to dst (which may be
// nil) so a caller can reuse one slice per row.
func Cells(dst []string, cols []Column, r Row, o Options) []string {
	for _, c := range cols {
		dst = append(dst, Cell(c, r, o))
	}
	return dst
}

// formatPerSecond formats a count per second ("0", "0.5", "12", "1.2k").
func formatPerSecond(v float64) string {
	v = clean(v)
	if v > 0 && v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return scaled(v, 1000, siCounts, "")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
