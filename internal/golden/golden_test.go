package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	check := func(name string, got []byte, update bool) bool {
		r := &recorder{TB: t}
		Check(r, name, got, update)
		return !r.failed
	}
	if check("a.golden", []byte("x\n"), false) {
		t.Error("a missing golden file passed")
	}
	if !check("a.golden", []byte("x\n"), true) {
		t.Error("writing a golden file failed")
	}
	if b, err := os.ReadFile(filepath.Join("testdata", "a.golden")); err != nil || string(b) != "x\n" {
		t.Errorf("golden file holds %q, %v", b, err)
	}
	if !check("a.golden", []byte("x\n"), false) {
		t.Error("equal output failed")
	}
	if check("a.golden", []byte("y\n"), false) {
		t.Error("different output passed")
	}
}
