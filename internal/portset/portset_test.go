package portset

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string // canonical String(), when ok
		in_     []uint16
		out     []uint16
		wantErr string // substring of the error, "" when ok
	}{
		{in: "22", want: "22", in_: []uint16{22}, out: []uint16{21, 23, 0}},
		{in: "22,80,8000-8100", want: "22,80,8000-8100", in_: []uint16{22, 80, 8000, 8050, 8100}, out: []uint16{79, 81, 7999, 8101}},
		{in: " 443 , 80 ", want: "80,443", in_: []uint16{80, 443}, out: []uint16{81}},
		{in: "0,65535", want: "0,65535", in_: []uint16{0, 65535}, out: []uint16{1, 65534}},
		{in: "0-65535", want: "0-65535", in_: []uint16{0, 1, 32768, 65535}},
		{in: "10-20,15-30,31", want: "10-31", in_: []uint16{10, 31}, out: []uint16{9, 32}},
		{in: "5,5,5", want: "5", in_: []uint16{5}, out: []uint16{4, 6}},
		{in: "7-7", want: "7", in_: []uint16{7}},
		{in: "100-200,1-2", want: "1-2,100-200", in_: []uint16{1, 2, 150}, out: []uint16{3, 99, 201}},
		{in: "80-", wantErr: `bad port list "80-": range "80-" has no high end`},
		{in: "-80", wantErr: `bad port list "-80": range "-80" has no low end`},
		{in: "", wantErr: `bad port list "": empty list`},
		{in: "  ", wantErr: "empty list"},
		{in: "22,,80", wantErr: `bad port list "22,,80": empty item`},
		{in: "22,", wantErr: "empty item"},
		{in: ",22", wantErr: "empty item"},
		{in: "65536", wantErr: "port 65536 out of range 0-65535"},
		{in: "99999999999999999999999", wantErr: "out of range 0-65535"},
		{in: "http", wantErr: `"http" is not a port number`},
		{in: "+80", wantErr: "is not a port number"},
		{in: "-", wantErr: "no low end"},
		{in: "1-2-3", wantErr: `"2-3" is not a port number`},
		{in: "90-80", wantErr: `range "90-80" is backwards (low 90 > high 80)`},
		{in: "80-0x50", wantErr: "is not a port number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %v, want error containing %q", tt.in, s, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error %q, want it to contain %q", tt.in, err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "bad port list ") {
					t.Fatalf("error %q does not name the port list", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if s.Empty() {
				t.Errorf("Empty() = true for %q", tt.in)
			}
			for _, p := range tt.in_ {
				if !s.Contains(p) {
					t.Errorf("Contains(%d) = false, want true", p)
				}
			}
			for _, p := range tt.out {
				if s.Contains(p) {
					t.Errorf("Contains(%d) = true, want false", p)
				}
			}
		})
	}
}

func TestZeroSet(t *testing.T) {
	var s Set
	if !s.Empty() || s.Contains(0) || s.Contains(80) || s.String() != "" || len(s.Ranges()) != 0 {
		t.Fatalf("zero Set is not empty: %q", s)
	}
}

func TestFromRanges(t *testing.T) {
	tests := []struct {
		rs   []Range
		want string
	}{
		{nil, ""},
		{[]Range{{Lo: 9, Hi: 3}}, "3-9"},
		{[]Range{{Lo: 65535, Hi: 65535}, {Lo: 0, Hi: 65534}}, "0-65535"},
		{[]Range{{Lo: 1, Hi: 1}, {Lo: 3, Hi: 3}}, "1,3"},
		{[]Range{{Lo: 1, Hi: 1}, {Lo: 2, Hi: 2}}, "1-2"},
	}
	for _, tt := range tests {
		if got := FromRanges(tt.rs...).String(); got != tt.want {
			t.Errorf("FromRanges(%v) = %q, want %q", tt.rs, got, tt.want)
		}
	}
}

func TestRangesIsACopy(t *testing.T) {
	s, err := Parse("1-5")
	if err != nil {
		t.Fatal(err)
	}
	s.Ranges()[0].Hi = 100
	if s.Contains(50) {
		t.Fatal("Ranges() exposed the set's storage")
	}
}

func TestContainsDoesNotAllocate(t *testing.T) {
	s, err := Parse("22,80,443,1000-2000,3000-4000,8000-8100,9000")
	if err != nil {
		t.Fatal(err)
	}
	var hit bool
	allocs := testing.AllocsPerRun(100, func() {
		for p := 0; p < 10000; p += 7 {
			hit = s.Contains(uint16(p)) != hit
		}
	})
	if allocs != 0 {
		t.Fatalf("Contains allocates: %v allocs per run", allocs)
	}
}

// FuzzParse checks that Parse never panics, that an accepted list round-trips
// through String, and that Contains agrees with a naive reading of the list.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"22", "22,80,8000-8100", "0-65535", "80-", "-", ",", "1-2-3", " 5 , 6-7 ", "65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bad port list ") {
				t.Fatalf("error %q does not start with \"bad port list\"", err)
			}
			return
		}
		if s.Empty() {
			t.Fatalf("Parse(%q) accepted an empty set", in)
		}
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("Parse(String()=%q): %v", s.String(), err)
		}
		if again.String() != s.String() {
			t.Fatalf("round trip %q -> %q", s.String(), again.String())
		}
		rs := s.Ranges()
		for i, r := range rs {
			if r.Lo > r.Hi || (i > 0 && uint32(rs[i-1].Hi)+1 >= uint32(r.Lo)) {
				t.Fatalf("ranges not normalised: %v", rs)
			}
			for _, p := range []uint16{r.Lo, r.Hi} {
				if !s.Contains(p) {
					t.Fatalf("Contains(%d) = false for range %v", p, r)
				}
			}
			if r.Lo > 0 && (i == 0 || rs[i-1].Hi < r.Lo-1) && s.Contains(r.Lo-1) {
				t.Fatalf("Contains(%d) = true just below range %v", r.Lo-1, r)
			}
		}
	})
}
