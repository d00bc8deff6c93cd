package ui

import (
	"time"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/ring"
	"github.com/porttop/porttop/internal/snapshot"
)

// windows are the rate windows behind keys 1, 2 and 3.
var windows = [3]time.Duration{2 * time.Second, 10 * time.Second, 40 * time.Second}

// page is what the main area shows.
type page int

const (
	pageTable page = iota
	pageDetail
	pageIfaces
	pageHelp
)

// viewState is everything the user chose with keys. The UI goroutine owns
// it and hands copies to the builder; gen orders the copies.
type viewState struct {
	gen     uint64
	sort    render.SortKey
	reverse bool
	totals  bool // sort rate columns by their totals since start
	bits    bool
	window  time.Duration
	filter  Filter
	// listenOnly keeps only ports with a listening socket here (key l).
	listenOnly bool
	paused     bool
	width      int
	height     int
	page       page
	// detailKey is the row the detail view shows.
	detailKey key.Key
}

// rates are a row's rx and tx bytes/s over the rate window.
type rates struct{ rx, tx float64 }

// sample is the feed read at one moment: what a paused screen keeps showing
// while counting goes on behind it.
type sample struct {
	snap   *snapshot.Snapshot
	now    time.Time
	window time.Duration
	histN  int
	rates  map[key.Key]rates
	// hist caches sparkline points (rx+tx bytes/s, oldest first) of the
	// rows drawn so far; only the UI goroutine uses it, after the handover.
	hist map[key.Key][]float64

	// History for the detail view and the interfaces panel, read with the
	// rest, or when the view was opened while paused.
	detailKey  key.Key
	detailN    int
	detailHist []ring.Sample
	ifaceN     int
	ifaceHist  map[string][]ring.Sample
}

// takeSample reads the feed for snap: each row's rates over window.
// Sparkline points (histN of them) are read when a row is first drawn.
func takeSample(feed Feed, snap *snapshot.Snapshot, now time.Time, window time.Duration, histN int) *sample {
	s := &sample{snap: snap, now: now, window: window, histN: histN, hist: map[key.Key][]float64{}}
	if snap == nil {
		return s
	}
	s.rates = make(map[key.Key]rates, len(snap.Ports))
	for i := range snap.Ports {
		k := snap.Ports[i].Key
		rx, tx := feed.Rate(k, window)
		s.rates[k] = rates{rx, tx}
	}
	return s
}

// sparkPoints returns row k's sparkline points, reading them from the feed
// the first time (UI goroutine). A paused screen keeps the points of every
// row it has drawn.
func (s *sample) sparkPoints(feed Feed, k key.Key) []float64 {
	if v, ok := s.hist[k]; ok {
		return v
	}
	h := feed.History(k, s.histN)
	v := make([]float64, len(h))
	for j, smp := range h {
		r, t := sampleRates(smp)
		v[j] = r + t
	}
	s.hist[k] = v
	return v
}

// fillDetail reads the history of the detail view's row when s does not
// hold n points of it yet.
func (s *sample) fillDetail(feed Feed, k key.Key, n int) {
	if s.detailHist != nil && s.detailKey == k && s.detailN == n {
		return
	}
	s.detailKey, s.detailN = k, n
	s.detailHist = feed.History(k, n)
	if s.detailHist == nil {
		s.detailHist = []ring.Sample{}
	}
}

// fillIfaces reads every interface's history when s does not hold n points
// of it yet.
func (s *sample) fillIfaces(feed Feed, n int) {
	if s.ifaceHist != nil && s.ifaceN == n || s.snap == nil {
		return
	}
	s.ifaceN = n
	s.ifaceHist = make(map[string][]ring.Sample, len(s.snap.Interfaces))
	for _, ifc := range s.snap.Interfaces {
		s.ifaceHist[ifc.Name] = feed.IfaceHistory(ifc.Name, n)
	}
}

// renderOptions are render's options for this view over sample s.
func (st *viewState) renderOptions(s *sample, cfg *config) render.Options {
	f := st.filter
	listenOnly := st.listenOnly
	return render.Options{
		Sort:    st.sort,
		Reverse: st.reverse,
		Totals:  st.totals,
		Ports:   cfg.ports,
		Bits:    st.bits,
		Match: func(p *snapshot.Port) bool {
			return (!listenOnly || p.Listening) && f.Match(p.Key, p.Service, p.Process)
		},
		Rates: func(k key.Key) (float64, float64) {
			r := s.rates[k]
			return r.rx, r.tx
		},
	}
}
