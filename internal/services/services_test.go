package services

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/porttop/porttop/internal/key"
)

func TestBuiltin(t *testing.T) {
	tests := []struct {
		proto key.Proto
		port  uint16
		want  string
	}{
		{key.TCP, 22, "ssh"},
		{key.TCP, 443, "https"},
		{key.UDP, 53, "domain"},
		{key.UDP, 4789, ""}, // not in netbase 6.4
		{key.TCP, 5432, "postgresql"},
		{key.UDP, 22, ""},
		{key.TCP, 0, ""},
		{key.TCP, 65535, ""},
	}
	for _, tt := range tests {
		if got := Name(tt.proto, tt.port); got != tt.want {
			t.Errorf("Name(%v, %d) = %q, want %q", tt.proto, tt.port, got, tt.want)
		}
		if got := Builtin().Known(tt.proto, tt.port); got != (tt.want != "") {
			t.Errorf("Known(%v, %d) = %v", tt.proto, tt.port, got)
		}
	}
}

// TestGeneratedTableIsCurrent fails when table.go was not regenerated after
// netbase-services.txt changed.
func TestGeneratedTableIsCurrent(t *testing.T) {
	f, err := os.Open("netbase-services.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(entries, builtin) {
		t.Fatal("table.go is stale: run go generate ./internal/services")
	}
	if len(entries) < 300 {
		t.Fatalf("only %d entries parsed", len(entries))
	}
}

func TestParse(t *testing.T) {
	in := `# comment
ssh 22/tcp # SSH
ssh 22/udp
sshalt 22/tcp
sctpthing 9/sctp
myapp 8000/tcp alias1 alias2
`
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{22, key.TCP, "ssh"}, {22, key.UDP, "ssh"}, {8000, key.TCP, "myapp"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse = %v, want %v", got, want)
	}
	for _, bad := range []string{"ssh\n", "ssh 22\n", "ssh 70000/tcp\n", "ssh x/tcp\n"} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q) accepted bad input", bad)
		}
	}
}

func TestOverrides(t *testing.T) {
	tb := Builtin().WithOverrides([]Entry{
		{Port: 8000, Proto: key.TCP, Name: "myapp"},
		{Port: 22, Proto: key.TCP, Name: "sshd-prod"},
		{Port: 80, Proto: key.TCP, Name: ""},
	})
	if got := tb.Name(key.TCP, 8000); got != "myapp" || !tb.Known(key.TCP, 8000) {
		t.Errorf("added entry: %q", got)
	}
	if got := tb.Name(key.TCP, 22); got != "sshd-prod" {
		t.Errorf("renamed entry: %q", got)
	}
	if tb.Known(key.TCP, 80) || tb.Name(key.TCP, 80) != "" {
		t.Error("removed entry still known")
	}
	if Name(key.TCP, 22) != "ssh" {
		t.Error("overrides leaked into the built-in table")
	}
}
