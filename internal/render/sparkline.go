package render

import "math"

var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws the last width values as a string of exactly width cells,
// newest on the right, scaled so the largest value is a full block (█).
// Zero (and negative or NaN) values are spaces; any positive value is at
// least ▁, so a trickle stays visible. Fewer values than width are padded
// with spaces on the left. A width of zero or less gives "".
func Sparkline(values []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	peak := Peak(values)
	out := make([]rune, 0, width)
	for range width - len(values) {
		out = append(out, ' ')
	}
	for _, v := range values {
		switch {
		case !(v > 0):
			out = append(out, ' ')
		case math.IsInf(v, 1) || v >= peak:
			out = append(out, sparkBlocks[len(sparkBlocks)-1])
		default:
			lvl := int(math.Ceil(v/peak*float64(len(sparkBlocks)))) - 1
			out = append(out, sparkBlocks[max(0, min(lvl, len(sparkBlocks)-1))])
		}
	}
	return string(out)
}

// Peak returns the largest finite value of values, or 0 when none is
// positive: the top of a chart's scale.
func Peak(values []float64) float64 {
	peak := 0.0
	for _, v := range values {
		if v > peak && !math.IsInf(v, 0) {
			peak = v
		}
	}
	return peak
}
