package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/ring"
	"github.com/porttop/porttop/internal/snapshot"
	"github.com/rivo/tview"
)

// frame is one fully prepared screen, built off the UI goroutine and
// swapped in on it.
type frame struct {
	gen    uint64
	st     viewState
	header []string // tagged lines above the table
	lay    layout
	titles []string // fitted header cells (plain)
	sorted []bool   // which header cells carry the sort marker
	rows   []tableRow
	rrows  []render.Row // the rows' data, in the same order
	opts   render.Options
	s      *sample
	cfg    *config
	total  int    // rows before the filter
	detail string // tagged text of the detail view (pageDetail)
	ifaces string // tagged text of the interfaces panel (pageIfaces)
}

// tableRow is one table row: its place in the order is fixed off the UI
// goroutine; its cells are formatted when it is first drawn.
type tableRow struct {
	key   key.Key
	cells []string // fitted, escaped; nil until drawn
	idle  bool     // no traffic in the rate window
}

// cells returns row i's formatted cells, formatting them the first time
// (UI goroutine, visible rows only).
func (f *frame) cells(feed Feed, i int) []string {
	tr := &f.rows[i]
	if tr.cells != nil {
		return tr.cells
	}
	r := f.rrows[i]
	own := f.cfg.ssh.valid && r.Port.Key == f.cfg.ssh.key()
	tr.cells = make([]string, len(f.lay.cols))
	for j, cw := range f.lay.cols {
		var text string
		switch cw.c {
		case colHistory:
			text = render.Sparkline(f.s.sparkPoints(feed, r.Port.Key), cw.w)
		case render.ColService:
			text = render.Cell(cw.c, r, f.opts)
			if own {
				text = strings.TrimRight(fit(text, cw.w-1, false), " ") + "*"
			}
		case render.ColSide:
			// A listening socket here: the row is also the inventory.
			text = render.Cell(cw.c, r, f.opts)
			if r.Port.Listening {
				text = "listen"
			}
		default:
			text = render.Cell(cw.c, r, f.opts)
		}
		tr.cells[j] = escape(fit(text, cw.w, right(cw.c)))
	}
	return tr.cells
}

// escape protects s from tview's style tags.
func escape(s string) string {
	if !strings.ContainsRune(s, '[') {
		return s
	}
	return tview.Escape(s)
}

// theme adds colour tags only when colour is on.
type theme struct{ color bool }

// c wraps s in a colour tag.
func (t theme) c(color, s string) string {
	if !t.color {
		return s
	}
	return "[" + color + "]" + s + "[-]"
}

// b makes s bold (an attribute, not a colour, so kept without colour too).
func (t theme) b(s string) string { return "[::b]" + s + "[::-]" }

// buildFrame prepares everything the screen shows for view st over sample s.
func buildFrame(s *sample, st viewState, cfg *config) *frame {
	f := &frame{gen: st.gen, st: st, lay: layoutFor(st.width)}
	th := theme{cfg.color}
	f.header = headerLines(s, &st, cfg, th)

	// The table's header row.
	for _, cw := range f.lay.cols {
		title := f.lay.title(cw.c)
		k, ok := sortKeyOf(cw.c)
		marked := ok && k == st.sort
		if marked {
			if st.sort.Ascending() != st.reverse {
				title += "▲"
			} else {
				title += "▼"
			}
		}
		f.titles = append(f.titles, fit(title, cw.w, right(cw.c)))
		f.sorted = append(f.sorted, marked)
	}

	if s.snap != nil {
		f.total = len(s.snap.Ports)
		f.opts = st.renderOptions(s, cfg)
		f.rrows = render.Rows(s.snap, f.opts)
		f.rows = make([]tableRow, len(f.rrows))
		for i, r := range f.rrows {
			f.rows[i] = tableRow{key: r.Port.Key, idle: r.RxBps == 0 && r.TxBps == 0}
		}
	}
	f.s = s
	f.cfg = cfg

	switch st.page {
	case pageDetail:
		f.detail = detailText(s, &st, cfg, th)
	case pageIfaces:
		f.ifaces = ifacesText(s, &st, th)
	}
	return f
}

// headerLines are the lines above the table: who and when, one line per
// interface, then sort, filter, ssh and other traffic.
func headerLines(s *sample, st *viewState, cfg *config, th theme) []string {
	var lines []string
	clock := s.now.Format("15:04:05")
	if s.snap != nil && s.snap.Offline {
		clock = "file time " + s.snap.Time.Format("2006-01-02 15:04:05")
	}
	units := "bytes"
	if st.bits {
		units = "bits"
	}
	first := fmt.Sprintf("%s · %s · %s · refresh %s · rate window %s · %s",
		th.b("porttop"), tview.Escape(cfg.host), clock, cfg.refresh, s.window, units)
	if st.paused {
		first += " · " + th.c("red", "[::r] PAUSED [::-]")
	}
	lines = append(lines, first)

	if s.snap != nil {
		for _, ifc := range s.snap.Interfaces {
			lines = append(lines, ifaceLine(&ifc, st.bits, th))
		}
	}

	dir := "▼"
	if st.sort.Ascending() != st.reverse {
		dir = "▲"
	}
	last := "sort " + st.sort.String() + dir
	if st.totals {
		last += " by totals"
	}
	if st.filter.Expr != "" {
		last += " · filter " + th.c("yellow", tview.Escape(st.filter.Expr))
	}
	if st.listenOnly {
		last += " · " + th.c("yellow", "listening only")
	}
	if cfg.ssh.valid {
		state := "counted"
		if cfg.excludeSSH {
			state = "excluded"
		}
		last += fmt.Sprintf(" · *ssh %s→:%d %s", cfg.ssh.peer.Addr(), cfg.ssh.local.Port(), state)
	}
	if s.snap != nil {
		last += " · other rx " + render.FormatBytes(s.snap.Other.RxBytes) +
			" tx " + render.FormatBytes(s.snap.Other.TxBytes)
	}
	lines = append(lines, last)
	return lines
}

// ifaceLine is one interface's line in the header.
func ifaceLine(ifc *snapshot.Interface, bits bool, th theme) string {
	name := th.c("aqua", tview.Escape(ifc.Name))
	if ifc.Err != "" {
		return name + " " + th.c("red", "capture error: "+tview.Escape(ifc.Err))
	}
	var b strings.Builder
	b.WriteString(name)
	if ifc.NICValid {
		fmt.Fprintf(&b, " rx %s tx %s", render.FormatRate(ifc.RxBps, bits), render.FormatRate(ifc.TxBps, bits))
	} else {
		b.WriteString(" NIC counters n/a")
	}
	fmt.Fprintf(&b, " · coverage %s · drops %s · decode errors %s",
		render.FormatPercent(ifc.Coverage), render.FormatCount(ifc.DroppedPackets+ifc.IfDropped),
		render.FormatCount(ifc.DecodeErrors))
	if ifc.NICValid {
		fmt.Fprintf(&b, " · total rx %s tx %s", render.FormatBytes(ifc.RxBytes), render.FormatBytes(ifc.TxBytes))
	}
	fmt.Fprintf(&b, " · captured %s", render.FormatBytes(ifc.CapturedBytes))
	return b.String()
}

// chartHeight is the number of text rows of one history chart in a main
// area of height h holding the given number of charts and other lines.
func chartHeight(h, charts, other int) int {
	return max(2, min(10, (h-other)/max(1, charts)))
}

// detailText is the detail view of st.detailKey: totals, processes, rx and
// tx history charts, and the row's connections with their peers.
func detailText(s *sample, st *viewState, cfg *config, th theme) string {
	var b strings.Builder
	k := st.detailKey
	var p *snapshot.Port
	if s.snap != nil {
		for i := range s.snap.Ports {
			if s.snap.Ports[i].Key == k {
				p = &s.snap.Ports[i]
				break
			}
		}
	}
	title := k.String()
	if p != nil && p.Service != "" {
		title += " · " + p.Service
	}
	fmt.Fprintf(&b, "%s   %s\n", th.b(tview.Escape(title)), th.c("gray", "Esc back"))
	if p == nil {
		b.WriteString("This port is no longer in the snapshot.\n")
		return b.String()
	}
	r := s.rates[k]
	fmt.Fprintf(&b, "rx %s  tx %s  (%s window) · total rx %s  tx %s · packets %s · connections %s",
		render.FormatRate(r.rx, st.bits), render.FormatRate(r.tx, st.bits), s.window,
		render.FormatBytes(p.Total.RxBytes), render.FormatBytes(p.Total.TxBytes),
		render.FormatCount(p.Total.Packets()), render.FormatCount(uint64(max(p.Connections, 0))))
	if p.Listening {
		b.WriteString(" · listening")
	}
	b.WriteString("\n")
	own := cfg.ssh.valid && k == cfg.ssh.key()
	if own {
		state := "its bytes are counted here"
		if cfg.excludeSSH {
			state = "its bytes are left out of the counts"
		}
		fmt.Fprintf(&b, "%s\n", th.c("yellow", fmt.Sprintf("* your ssh session %s → %s uses this port; %s",
			cfg.ssh.peer, cfg.ssh.local, state)))
	}

	// Processes.
	b.WriteString("\n" + th.b("PROCESSES") + "\n")
	procs := p.Processes
	if len(procs) == 0 && p.Process != "" {
		procs = []snapshot.Process{{PID: p.PID, Name: p.Process}}
	}
	if len(procs) == 0 {
		note := "unknown"
		if p.ProcessNote != "" {
			note = "unknown (" + p.ProcessNote + ")"
		}
		b.WriteString("  " + tview.Escape(note) + "\n")
	}
	for _, pr := range procs {
		line := fmt.Sprintf("  %-7d %-10s %-16s %s", pr.PID, pr.User, pr.Name, pr.Cmdline)
		if pr.Namespace != "" {
			line += "  [" + pr.Namespace + "]"
		}
		b.WriteString(tview.Escape(line) + "\n")
	}

	// History charts.
	width := max(10, st.width-12)
	var rx, tx []float64
	for _, smp := range s.detailHist {
		r, t := sampleRates(smp)
		rx = append(rx, r)
		tx = append(tx, t)
	}
	ch := chartHeight(st.height-len(headerLines(s, st, cfg, th))-4, 2, 12+len(procs)+min(8, len(s.snap.Flows)))
	writeChart(&b, "RX", rx, width, ch, st.bits, th, "green")
	writeChart(&b, "TX", tx, width, ch, st.bits, th, "blue")

	// Connections.
	var flows []*snapshot.Flow
	for i := range s.snap.Flows {
		if s.snap.Flows[i].Key == k {
			flows = append(flows, &s.snap.Flows[i])
		}
	}
	slices.SortFunc(flows, func(a, b *snapshot.Flow) int {
		if c := cmp.Compare(b.Total.Bytes(), a.Total.Bytes()); c != 0 {
			return c
		}
		if c := a.Peer.Compare(b.Peer); c != 0 {
			return c
		}
		return a.Local.Compare(b.Local)
	})
	fmt.Fprintf(&b, "\n%s (%d)\n", th.b("CONNECTIONS"), len(flows))
	pw, lw := len("PEER"), len("LOCAL")
	for _, fl := range flows {
		pw = max(pw, len(fl.Peer.String()))
		lw = max(lw, len(fl.Local.String()))
	}
	fmt.Fprintf(&b, "  %-*s  %-*s %10s %10s %12s %12s %7s\n", pw, "PEER", lw, "LOCAL", "RX", "TX", "RX/s", "TX/s", "AGE")
	for _, fl := range flows {
		mark := "  "
		if cfg.ssh.matches(fl) {
			mark = th.c("yellow", "* ")
		}
		line := fmt.Sprintf("%-*s  %-*s %10s %10s %12s %12s %7s",
			pw, fl.Peer, lw, fl.Local,
			render.FormatBytes(fl.Total.RxBytes), render.FormatBytes(fl.Total.TxBytes),
			render.FormatRate(snapshot.PerSecond(fl.Delta.RxBytes, s.snap.Interval), st.bits),
			render.FormatRate(snapshot.PerSecond(fl.Delta.TxBytes, s.snap.Interval), st.bits),
			age(s.snapTime(), fl.First))
		b.WriteString(mark + tview.Escape(line) + "\n")
	}
	if own {
		b.WriteString(th.c("yellow", "* this ssh session") + "\n")
	}
	return b.String()
}

// snapTime is the time the sample's snapshot stands for.
func (s *sample) snapTime() time.Time {
	if s.snap != nil && !s.snap.Time.IsZero() {
		return s.snap.Time
	}
	return s.now
}

// ifacesText is the interfaces panel: each NIC's line and its rx and tx
// history charts.
func ifacesText(s *sample, st *viewState, th theme) string {
	var b strings.Builder
	b.WriteString(th.b("INTERFACES") + "   " + th.c("gray", "n or Esc back") + "\n")
	if s.snap == nil {
		return b.String()
	}
	n := len(s.snap.Interfaces)
	width := max(10, st.width-12)
	ch := chartHeight(st.height-6-n, 2*max(1, n), 3*n+1)
	for i := range s.snap.Interfaces {
		ifc := &s.snap.Interfaces[i]
		b.WriteString("\n" + ifaceLine(ifc, st.bits, th) + "\n")
		var rx, tx []float64
		for _, smp := range s.ifaceHist[ifc.Name] {
			r, t := sampleRates(smp)
			rx = append(rx, r)
			tx = append(tx, t)
		}
		writeChart(&b, "RX", rx, width, ch, st.bits, th, "green")
		writeChart(&b, "TX", tx, width, ch, st.bits, th, "blue")
	}
	return b.String()
}

// writeChart writes a titled bar chart of values (bytes/s, oldest first).
func writeChart(b *strings.Builder, name string, values []float64, width, height int, bits bool, th theme, color string) {
	peak := render.Peak(values)
	fmt.Fprintf(b, "%s  peak %s over the last %d ticks\n", th.b(name), render.FormatRate(peak, bits), len(values))
	for _, line := range chartLines(values, width, height) {
		b.WriteString("  " + th.c(color, line) + "\n")
	}
}

// chartBlocks are the partial blocks of a bar, one to seven eighths.
var chartBlocks = []rune("▁▂▃▄▅▆▇")

// chartLines draws values as a bar chart of width columns and height rows,
// newest on the right, scaled so the peak fills the height. Fewer values
// than width leave the left blank; any positive value shows at least ▁.
func chartLines(values []float64, width, height int) []string {
	if width <= 0 || height <= 0 {
		return nil
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	peak := render.Peak(values)
	eighths := make([]int, width)
	off := width - len(values)
	for i, v := range values {
		if !(v > 0) || peak == 0 {
			continue
		}
		e := int(math.Round(math.Min(v, peak) / peak * float64(height*8)))
		eighths[off+i] = max(1, e)
	}
	lines := make([]string, height)
	row := make([]rune, width)
	for r := range height {
		floor := (height - 1 - r) * 8 // eighths below this row
		for x, e := range eighths {
			switch fill := e - floor; {
			case fill >= 8:
				row[x] = '█'
			case fill <= 0:
				row[x] = ' '
			default:
				row[x] = chartBlocks[fill-1]
			}
		}
		lines[r] = string(row)
	}
	return lines
}

// age formats how long ago t was, to the second ("45s", "3m20s", "2h5m").
func age(now, t time.Time) string {
	if t.IsZero() || now.Before(t) {
		return "0s"
	}
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// sampleRates returns a history point's rx and tx bytes/s.
func sampleRates(s ring.Sample) (rx, tx float64) { return s.RxBps, s.TxBps }
