package ui

import (
	"hash/maphash"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// keptTable is the port table as the screen holds it: drawn again only
// when what it shows may have changed. tview draws every cell of every
// visible row on every frame, and segments each cell's text into
// graphemes as it does: in a profile of an idle dashboard, tview's
// Table.Draw was 57% of porttop's CPU, although from one refresh to the
// next a quiet port's row is the same text and only the header's clock
// moved.
// When the table would look as it did at the last draw (same place,
// scroll, selection, focus and text of every visible cell), the cells
// drawn then are put back instead.
type keptTable struct {
	*tview.Table
	d *dashboard

	seed  maphash.Seed
	look  uint64     // what the last draw showed (see lookOf)
	kept  bool       // cells hold the last draw of look
	cells []diffCell // the table's area as last drawn
}

func newKeptTable(d *dashboard, t *tview.Table) *keptTable {
	return &keptTable{Table: t, d: d, seed: maphash.MakeSeed()}
}

// Draw implements tview.Primitive.
func (k *keptTable) Draw(screen tcell.Screen) {
	ds, ok := screen.(*diffScreen)
	x, y, w, h := k.GetRect()
	if ok && k.kept && k.lookOf() == k.look && ds.restore(x, y, w, h, k.cells) {
		return
	}
	k.Table.Draw(screen)
	if k.d.cfg.onTableDraw != nil {
		k.d.cfg.onTableDraw()
	}
	k.kept = false
	if ok {
		// The look after drawing: tview scrolls to the selection as it
		// draws.
		k.look = k.lookOf()
		k.cells, k.kept = ds.save(x, y, w, h, k.cells[:0]), true
	}
}

// lookOf sums up what drawing the table now would show: its place, its
// scroll offsets, the selected row, whether it has the focus, and the text
// and colour of every cell in the rows it can show.
func (k *keptTable) lookOf() uint64 {
	var h maphash.Hash
	h.SetSeed(k.seed)
	x, y, w, hgt := k.GetRect()
	rowOff, colOff := k.GetOffset()
	sel, _ := k.GetSelection()
	focus := 0
	if k.HasFocus() {
		focus = 1
	}
	for _, v := range []int{x, y, w, hgt, rowOff, colOff, sel, focus} {
		maphash.WriteComparable(&h, v)
	}
	f := k.d.cur
	if f == nil {
		return h.Sum64()
	}
	for i, t := range f.titles {
		h.WriteString(t)
		maphash.WriteComparable(&h, f.sorted[i])
	}
	maphash.WriteComparable(&h, len(f.rows))
	// The header row is fixed; below it, rows from rowOff on.
	for i := rowOff; i < min(len(f.rows), rowOff+hgt); i++ {
		maphash.WriteComparable(&h, f.rows[i].idle)
		for _, c := range f.cells(k.d.feed, i) {
			h.WriteString(c)
			h.WriteByte(0)
		}
	}
	return h.Sum64()
}
