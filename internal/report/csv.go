package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/snapshot"
)

// csvHeader is printed once, before the first report's rows.
var csvHeader = []string{"time", "port", "proto", "service", "side", "rx_bytes", "tx_bytes",
	"rx_packets", "tx_packets", "rx_bps", "tx_bps", "connections", "process", "pid"}

// csvWriter writes one row per port per report with raw numbers: byte and
// packet totals since start, rates in bytes per second over the last
// interval, the report's time in RFC 3339 with nanoseconds.
type csvWriter struct {
	w      io.Writer
	o      render.Options
	cw     *csv.Writer
	record []string
}

func (c *csvWriter) Write(s *snapshot.Snapshot) error {
	if s == nil {
		return errNilSnapshot
	}
	if c.cw == nil {
		c.cw = csv.NewWriter(c.w)
		if err := c.cw.Write(csvHeader); err != nil {
			return err
		}
	}
	o := c.o
	o.Rates = nil
	t := s.Time.Format(time.RFC3339Nano)
	for _, r := range render.Rows(s, o) {
		p := r.Port
		c.record = append(c.record[:0],
			t,
			strconv.Itoa(int(p.Key.Port)),
			p.Key.Proto.String(),
			p.Service,
			p.Key.Side.String(),
			strconv.FormatUint(p.Total.RxBytes, 10),
			strconv.FormatUint(p.Total.TxBytes, 10),
			strconv.FormatUint(p.Total.RxPackets, 10),
			strconv.FormatUint(p.Total.TxPackets, 10),
			string(appendFloat(nil, r.RxBps)),
			string(appendFloat(nil, r.TxBps)),
			strconv.Itoa(p.Connections),
			p.Process,
			strconv.FormatInt(int64(p.PID), 10),
		)
		if err := c.cw.Write(c.record); err != nil {
			return err
		}
	}
	c.cw.Flush()
	return c.cw.Error()
}
