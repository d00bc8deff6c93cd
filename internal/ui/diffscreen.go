package ui

import (
	"github.com/gdamore/tcell/v2"
)

// diffScreen is a tcell.Screen that collects a whole frame before any of it
// reaches the terminal, and then passes on only the cells that differ from
// the frame before.
//
// Why: tview clears the screen and fills every box with blanks before it
// draws text, and tcell marks a cell for sending whenever its content
// changes, even when it changes back within the same frame. Without this
// layer every visible character would be sent again on every refresh
// (about 2.5 KB per refresh on a 120×40 table, all of it over ssh when
// porttop runs remotely); with it an unchanged refresh sends next to
// nothing.
//
// All drawing happens on the UI goroutine; the other methods pass through.
type diffScreen struct {
	tcell.Screen
	w, h    int
	cur     []diffCell // the frame being drawn
	last    []diffCell // what was passed on to Screen
	initErr error
}

type diffCell struct {
	str   string // "" = never passed on
	style tcell.Style
}

func newDiffScreen(s tcell.Screen) *diffScreen { return &diffScreen{Screen: s} }

// Init initialises the terminal, keeping the error for Run (tview's
// SetScreen drops it).
func (d *diffScreen) Init() error {
	d.initErr = d.Screen.Init()
	return d.initErr
}

// ensure sizes the buffers to the screen; after a resize everything is
// passed on again.
func (d *diffScreen) ensure() {
	w, h := d.Screen.Size()
	if w == d.w && h == d.h && d.cur != nil {
		return
	}
	d.w, d.h = w, h
	d.cur = make([]diffCell, w*h)
	d.last = make([]diffCell, w*h)
	for i := range d.cur {
		d.cur[i] = diffCell{" ", tcell.StyleDefault}
	}
}

// index is the position of x, y in the buffers. Sizes are checked in
// Clear, Fill and Show (tview clears before every frame), not per cell.
func (d *diffScreen) index(x, y int) (int, bool) {
	if d.cur == nil {
		d.ensure()
	}
	if x < 0 || y < 0 || x >= d.w || y >= d.h {
		return 0, false
	}
	return y*d.w + x, true
}

// Clear blanks the frame being drawn.
func (d *diffScreen) Clear() { d.Fill(' ', tcell.StyleDefault) }

// Fill fills the frame being drawn.
func (d *diffScreen) Fill(r rune, style tcell.Style) {
	d.ensure()
	c := diffCell{string(r), style}
	for i := range d.cur {
		d.cur[i] = c
	}
}

// SetContent sets one cell of the frame being drawn.
func (d *diffScreen) SetContent(x, y int, primary rune, combining []rune, style tcell.Style) {
	i, ok := d.index(x, y)
	if !ok {
		return
	}
	s := string(primary)
	if len(combining) > 0 {
		s += string(combining)
	}
	d.cur[i] = diffCell{s, style}
}

// SetCell sets one cell of the frame being drawn.
func (d *diffScreen) SetCell(x, y int, style tcell.Style, ch ...rune) {
	if len(ch) > 0 {
		d.SetContent(x, y, ch[0], ch[1:], style)
	}
}

// Put sets one cell to the first rune of str and returns the rest.
func (d *diffScreen) Put(x, y int, str string, style tcell.Style) (string, int) {
	for i, r := range str {
		d.SetContent(x, y, r, nil, style)
		return str[i+len(string(r)):], 1
	}
	return "", 0
}

// PutStrStyled writes str from x on, one rune per cell.
func (d *diffScreen) PutStrStyled(x, y int, str string, style tcell.Style) {
	for _, r := range str {
		d.SetContent(x, y, r, nil, style)
		x++
	}
}

// PutStr writes str in the default style.
func (d *diffScreen) PutStr(x, y int, str string) { d.PutStrStyled(x, y, str, tcell.StyleDefault) }

// GetContent reads a cell of the frame being drawn.
func (d *diffScreen) GetContent(x, y int) (rune, []rune, tcell.Style, int) {
	i, ok := d.index(x, y)
	if !ok {
		return ' ', nil, tcell.StyleDefault, 1
	}
	rs := []rune(d.cur[i].str)
	if len(rs) == 0 {
		return ' ', nil, d.cur[i].style, 1
	}
	return rs[0], rs[1:], d.cur[i].style, 1
}

// Get reads a cell of the frame being drawn.
func (d *diffScreen) Get(x, y int) (string, tcell.Style, int) {
	i, ok := d.index(x, y)
	if !ok {
		return " ", tcell.StyleDefault, 1
	}
	return d.cur[i].str, d.cur[i].style, 1
}

// flush passes on the cells that changed (all of them when all is set).
func (d *diffScreen) flush(all bool) {
	d.ensure()
	for i, c := range d.cur {
		if !all && c == d.last[i] {
			continue
		}
		rs := []rune(c.str)
		if len(rs) == 0 {
			rs = []rune{' '}
		}
		d.Screen.SetContent(i%d.w, i/d.w, rs[0], rs[1:], c.style)
		d.last[i] = c
	}
}

// Show sends the frame's changes to the terminal.
func (d *diffScreen) Show() {
	d.flush(false)
	d.Screen.Show()
}

// Sync redraws the whole terminal from the frame.
func (d *diffScreen) Sync() {
	d.flush(true)
	d.Screen.Sync()
}

// save appends to buf the cells of the frame being drawn in the rectangle
// x, y, w, h (clipped to the screen), row by row.
func (d *diffScreen) save(x, y, w, h int, buf []diffCell) []diffCell {
	d.ensure()
	x0, y0, x1, y1 := d.clip(x, y, w, h)
	for row := y0; row < y1; row++ {
		buf = append(buf, d.cur[row*d.w+x0:row*d.w+x1]...)
	}
	return buf
}

// restore puts cells taken by save with the same rectangle back into the
// frame being drawn. It reports false, changing nothing, when they do not
// fit the rectangle as clipped now (the screen was resized).
func (d *diffScreen) restore(x, y, w, h int, cells []diffCell) bool {
	d.ensure()
	x0, y0, x1, y1 := d.clip(x, y, w, h)
	if (x1-x0)*(y1-y0) != len(cells) || x1 <= x0 {
		return false
	}
	for row := y0; row < y1; row++ {
		cells = cells[copy(d.cur[row*d.w+x0:row*d.w+x1], cells):]
	}
	return true
}

// clip bounds the rectangle x, y, w, h to the screen.
func (d *diffScreen) clip(x, y, w, h int) (x0, y0, x1, y1 int) {
	x0, y0 = max(x, 0), max(y, 0)
	x1, y1 = min(x+w, d.w), min(y+h, d.h)
	return x0, y0, max(x1, x0), max(y1, y0)
}
