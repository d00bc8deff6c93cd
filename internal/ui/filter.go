package ui

import (
	"strings"

	"github.com/porttop/porttop/internal/key"
	"github.com/porttop/porttop/internal/portset"
)

// Filter is a parsed filter expression from the `/` prompt. Within one kind
// of term the alternatives are OR-ed (`80 443`, `tcp udp`), and the kinds are
// AND-ed (`tcp 8000-9000 java`: a TCP row, port in range, service or process
// containing "java"). The zero Filter matches every row.
type Filter struct {
	// Expr is the expression as typed, trimmed.
	Expr   string
	ports  portset.Set
	protos []key.Proto
	sides  []key.Side
	words  []string // lower case
}

// ParseFilter parses a filter expression: whitespace- or comma-separated
// terms, each a port (`443`), a port range (`8000-8100`), `tcp` or `udp`,
// `local` or `remote`, or any other word, matched as a case-insensitive
// substring of the service or process name. The error says which term is
// wrong and why, for the prompt line.
func ParseFilter(expr string) (Filter, error) {
	f := Filter{Expr: strings.TrimSpace(expr)}
	var ranges []portset.Range
	terms := strings.FieldsFunc(f.Expr, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for _, t := range terms {
		lt := strings.ToLower(t)
		switch lt {
		case "tcp":
			f.protos = append(f.protos, key.TCP)
			continue
		case "udp":
			f.protos = append(f.protos, key.UDP)
			continue
		case "local":
			f.sides = append(f.sides, key.Local)
			continue
		case "remote":
			f.sides = append(f.sides, key.Remote)
			continue
		}
		if (t[0] >= '0' && t[0] <= '9') || t[0] == '-' {
			ps, err := portset.Parse(t)
			if err != nil {
				return Filter{}, err
			}
			ranges = append(ranges, ps.Ranges()...)
			continue
		}
		f.words = append(f.words, lt)
	}
	if len(ranges) > 0 {
		f.ports = portset.FromRanges(ranges...)
	}
	return f, nil
}

// IsZero reports whether f matches everything.
func (f Filter) IsZero() bool {
	return f.ports.Empty() && len(f.protos) == 0 && len(f.sides) == 0 && len(f.words) == 0
}

// Match reports whether a row with key k, service name and process name
// passes the filter. process may hold several names separated by spaces.
func (f Filter) Match(k key.Key, service, process string) bool {
	if !f.ports.Empty() && !f.ports.Contains(k.Port) {
		return false
	}
	if len(f.protos) > 0 {
		ok := false
		for _, p := range f.protos {
			ok = ok || p == k.Proto
		}
		if !ok {
			return false
		}
	}
	if len(f.sides) > 0 {
		ok := false
		for _, s := range f.sides {
			ok = ok || s == k.Side
		}
		if !ok {
			return false
		}
	}
	if len(f.words) > 0 {
		svc, proc := strings.ToLower(service), strings.ToLower(process)
		ok := false
		for _, w := range f.words {
			if strings.Contains(svc, w) || strings.Contains(proc, w) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
