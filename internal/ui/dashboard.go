package ui

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/render"
	"github.com/rivo/tview"
)

// dashboard holds the widgets and the view state. Every field is owned by
// the UI goroutine except those noted.
type dashboard struct {
	cfg   *config
	feed  Feed
	guard *Guard
	th    theme

	app     *tview.Application
	screens *tview.Pages // "main" (everything) or "help"
	root    *tview.Flex
	header  *tview.TextView
	pages   *tview.Pages
	table   *tview.Table
	detail  *tview.TextView
	ifaces  *tview.TextView
	help    *tview.TextView
	bottom  *tview.Pages
	status  *tview.TextView
	prompt  *tview.InputField
	promptE *tview.TextView
	footer  *tview.TextView

	state    viewState
	cur      *frame
	selKey   key.Key
	hasSel   bool
	lastSize [2]int
	drawn    bool
	headerH  int

	// Shared with the builder goroutine.
	stateCh     chan viewState // latest state, capacity 1
	updates     <-chan struct{}
	startOnce   sync.Once
	builderStop context.CancelFunc
	builderDone chan struct{}
	loopDone    chan struct{} // closed when app.Run has returned
	quitOnce    sync.Once
	quitErr     error
}

func newDashboard(cfg *config, feed Feed, guard *Guard, st viewState, updates <-chan struct{}) *dashboard {
	d := &dashboard{
		cfg: cfg, feed: feed, guard: guard, th: theme{cfg.color},
		state:       st,
		stateCh:     make(chan viewState, 1),
		updates:     updates,
		builderDone: make(chan struct{}),
		loopDone:    make(chan struct{}),
	}
	d.app = tview.NewApplication()

	d.header = d.textView()
	d.table = tview.NewTable().
		SetContent(&tableContent{d: d}).
		SetFixed(1, 0).
		SetSelectable(true, false).
		SetSelectedStyle(tcell.StyleDefault.Reverse(true))
	d.table.SetBackgroundColor(tcell.ColorDefault)
	d.detail = d.textView()
	d.detail.SetScrollable(true)
	d.ifaces = d.textView()
	d.ifaces.SetScrollable(true)
	d.help = d.textView()
	d.help.SetText(helpText(d.th))

	d.pages = tview.NewPages().
		AddPage("table", newKeptTable(d, d.table), true, true).
		AddPage("detail", d.detail, true, false).
		AddPage("ifaces", d.ifaces, true, false)
	d.pages.SetBackgroundColor(tcell.ColorDefault)

	d.status = d.textView()
	d.prompt = tview.NewInputField().SetLabel("filter: ")
	d.prompt.SetBackgroundColor(tcell.ColorDefault)
	d.prompt.SetFieldStyle(tcell.StyleDefault.Underline(true))
	d.prompt.SetLabelStyle(tcell.StyleDefault.Bold(true))
	d.prompt.SetChangedFunc(d.onPromptChanged)
	d.prompt.SetDoneFunc(d.onPromptDone)
	d.promptE = d.textView()
	promptRow := tview.NewFlex().
		AddItem(d.prompt, 0, 1, true).
		AddItem(d.promptE, 0, 2, false)
	d.bottom = tview.NewPages().
		AddPage("status", d.status, true, true).
		AddPage("prompt", promptRow, true, false)

	d.footer = d.textView()
	d.setFooter(MinWidth)

	d.headerH = 2
	d.root = tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(d.header, d.headerH, 0, false).
		AddItem(d.pages, 0, 1, true).
		AddItem(d.bottom, 1, 0, false).
		AddItem(d.footer, 1, 0, false)
	d.root.SetBackgroundColor(tcell.ColorDefault)
	d.screens = tview.NewPages().
		AddPage("main", d.root, true, true).
		AddPage("help", d.help, true, false)

	d.app.SetRoot(d.screens, true).
		SetFocus(d.table).
		SetBeforeDrawFunc(d.beforeDraw).
		SetInputCapture(d.onKey).
		SetMouseCapture(d.onMouse)
	return d
}

// The footer's key lists: the short one fits 80 columns.
const (
	footerShort = "q quit  ? help  / filter  < > sort  r reverse  space pause  Enter detail  n NICs"
	footerLong  = "q quit  ? help  / filter  < > sort  r reverse  t totals  u bits  1 2 3 window  space pause  Enter detail  n NICs"
)

// setFooter shows the key list that fits width.
func (d *dashboard) setFooter(width int) {
	text := footerShort
	if width >= len(footerLong) {
		text = footerLong
	}
	d.footer.SetText(d.th.c("gray", text))
}

// textView is a TextView with the dashboard's defaults.
func (d *dashboard) textView() *tview.TextView {
	tv := tview.NewTextView().SetDynamicColors(true).SetWrap(false)
	tv.SetBackgroundColor(tcell.ColorDefault)
	tv.SetTextColor(tcell.ColorDefault)
	return tv
}

// tableContent serves the current frame's rows to the table; tview asks
// only for the rows it draws.
type tableContent struct {
	tview.TableContentReadOnly
	d *dashboard
}

// GetCell returns the cell at row (0 = the header) and column.
func (c *tableContent) GetCell(row, col int) *tview.TableCell {
	f := c.d.cur
	if f == nil || col >= len(f.titles) {
		return nil
	}
	if row == 0 {
		cell := tview.NewTableCell(f.titles[col]).SetSelectable(false).
			SetTextColor(tcell.ColorDefault).SetAttributes(tcell.AttrBold)
		if f.sorted[col] && c.d.cfg.color {
			cell.SetTextColor(tcell.ColorYellow)
		}
		return cell
	}
	if row-1 >= len(f.rows) {
		return nil
	}
	r := &f.rows[row-1]
	cell := tview.NewTableCell(f.cells(c.d.feed, row-1)[col]).SetTextColor(tcell.ColorDefault)
	if r.idle && c.d.cfg.color {
		cell.SetTextColor(tcell.ColorGray)
	}
	return cell
}

// GetRowCount returns the header plus the rows.
func (c *tableContent) GetRowCount() int {
	if c.d.cur == nil {
		return 1
	}
	return 1 + len(c.d.cur.rows)
}

// GetColumnCount returns the number of visible columns.
func (c *tableContent) GetColumnCount() int {
	if c.d.cur == nil {
		return 0
	}
	return len(c.d.cur.titles)
}

// push hands a copy of the view state to the builder, replacing one it has
// not taken yet.
func (d *dashboard) push() {
	d.state.gen++
	st := d.state
	select {
	case d.stateCh <- st:
	default:
		select {
		case <-d.stateCh:
		default:
		}
		d.stateCh <- st
	}
}

// beforeDraw runs on the UI goroutine, inside tview's draw with the app
// locked (so it must not call the app). It starts the builder on the first
// draw, follows resizes, and replaces the screen with a message when the
// terminal is too small.
func (d *dashboard) beforeDraw(screen tcell.Screen) bool {
	w, h := screen.Size()
	if !d.drawn {
		d.drawn = true
		d.guard.attach(screen)
		screen.EnableMouse(tcell.MouseButtonEvents)
		d.startBuilder()
	}
	if [2]int{w, h} != d.lastSize {
		d.lastSize = [2]int{w, h}
		d.state.width, d.state.height = w, h
		d.push()
	}
	if w < MinWidth || h < MinHeight {
		lines := []string{
			"terminal too small",
			fmt.Sprintf("%d×%d, porttop needs %d×%d", w, h, MinWidth, MinHeight),
			"(q quits)",
		}
		for i, l := range lines {
			y := h/2 - 1 + i
			x := max(0, (w-len([]rune(l)))/2)
			tview.Print(screen, l, x, y, w-x, tview.AlignLeft, tcell.ColorDefault)
		}
		return true
	}
	return false
}

// startBuilder starts the goroutine that prepares frames.
func (d *dashboard) startBuilder() {
	d.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		d.builderStop = cancel
		go func() {
			defer close(d.builderDone)
			defer d.guard.Recover()
			d.build(ctx)
		}()
	})
}

// stopBuilder stops the builder and waits for it; safe to call twice.
func (d *dashboard) stopBuilder() {
	started := false
	d.startOnce.Do(func() {}) // no builder after this
	if d.builderStop != nil {
		started = true
		d.builderStop()
	}
	if started {
		<-d.builderDone
	}
}

// quit ends the dashboard: the builder stops first (while the UI loop still
// runs, so a frame it is handing over is taken), then the app. err is what
// Run returns. Callable from any goroutine, more than once.
func (d *dashboard) quit(err error) {
	d.quitOnce.Do(func() {
		d.quitErr = err
		go func() {
			defer d.guard.Recover()
			d.stopBuilder()
			d.app.Stop()
		}()
	})
}

// build is the builder goroutine: it reads the feed when a snapshot is
// published or the view changes, prepares a frame and hands it to the UI
// goroutine. While paused it keeps its sample, so the screen stays frozen.
func (d *dashboard) build(ctx context.Context) {
	var tick <-chan time.Time
	if d.updates == nil {
		t := time.NewTicker(d.cfg.refresh)
		defer t.Stop()
		tick = t.C
	}
	var (
		st    viewState
		have  bool
		s     *sample
		built uint64 // gen of the last frame, 0 = none
	)
	for {
		newData := false
		select {
		case <-ctx.Done():
			return
		case st = <-d.stateCh:
			have = true
		case <-d.updates:
			newData = true
		case <-tick:
			newData = true
		}
		if !have {
			continue
		}
		if newData && st.paused && built == st.gen {
			continue // frozen: nothing to redo
		}
		lay := layoutFor(st.width)
		histN := 0
		for _, cw := range lay.cols {
			if cw.c == colHistory {
				histN = cw.w
			}
		}
		snap := d.feed.Latest()
		if s == nil || !st.paused && (snap != s.snap || st.window != s.window || histN != s.histN) {
			s = takeSample(d.feed, snap, d.cfg.now(), st.window, histN)
		}
		chartW := max(10, st.width-12)
		switch st.page {
		case pageDetail:
			s.fillDetail(d.feed, st.detailKey, chartW)
		case pageIfaces:
			s.fillIfaces(d.feed, chartW)
		}
		f := buildFrame(s, st, d.cfg)
		built = st.gen
		if !d.handOver(ctx, f) {
			return
		}
	}
}

// handOver queues f for the UI goroutine and waits until it is applied;
// false when the dashboard is stopping.
func (d *dashboard) handOver(ctx context.Context, f *frame) bool {
	if ctx.Err() != nil {
		return false
	}
	done := make(chan struct{})
	go func() {
		d.app.QueueUpdateDraw(func() { d.apply(f) })
		close(done)
	}()
	select {
	case <-done:
		if d.cfg.onFrame != nil {
			d.cfg.onFrame()
		}
		return true
	case <-d.loopDone:
		return false
	}
}

// apply swaps frame f in (UI goroutine).
func (d *dashboard) apply(f *frame) {
	if d.cur != nil && f.gen < d.cur.gen {
		return // an older view; a newer frame is on its way or shown
	}
	d.cur = f
	d.setFooter(f.st.width)
	if h := len(f.header); h != d.headerH {
		d.headerH = h
		d.root.ResizeItem(d.header, h, 0)
	}
	d.header.SetText(joinLines(f.header))

	// Keep the selection on its port.
	idx := -1
	if d.hasSel {
		idx = slices.IndexFunc(f.rows, func(r tableRow) bool { return r.key == d.selKey })
	}
	if idx < 0 && len(f.rows) > 0 {
		row, _ := d.table.GetSelection()
		idx = min(max(row-1, 0), len(f.rows)-1)
		d.selKey, d.hasSel = f.rows[idx].key, true
	}
	if idx >= 0 {
		d.table.Select(idx+1, 0)
	}

	switch {
	case len(f.rows) == 0 && f.st.filter.Expr != "":
		d.status.SetText(fmt.Sprintf("no port matches the filter %q (%d ports)", f.st.filter.Expr, f.total))
	case f.st.filter.Expr != "":
		d.status.SetText(fmt.Sprintf("%d of %d ports match the filter", len(f.rows), f.total))
	default:
		d.status.SetText(fmt.Sprintf("%d ports", f.total))
	}
	if f.st.page == pageDetail {
		d.detail.SetText(f.detail)
	}
	if f.st.page == pageIfaces {
		d.ifaces.SetText(f.ifaces)
	}
}

func joinLines(lines []string) string {
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	b := make([]byte, 0, n)
	for i, l := range lines {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, l...)
	}
	return string(b)
}

// showPage switches the main area (UI goroutine).
func (d *dashboard) showPage(p page) {
	d.state.page = p
	if p == pageHelp {
		d.screens.SwitchToPage("help")
	} else {
		d.screens.SwitchToPage("main")
		d.pages.SwitchToPage(map[page]string{pageTable: "table", pageDetail: "detail", pageIfaces: "ifaces"}[p])
	}
	switch p {
	case pageTable:
		d.app.SetFocus(d.table)
	case pageDetail:
		d.detail.SetText("").ScrollToBeginning()
		d.app.SetFocus(d.detail)
	case pageIfaces:
		d.ifaces.SetText("").ScrollToBeginning()
		d.app.SetFocus(d.ifaces)
	case pageHelp:
		d.help.ScrollToBeginning()
		d.app.SetFocus(d.help)
	}
	d.push()
}

// onKey handles every key before the focused widget (UI goroutine).
func (d *dashboard) onKey(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() == tcell.KeyCtrlC {
		d.quit(nil)
		return nil
	}
	if d.app.GetFocus() == d.prompt {
		return ev
	}
	if w, h := d.lastSize[0], d.lastSize[1]; w < MinWidth || h < MinHeight {
		if ev.Key() == tcell.KeyRune && ev.Rune() == 'q' {
			d.quit(nil)
		}
		return nil
	}
	switch ev.Key() {
	case tcell.KeyF1:
		d.toggle(pageHelp)
		return nil
	case tcell.KeyEscape:
		if d.state.page != pageTable {
			d.showPage(pageTable)
		}
		return nil
	case tcell.KeyEnter:
		if d.state.page == pageTable && d.hasSel {
			d.state.detailKey = d.selKey
			d.showPage(pageDetail)
		}
		return nil
	case tcell.KeyUp, tcell.KeyDown, tcell.KeyPgUp, tcell.KeyPgDn, tcell.KeyHome, tcell.KeyEnd:
		if d.state.page == pageTable {
			d.move(ev.Key())
			return nil
		}
		return ev // scrolls the detail, interfaces or help text
	case tcell.KeyRune:
	default:
		return ev
	}
	switch ev.Rune() {
	case 'q':
		d.quit(nil)
	case '?':
		d.toggle(pageHelp)
	case 'j':
		if d.state.page == pageTable {
			d.move(tcell.KeyDown)
		} else {
			return tcell.NewEventKey(tcell.KeyDown, 0, tcell.ModNone)
		}
	case 'k':
		if d.state.page == pageTable {
			d.move(tcell.KeyUp)
		} else {
			return tcell.NewEventKey(tcell.KeyUp, 0, tcell.ModNone)
		}
	case '<', '>':
		d.moveSort(ev.Rune() == '>')
	case 'r':
		d.state.reverse = !d.state.reverse
		d.push()
	case 't':
		d.state.totals = !d.state.totals
		d.push()
	case 'u':
		d.state.bits = !d.state.bits
		d.push()
	case 'l':
		d.state.listenOnly = !d.state.listenOnly
		d.push()
	case '1', '2', '3':
		d.state.window = windows[ev.Rune()-'1']
		d.push()
	case ' ':
		d.state.paused = !d.state.paused
		d.push()
	case 'n':
		d.toggle(pageIfaces)
	case '/':
		if d.state.page != pageTable {
			d.showPage(pageTable)
		}
		d.prompt.SetText(d.state.filter.Expr)
		d.promptE.SetText("")
		d.bottom.SwitchToPage("prompt")
		d.app.SetFocus(d.prompt)
	}
	return nil
}

// toggle opens page p, or goes back to the table when p is open.
func (d *dashboard) toggle(p page) {
	if d.state.page == p {
		d.showPage(pageTable)
	} else {
		d.showPage(p)
	}
}

// move moves the table selection for a navigation key.
func (d *dashboard) move(k tcell.Key) {
	if d.cur == nil || len(d.cur.rows) == 0 {
		return
	}
	row, _ := d.table.GetSelection()
	i := row - 1
	_, _, _, h := d.table.GetInnerRect()
	pageRows := max(1, h-1)
	switch k {
	case tcell.KeyUp:
		i--
	case tcell.KeyDown:
		i++
	case tcell.KeyPgUp:
		i -= pageRows
	case tcell.KeyPgDn:
		i += pageRows
	case tcell.KeyHome:
		i = 0
	case tcell.KeyEnd:
		i = len(d.cur.rows) - 1
	}
	i = min(max(i, 0), len(d.cur.rows)-1)
	d.selKey, d.hasSel = d.cur.rows[i].key, true
	d.table.Select(i+1, 0)
}

// sortable returns the distinct sort keys of the visible columns, left to
// right.
func sortable(l layout) []render.SortKey {
	var keys []render.SortKey
	for _, cw := range l.cols {
		if k, ok := sortKeyOf(cw.c); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// moveSort moves the sort to the next (or previous) sortable column.
func (d *dashboard) moveSort(next bool) {
	keys := sortable(layoutFor(d.state.width))
	if len(keys) == 0 {
		return
	}
	i := slices.Index(keys, d.state.sort)
	switch {
	case i < 0 && next:
		i = 0
	case i < 0:
		i = len(keys) - 1
	case next:
		i = (i + 1) % len(keys)
	default:
		i = (i - 1 + len(keys)) % len(keys)
	}
	d.setSort(keys[i])
}

// setSort sorts by k in its natural direction.
func (d *dashboard) setSort(k render.SortKey) {
	d.state.sort = k
	d.state.reverse = false
	d.push()
}

// onMouse sorts when the left button goes down on a table header and
// swallows every other mouse event: the mouse is for header clicks only.
// Moves pass on (no widget acts on them) because tview hands a swallowed
// event's nil to the rest of the actions of the same event.
func (d *dashboard) onMouse(ev *tcell.EventMouse, action tview.MouseAction) (*tcell.EventMouse, tview.MouseAction) {
	if ev != nil && action == tview.MouseMove {
		return ev, action
	}
	if ev == nil || action != tview.MouseLeftDown || d.state.page != pageTable || d.cur == nil {
		return nil, action
	}
	x, y := ev.Position()
	tx, ty, _, _ := d.table.GetInnerRect()
	if y != ty {
		return nil, action
	}
	i, ok := d.cur.lay.columnAt(x - tx)
	if !ok {
		return nil, action
	}
	k, ok := sortKeyOf(d.cur.lay.cols[i].c)
	if !ok {
		d.status.SetText(d.cur.lay.title(d.cur.lay.cols[i].c) + " does not sort")
		return nil, action
	}
	if k == d.state.sort {
		d.state.reverse = !d.state.reverse
		d.push()
	} else {
		d.setSort(k)
	}
	return nil, action
}

// onPromptChanged narrows the table as the filter is typed; a bad
// expression is explained beside the prompt and the last good one stays.
func (d *dashboard) onPromptChanged(text string) {
	f, err := ParseFilter(text)
	if err != nil {
		d.promptE.SetText(d.th.c("red", tview.Escape(err.Error())))
		return
	}
	d.promptE.SetText("")
	d.state.filter = f
	d.push()
}

// onPromptDone: Enter keeps a good filter, Esc clears it.
func (d *dashboard) onPromptDone(k tcell.Key) {
	switch k {
	case tcell.KeyEnter:
		if _, err := ParseFilter(d.prompt.GetText()); err != nil {
			return // the reason is shown; stay in the prompt
		}
	case tcell.KeyEscape:
		d.prompt.SetText("")
		d.state.filter = Filter{}
		d.push()
	default:
		return
	}
	d.bottom.SwitchToPage("status")
	d.app.SetFocus(d.table)
}
