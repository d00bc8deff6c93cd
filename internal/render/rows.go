package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/portset"
	"github.com/porttop/porttop/internal/snapshot"
)

// SortKey is what rows are sorted by (the -s flag).
type SortKey uint8

// The sort keys. Numbers sort descending (biggest first), port and process
// ascending; Options.Reverse flips that. Ties always break on port, then
// proto, then side, ascending (key.Less), whatever the direction.
const (
	// SortRate sorts by rx+tx rate (this interval, or Options.Rates).
	SortRate SortKey = iota
	// SortRx sorts by receive rate.
	SortRx
	// SortTx sorts by transmit rate.
	SortTx
	// SortTotal sorts by rx+tx bytes since start.
	SortTotal
	// SortPort sorts by port number.
	SortPort
	// SortPackets sorts by rx+tx packets since start.
	SortPackets
	// SortProcess sorts by process name, ignoring case; rows without a
	// known process come last.
	SortProcess
	numSortKeys
)

var sortKeyNames = [numSortKeys]string{"rate", "rx", "tx", "total", "port", "packets", "process"}

// SortKeys returns every sort key in the order the -s flag lists them.
func SortKeys() []SortKey {
	out := make([]SortKey, numSortKeys)
	for i := range out {
		out[i] = SortKey(i)
	}
	return out
}

// String returns the key's name as the -s flag spells it ("rate", "rx", ...).
func (k SortKey) String() string {
	if k < numSortKeys {
		return sortKeyNames[k]
	}
	return "sortkey(" + fmt.Sprint(uint8(k)) + ")"
}

// ParseSortKey parses the -s flag: rate, rx, tx, total, port, packets or
// process (any case).
func ParseSortKey(s string) (SortKey, error) {
	for i, n := range sortKeyNames {
		if strings.EqualFold(s, n) {
			return SortKey(i), nil
		}
	}
	return 0, fmt.Errorf("unknown sort key %q (want rate, rx, tx, total, port, packets or process)", s)
}

// Ascending reports whether the key sorts ascending by default (port and
// process); numeric keys sort descending.
func (k SortKey) Ascending() bool { return k == SortPort || k == SortProcess }

// RateFunc returns a row's receive and transmit rates in bytes per second,
// for example averaged over a longer window from the history ring.
type RateFunc func(k key.Key) (rxBps, txBps float64)

// Options are the view settings that shape rows and cells. The zero value
// sorts by rate, shows every port and formats rates in bytes.
type Options struct {
	// Sort is the sort key; Reverse flips its direction (not the tie-break).
	Sort    SortKey
	Reverse bool
	// Totals makes the rate, rx and tx keys sort by bytes since start
	// instead of rates (the dashboard's `t` key).
	Totals bool
	// Ports keeps only these ports; the empty set keeps all.
	Ports portset.Set
	// Match, when set, keeps only the rows it returns true for (the
	// dashboard's filter prompt). It is applied after Ports.
	Match func(p *snapshot.Port) bool
	// Bits shows rates in bits per second instead of bytes.
	Bits bool
	// Rates, when set, supplies each row's rates (for example the history
	// ring's 10 s average); nil means the snapshot's last interval.
	Rates RateFunc
}

// Row is one port row ready to show: the snapshot's port and its rates.
// Port points into the snapshot, which must not be modified.
type Row struct {
	Port         *snapshot.Port
	RxBps, TxBps float64 // bytes per second (Options.Rates or last interval)
	// PacketsPerSec is rx+tx packets per second over the last interval.
	PacketsPerSec float64
}

// Rows returns the snapshot's ports that pass o's filters, sorted by o. The
// snapshot is not modified; the rows point into it. A nil snapshot gives no
// rows.
func Rows(s *snapshot.Snapshot, o Options) []Row {
	if s == nil {
		return nil
	}
	rows := make([]Row, 0, len(s.Ports))
	for i := range s.Ports {
		p := &s.Ports[i]
		if !o.Ports.Empty() && !o.Ports.Contains(p.Key.Port) {
			continue
		}
		if o.Match != nil && !o.Match(p) {
			continue
		}
		r := Row{Port: p, PacketsPerSec: snapshot.PerSecond(p.Delta.Packets(), s.Interval)}
		if o.Rates != nil {
			r.RxBps, r.TxBps = o.Rates(p.Key)
		} else {
			r.RxBps, r.TxBps = p.RxBps(s.Interval), p.TxBps(s.Interval)
		}
		rows = append(rows, r)
	}
	SortRows(rows, o)
	return rows
}

// SortRows sorts rows in place by o.Sort, o.Reverse and o.Totals, breaking
// ties on port, proto, side ascending. The sort is deterministic.
func SortRows(rows []Row, o Options) {
	slices.SortFunc(rows, func(a, b Row) int { return Compare(a, b, o) })
}

// Compare orders two rows as SortRows does: negative when a comes first.
func Compare(a, b Row, o Options) int {
	c := primary(a, b, o)
	if !o.Sort.Ascending() {
		c = -c
	}
	if o.Reverse {
		c = -c
	}
	if c != 0 {
		return c
	}
	switch ka, kb := a.Port.Key, b.Port.Key; {
	case key.Less(ka, kb):
		return -1
	case key.Less(kb, ka):
		return 1
	}
	return 0
}

// primary compares the sort key's values, ascending.
func primary(a, b Row, o Options) int {
	pa, pb := a.Port, b.Port
	switch o.Sort {
	case SortRate:
		if o.Totals {
			return cmp.Compare(pa.Total.Bytes(), pb.Total.Bytes())
		}
		return cmp.Compare(a.RxBps+a.TxBps, b.RxBps+b.TxBps)
	case SortRx:
		if o.Totals {
			return cmp.Compare(pa.Total.RxBytes, pb.Total.RxBytes)
		}
		return cmp.Compare(a.RxBps, b.RxBps)
	case SortTx:
		if o.Totals {
			return cmp.Compare(pa.Total.TxBytes, pb.Total.TxBytes)
		}
		return cmp.Compare(a.TxBps, b.TxBps)
	case SortTotal:
		return cmp.Compare(pa.Total.Bytes(), pb.Total.Bytes())
	case SortPort:
		return cmp.Compare(pa.Key.Port, pb.Key.Port)
	case SortPackets:
		return cmp.Compare(pa.Total.Packets(), pb.Total.Packets())
	case SortProcess:
		// Known processes first, alphabetically (case-insensitive).
		switch ea, eb := pa.Process == "", pb.Process == ""; {
		case ea && eb:
			return 0
		case ea:
			return 1
		case eb:
			return -1
		}
		return compareFold(pa.Process, pb.Process)
	}
	return 0
}

// compareFold compares a and b ignoring case, without allocating.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(unicode.ToLower(ra), unicode.ToLower(rb)); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}
