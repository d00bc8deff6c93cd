package ui

import (
	"strings"
	"unicode/utf8"

	"github.com/porttop/porttop/internal/render"
)

// colHistory is the dashboard's own column beside render's: a sparkline of
// the row's rx+tx rate over the last ticks. It sorts by rate.
const colHistory render.Column = 255

// colWidth is a column with its width in cells.
type colWidth struct {
	c render.Column
	w int
}

// layout is the set of visible columns and their fixed widths for one width
// class of the terminal. Widths never depend on the data, so rows that
// change rank or cross zero cannot shift the layout.
type layout struct {
	cols  []colWidth
	short bool // use the short titles (narrowest class)
}

// layoutFor returns the table layout for a terminal width: below 120 columns
// PKT/s, CONNS and HISTORY are left out; PROCESS and HISTORY take the spare
// width. The table puts one space between columns.
func layoutFor(width int) layout {
	var spec []colWidth
	short := false
	switch {
	case width < 120:
		short = true
		spec = []colWidth{{render.ColPort, 5}, {render.ColProto, 3}, {render.ColService, 7},
			{render.ColSide, 6}, {render.ColProcess, 7}, {render.ColRxRate, 11},
			{render.ColTxRate, 11}, {render.ColRxTotal, 9}, {render.ColTxTotal, 9}}
	case width < 160:
		spec = []colWidth{{render.ColPort, 5}, {render.ColProto, 5}, {render.ColService, 8},
			{render.ColSide, 6}, {render.ColProcess, 8}, {render.ColRxRate, 12},
			{render.ColTxRate, 12}, {render.ColRxTotal, 10}, {render.ColTxTotal, 10},
			{render.ColPacketRate, 6}, {render.ColConns, 5}, {colHistory, 10}}
	default:
		spec = []colWidth{{render.ColPort, 5}, {render.ColProto, 5}, {render.ColService, 12},
			{render.ColSide, 6}, {render.ColProcess, 14}, {render.ColRxRate, 12},
			{render.ColTxRate, 12}, {render.ColRxTotal, 10}, {render.ColTxTotal, 10},
			{render.ColPacketRate, 6}, {render.ColConns, 6}, {colHistory, 20}}
	}
	used := len(spec) - 1
	hasHist := false
	for _, s := range spec {
		used += s.w
		hasHist = hasHist || s.c == colHistory
	}
	if spare := width - used; spare > 0 {
		for i := range spec {
			switch {
			case spec[i].c == render.ColProcess && hasHist:
				spec[i].w += spare / 2
			case spec[i].c == render.ColProcess:
				spec[i].w += spare
			case spec[i].c == colHistory:
				spec[i].w += spare - spare/2
			}
		}
	}
	return layout{cols: spec, short: short}
}

// columnAt returns the index of the column under x, where x is relative to
// the table's left edge, and whether there is one.
func (l layout) columnAt(x int) (int, bool) {
	left := 0
	for i, c := range l.cols {
		if x >= left && x < left+c.w {
			return i, true
		}
		left += c.w + 1
	}
	return 0, false
}

// title returns the header text of column c in this layout.
func (l layout) title(c render.Column) string {
	if c == colHistory {
		return "HISTORY"
	}
	if l.short {
		switch c {
		case render.ColProto:
			return "PRO"
		case render.ColRxTotal:
			return "RX TOT"
		case render.ColTxTotal:
			return "TX TOT"
		}
	}
	return c.Header()
}

// sortKeyOf returns the sort key a column selects and whether it sorts.
func sortKeyOf(c render.Column) (render.SortKey, bool) {
	if c == colHistory {
		return render.SortRate, true
	}
	return c.SortKey()
}

// right reports whether column c is right-aligned.
func right(c render.Column) bool { return c != colHistory && c.Right() }

// fit pads or cuts s to exactly w cells, aligned right or left. A cut string
// ends in "…". Every rune is taken as one cell wide: the table holds port
// numbers, units, and service and process names.
func fit(s string, w int, alignRight bool) string {
	if w <= 0 {
		return ""
	}
	n := utf8.RuneCountInString(s)
	if n > w {
		r := []rune(s)
		return string(r[:w-1]) + "…"
	}
	pad := strings.Repeat(" ", w-n)
	if alignRight {
		return pad + s
	}
	return s + pad
}
