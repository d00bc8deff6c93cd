package main

import "testing"

func TestCaptureFilterExcludesOwnSSH(t *testing.T) {
	t.Setenv("SSH_CONNECTION", "198.51.100.7 51234 192.0.2.10 22")
	self := "not (host 198.51.100.7 and host 192.0.2.10 and port 51234 and port 22)"
	for _, c := range []struct {
		o    options
		want string
	}{
		{options{}, ""},
		{options{filter: "tcp"}, "tcp"},
		{options{excludeOwnSSH: true}, self},
		{options{excludeOwnSSH: true, filter: "tcp or udp"}, "(tcp or udp) and " + self},
		{options{excludeOwnSSH: true, file: "x.pcap", filter: "tcp"}, "tcp"}, // a file is not this session
	} {
		if got := captureFilter(&c.o); got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
	t.Setenv("SSH_CONNECTION", "garbage")
	if got := captureFilter(&options{excludeOwnSSH: true}); got != "" {
		t.Errorf("bad SSH_CONNECTION gave %q", got)
	}
}
