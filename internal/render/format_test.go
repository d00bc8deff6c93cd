package render

import (
	"math"
	"testing"
)

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		in   uint64
		want string
	}{
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1024*1024 - 1, "1.0 MiB"}, // 1023.999 KiB rounds up and moves to the next unit
		{1024*1023 + 972, "1023.9 KiB"},
		{12_897_485, "12.3 MiB"},
		{5 << 30, "5.0 GiB"},
		{3 << 40, "3.0 TiB"},
		{1 << 50, "1.0 PiB"},
		{math.MaxUint64, "16.0 EiB"},
	}
	for _, tt := range tests {
		if got := FormatBytes(tt.in); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatRate(t *testing.T) {
	tests := []struct {
		in   float64
		bits bool
		want string
	}{
		{0, false, "0 B/s"},
		{0, true, "0 b/s"},
		{0.5, false, "0.5 B/s"},
		{0.04, false, "0.0 B/s"},
		{1, false, "1 B/s"},
		{999.6, false, "1000 B/s"},
		{1023.4, false, "1023 B/s"},
		{1023.6, false, "1.0 KiB/s"},
		{1.2 * 1024 * 1024, false, "1.2 MiB/s"},
		{1_200_000, true, "9.6 Mb/s"},
		{125, true, "1.0 kb/s"},
		{124.9, true, "999 b/s"},
		{125_000_000, true, "1.0 Gb/s"},
		{-5, false, "0 B/s"},
		{math.NaN(), true, "0 b/s"},
		{math.Inf(1), false, "0 B/s"},
	}
	for _, tt := range tests {
		if got := FormatRate(tt.in, tt.bits); got != tt.want {
			t.Errorf("FormatRate(%v, %v) = %q, want %q", tt.in, tt.bits, got, tt.want)
		}
	}
}

func TestFormatCount(t *testing.T) {
	tests := []struct {
		in   uint64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1.0k"},
		{1234, "1.2k"},
		{999_949, "999.9k"},
		{999_950, "1.0M"},
		{3_400_000, "3.4M"},
		{7_000_000_000, "7.0G"},
		{math.MaxUint64, "18.4E"},
	}
	for _, tt := range tests {
		if got := FormatCount(tt.in); got != tt.want {
			t.Errorf("FormatCount(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatPercent(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0%"},
		{0.998, "99.8%"},
		{1, "100.0%"},
		{1.25, "125.0%"},
		{-1, "-"},
		{math.NaN(), "-"},
		{math.Inf(1), "-"},
	}
	for _, tt := range tests {
		if got := FormatPercent(tt.in); got != tt.want {
			t.Errorf("FormatPercent(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		width  int
		want   string
	}{
		{"empty", nil, 4, "    "},
		{"zero width", []float64{1, 2}, 0, ""},
		{"negative width", []float64{1, 2}, -3, ""},
		{"all zero", []float64{0, 0, 0}, 3, "   "},
		{"ramp", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 8, "▁▂▃▄▅▆▇█"},
		{"zero is space, trickle is visible", []float64{0, 0.001, 100}, 3, " ▁█"},
		{"pad left", []float64{5, 10}, 4, "  ▄█"},
		{"keep newest", []float64{100, 0, 1, 2}, 2, "▄█"},
		{"bad values: NaN and negative blank, +Inf full", []float64{math.NaN(), -4, math.Inf(1), 2, 1}, 5, "  ██▄"},
		{"constant", []float64{3, 3, 3}, 3, "███"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sparkline(tt.values, tt.width); got != tt.want {
				t.Errorf("Sparkline(%v, %d) = %q, want %q", tt.values, tt.width, got, tt.want)
			}
		})
	}
}

func TestPeak(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{-3, 0}, 0},
		{[]float64{1, 5, 2}, 5},
		{[]float64{1, math.Inf(1), 4, math.NaN()}, 4},
	} {
		if got := Peak(c.in); got != c.want {
			t.Errorf("Peak(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
