package report

import (
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/snapshot"
)

// jsonWriter writes one JSON object per report, one per line, with the
// fields of DESIGN.md's contract in a fixed order. Fields beyond the
// contract are added after it, never renamed:
//
//	top level:  "seq", "offline", "capture" {packets, bytes, decode_errors,
//	            truncated, flow_overflow}
//	interface:  "nic_valid", "captured_packets", "received_packets",
//	            "if_dropped", "decode_errors", "coverage" (null when
//	            unknown), "error" (only when the capture failed)
//	port:       "listening", "process_note" (only when set)
//
// Bytes are frame lengths on the wire; *_bps are bytes per second over the
// last interval (not Options.Rates, so the JSON always means one thing).
type jsonWriter struct {
	w   io.Writer
	o   render.Options
	buf []byte
}

func (j *jsonWriter) Write(s *snapshot.Snapshot) error {
	if s == nil {
		return errNilSnapshot
	}
	o := j.o
	o.Rates = nil
	b := appendJSON(j.buf[:0], s, render.Rows(s, o))
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func appendJSON(b []byte, s *snapshot.Snapshot, rows []render.Row) []byte {
	b = append(b, `{"version":1,"time":`...)
	b = appendString(b, s.Time.Format(time.RFC3339Nano))
	b = append(b, `,"interval_s":`...)
	b = appendFloat(b, s.Interval.Seconds())
	b = append(b, `,"interfaces":[`...)
	for i := range s.Interfaces {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInterface(b, &s.Interfaces[i])
	}
	b = append(b, `],"ports":[`...)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPort(b, r)
	}
	b = append(b, `],"other":{"rx_bytes":`...)
	b = strconv.AppendUint(b, s.Other.RxBytes, 10)
	b = append(b, `,"tx_bytes":`...)
	b = strconv.AppendUint(b, s.Other.TxBytes, 10)
	b = append(b, `,"rx_packets":`...)
	b = strconv.AppendUint(b, s.Other.RxPackets, 10)
	b = append(b, `,"tx_packets":`...)
	b = strconv.AppendUint(b, s.Other.TxPackets, 10)
	b = append(b, `},"seq":`...)
	b = strconv.AppendUint(b, s.Seq, 10)
	b = append(b, `,"offline":`...)
	b = strconv.AppendBool(b, s.Offline)
	c := s.Capture
	b = append(b, `,"capture":{"packets":`...)
	b = strconv.AppendUint(b, c.Packets, 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendUint(b, c.Bytes, 10)
	b = append(b, `,"decode_errors":`...)
	b = strconv.AppendUint(b, c.DecodeErrors, 10)
	b = append(b, `,"truncated":`...)
	b = strconv.AppendUint(b, c.Truncated, 10)
	b = append(b, `,"flow_overflow":`...)
	b = strconv.AppendUint(b, c.FlowOverflow, 10)
	b = append(b, "}}\n"...)
	return b
}

func appendInterface(b []byte, f *snapshot.Interface) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, f.Name)
	b = append(b, `,"rx_bytes":`...)
	b = strconv.AppendUint(b, f.RxBytes, 10)
	b = append(b, `,"tx_bytes":`...)
	b = strconv.AppendUint(b, f.TxBytes, 10)
	b = append(b, `,"rx_bps":`...)
	b = appendFloat(b, f.RxBps)
	b = append(b, `,"tx_bps":`...)
	b = appendFloat(b, f.TxBps)
	b = append(b, `,"captured_bytes":`...)
	b = strconv.AppendUint(b, f.CapturedBytes, 10)
	b = append(b, `,"dropped_packets":`...)
	b = strconv.AppendUint(b, f.DroppedPackets, 10)
	b = append(b, `,"nic_valid":`...)
	b = strconv.AppendBool(b, f.NICValid)
	b = append(b, `,"captured_packets":`...)
	b = strconv.AppendUint(b, f.CapturedPackets, 10)
	b = append(b, `,"received_packets":`...)
	b = strconv.AppendUint(b, f.ReceivedPackets, 10)
	b = append(b, `,"if_dropped":`...)
	b = strconv.AppendUint(b, f.IfDropped, 10)
	b = append(b, `,"decode_errors":`...)
	b = strconv.AppendUint(b, f.DecodeErrors, 10)
	b = append(b, `,"coverage":`...)
	if f.Coverage < 0 || math.IsNaN(f.Coverage) || math.IsInf(f.Coverage, 0) {
		b = append(b, "null"...)
	} else {
		b = appendFloat(b, f.Coverage)
	}
	if f.Err != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, f.Err)
	}
	return append(b, '}')
}

func appendPort(b []byte, r render.Row) []byte {
	p := r.Port
	b = append(b, `{"port":`...)
	b = strconv.AppendUint(b, uint64(p.Key.Port), 10)
	b = append(b, `,"proto":`...)
	b = appendString(b, p.Key.Proto.String())
	b = append(b, `,"service":`...)
	b = appendString(b, p.Service)
	b = append(b, `,"side":`...)
	b = appendString(b, p.Key.Side.String())
	b = append(b, `,"rx_bytes":`...)
	b = strconv.AppendUint(b, p.Total.RxBytes, 10)
	b = append(b, `,"tx_bytes":`...)
	b = strconv.AppendUint(b, p.Total.TxBytes, 10)
	b = append(b, `,"rx_packets":`...)
	b = strconv.AppendUint(b, p.Total.RxPackets, 10)
	b = append(b, `,"tx_packets":`...)
	b = strconv.AppendUint(b, p.Total.TxPackets, 10)
	b = append(b, `,"rx_bps":`...)
	b = appendFloat(b, r.RxBps)
	b = append(b, `,"tx_bps":`...)
	b = appendFloat(b, r.TxBps)
	b = append(b, `,"connections":`...)
	b = strconv.AppendInt(b, int64(p.Connections), 10)
	b = append(b, `,"process":`...)
	b = appendString(b, p.Process)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(p.PID), 10)
	b = append(b, `,"listening":`...)
	b = strconv.AppendBool(b, p.Listening)
	if p.ProcessNote != "" {
		b = append(b, `,"process_note":`...)
		b = appendString(b, p.ProcessNote)
	}
	return append(b, '}')
}

// appendFloat writes v as a JSON number; NaN and infinities, which JSON
// cannot carry, are written as 0.
func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	abs := math.Abs(v)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		// As encoding/json does: exponent form, "1e-07" shortened to "1e-7".
		b = strconv.AppendFloat(b, v, 'e', -1, 64)
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string: quotes, backslashes and control
// characters escaped, '<', '>', '&', U+2028 and U+2029 escaped as
// encoding/json does, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
