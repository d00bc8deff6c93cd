// Package render turns snapshots into what front-ends show: human-readable
// units, filtered and sorted rows, table cells and sparklines. Everything
// here is a pure function of its arguments — no screen, no I/O, no clock —
// so the dashboard, the batch table and the CSV writer all show the same
// numbers in the same way.
//
// Units. Byte amounts and byte rates use IEC binary prefixes (1 KiB = 1024 B):
// "0 B", "1.5 KiB", "12.3 MiB/s". Bit rates use SI decimal prefixes
// (1 Mb/s = 1,000,000 bit/s), the convention in which network links are
// rated: "9.6 Mb/s". Counts (packets, connections) use SI prefixes: "1.2k",
// "3.4M". Above the base unit one decimal is shown; the unit label always
// says which convention applies.
package render

import (
	"math"
	"strconv"
)

var (
	iecBytes = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	iecRates = []string{"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "PiB/s", "EiB/s"}
	siBits   = []string{"b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s", "Pb/s", "Eb/s"}
	siCounts = []string{"", "k", "M", "G", "T", "P", "E"}
)

// FormatBytes formats a byte amount with IEC prefixes: "0 B", "1023 B",
// "1.5 KiB", "12.3 MiB".
func FormatBytes(n uint64) string {
	return scaled(float64(n), 1024, iecBytes, " ")
}

// FormatRate formats a rate given in bytes per second: with IEC prefixes in
// bytes ("1.2 MiB/s") or, when bits is true, converted to bits with SI
// prefixes ("9.6 Mb/s"). Negative, NaN and infinite rates show as zero.
func FormatRate(bytesPerSec float64, bits bool) string {
	if bits {
		return scaled(clean(bytesPerSec)*8, 1000, siBits, " ")
	}
	return scaled(clean(bytesPerSec), 1024, iecRates, " ")
}

// FormatCount formats a count with SI prefixes and no space: "0", "999",
// "1.2k", "3.4M".
func FormatCount(n uint64) string {
	return scaled(float64(n), 1000, siCounts, "")
}

// FormatPercent formats a fraction (0.998) as a percentage ("99.8%"); a
// negative, NaN or infinite fraction means unknown and shows as "-".
func FormatPercent(frac float64) string {
	if frac < 0 || math.IsNaN(frac) || math.IsInf(frac, 0) {
		return "-"
	}
	return strconv.FormatFloat(frac*100, 'f', 1, 64) + "%"
}

func clean(v float64) float64 {
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// scaled divides v by base until the value, rounded as it will be shown,
// is below base. The base unit is shown without decimals (with one decimal
// for a fraction below 1, so a trickle never shows as zero); larger units
// with one decimal.
func scaled(v, base float64, units []string, sep string) string {
	i := 0
	for i < len(units)-1 && shown(v, i) >= base {
		v /= base
		i++
	}
	prec := 1
	if i == 0 && (v == 0 || v >= 1) {
		prec = 0
	}
	var buf [24]byte
	b := strconv.AppendFloat(buf[:0], v, 'f', prec, 64)
	b = append(b, sep...)
	return string(append(b, units[i]...))
}

// shown is v rounded to the precision scaled prints at unit index i.
func shown(v float64, i int) float64 {
	if i == 0 {
		return math.Round(v)
	}
	return math.Round(v*10) / 10
}
