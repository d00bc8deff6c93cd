package ui

import (
	"strings"
	"testing"

	"github.com/porttop/porttop/internal/key"
)

func TestParseFilter(t *testing.T) {
	type row struct {
		k         key.Key
		svc, proc string
	}
	ssh := row{tcp(22, key.Local), "ssh", "sshd"}
	https := row{tcp(443, key.Remote), "https", "firefox"}
	java := row{tcp(8080, key.Local), "http-alt", "java"}
	dns := row{key.Key{Proto: key.UDP, Side: key.Remote, Port: 53}, "domain", "systemd-resolved"}
	none := row{key.Key{Proto: key.UDP, Side: key.Local, Port: 9000}, "", ""}
	all := []row{ssh, https, java, dns, none}

	for _, c := range []struct {
		expr string
		want []row // rows that match
		err  string
	}{
		{"", all, ""},
		{"   ", all, ""},
		{"443", []row{https}, ""},
		{"8000-8100", []row{java}, ""},
		{"22,443", []row{ssh, https}, ""},
		{"22 443", []row{ssh, https}, ""},
		{"tcp", []row{ssh, https, java}, ""},
		{"UDP", []row{dns, none}, ""},
		{"tcp udp", all, ""},
		{"local", []row{ssh, java, none}, ""},
		{"remote", []row{https, dns}, ""},
		{"java", []row{java}, ""},
		{"HTTP", []row{https, java}, ""}, // service substring, any case
		{"ssh", []row{ssh}, ""},
		{"ssh java", []row{ssh, java}, ""},
		{"tcp 8000-9000 java", []row{java}, ""},
		{"tcp 8000-9000 nginx", nil, ""},
		{"udp 1-100 local", nil, ""},
		{"udp 1-100 remote", []row{dns}, ""},
		{"0-65535", all, ""},
		{"80-", nil, `range "80-" has no high end`},
		{"-80", nil, `range "-80" has no low end`},
		{"9000-8000", nil, "backwards"},
		{"70000", nil, "out of range"},
		{"80x", nil, `"80x" is not a port number`},
		{"tcp 1-2-3", nil, "not a port number"},
	} {
		f, err := ParseFilter(c.expr)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseFilter(%q) error = %v, want one containing %q", c.expr, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", c.expr, err)
			continue
		}
		if f.Expr != strings.TrimSpace(c.expr) {
			t.Errorf("ParseFilter(%q).Expr = %q", c.expr, f.Expr)
		}
		if f.IsZero() != (strings.TrimSpace(c.expr) == "") {
			t.Errorf("ParseFilter(%q).IsZero() = %v", c.expr, f.IsZero())
		}
		var got []row
		for _, r := range all {
			if f.Match(r.k, r.svc, r.proc) {
				got = append(got, r)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("ParseFilter(%q) matches %v, want %v", c.expr, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("ParseFilter(%q) matches %v, want %v", c.expr, got, c.want)
				break
			}
		}
	}
}

func TestLayoutFitsEveryWidth(t *testing.T) {
	for w := MinWidth; w <= 300; w++ {
		l := layoutFor(w)
		used := len(l.cols) - 1
		for _, c := range l.cols {
			used += c.w
			// The title fits, with the sort marker when the column sorts.
			n := len([]rune(l.title(c.c)))
			if _, sorts := sortKeyOf(c.c); sorts {
				n++
			}
			if n > c.w {
				t.Errorf("width %d: column %s is %d wide, its title needs %d", w, l.title(c.c), c.w, n)
			}
		}
		if used != w {
			t.Errorf("width %d: layout uses %d columns", w, used)
		}
		// columnAt finds each column at its left edge and nothing on a gap.
		x := 0
		for i, c := range l.cols {
			if got, ok := l.columnAt(x); !ok || got != i {
				t.Errorf("width %d: columnAt(%d) = %d, %v; want %d", w, x, got, ok, i)
			}
			x += c.w
			if i < len(l.cols)-1 {
				if _, ok := l.columnAt(x); ok {
					t.Errorf("width %d: columnAt(%d) on a gap found a column", w, x)
				}
			}
			x++
		}
	}
}

func TestChartLines(t *testing.T) {
	// Peak 8 fills 2 rows (16 eighths): 4 → 8 eighths (the bottom row),
	// 2 → 4 eighths, 1 → 2 eighths, 0 blank; one empty column on the left.
	got := chartLines([]float64{0, 1, 2, 4, 8}, 6, 2)
	want := []string{"     █", "  ▂▄██"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %q, want %q (all %q)", i, got[i], want[i], got)
		}
	}
	if got := chartLines(nil, 3, 1); got[0] != "   " {
		t.Errorf("empty chart %q", got)
	}
	if got := chartLines([]float64{0.001, 1000}, 2, 1); got[0] != "▁█" {
		t.Errorf("a trickle must show: %q", got)
	}
}

func TestFit(t *testing.T) {
	for _, c := range []struct {
		s     string
		w     int
		right bool
		want  string
	}{
		{"ab", 4, false, "ab  "},
		{"ab", 4, true, "  ab"},
		{"abcdef", 4, false, "abc…"},
		{"ab", 0, false, ""},
	} {
		if got := fit(c.s, c.w, c.right); got != c.want {
			t.Errorf("fit(%q, %d, %v) = %q, want %q", c.s, c.w, c.right, got, c.want)
		}
	}
}

func TestParseSSHConnection(t *testing.T) {
	c := parseSSHConnection("10.0.0.5 51234 10.0.0.1 22")
	if !c.valid || c.peer.String() != "10.0.0.5:51234" || c.local.String() != "10.0.0.1:22" || c.key() != tcp(22, key.Local) {
		t.Errorf("parsed %+v", c)
	}
	for _, bad := range []string{"", "10.0.0.5 51234 10.0.0.1", "x 1 10.0.0.1 22", "10.0.0.5 99999 10.0.0.1 22"} {
		if parseSSHConnection(bad).valid {
			t.Errorf("%q parsed as valid", bad)
		}
	}
}
