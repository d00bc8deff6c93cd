package main

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/porttop/porttop/internal/capture"
	"github.com/porttop/porttop/internal/engine"
	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/ring"
	"github.com/porttop/porttop/internal/services"
	"github.com/porttop/porttop/internal/snapshot"
	"github.com/porttop/porttop/internal/ui"
)

// runDashboard runs the interactive dashboard over live capture or, with
// -r, over a capture file (its history by packet time). Sources are opened
// before the terminal is taken, so their errors print as one plain line.
func runDashboard(ctx context.Context, o *options, svc *services.Table, view render.Options, stderr io.Writer) error {
	history := ring.New(ring.Config{})
	updates := make(chan struct{}, 1)
	sink := engine.SinkFunc(func(s *snapshot.Snapshot) error {
		history.Push(s)
		select {
		case updates <- struct{}{}:
		default:
		}
		return nil
	})

	var start func(ctx context.Context) error
	now := time.Now
	if o.file != "" {
		src, err := capture.OpenFile(o.file, captureFilter(o))
		if err != nil {
			return err
		}
		e, err := engine.New(engine.Config{Every: o.interval, Local: o.local, Services: svc},
			engine.Inputs{Sources: []capture.Source{src}}, sink)
		if err != nil {
			src.Close()
			return err
		}
		start = func(ctx context.Context) error {
			defer src.Close()
			return e.RunOffline(ctx)
		}
		// The header clock shows packet time.
		now = func() time.Time {
			if s := history.Latest(); s != nil {
				return s.Time
			}
			return time.Time{}
		}
	} else {
		srcs, err := openSources(o, stderr)
		if err != nil {
			return err
		}
		start = func(ctx context.Context) error { return runSources(ctx, o, svc, srcs, sink) }
	}

	guard := ui.NewGuard()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	engineErr := make(chan error, 1)
	guard.Go(func() { engineErr <- start(ctx) })

	uiErr := make(chan error, 1)
	go func() {
		uiErr <- ui.Run(ctx, ui.Options{
			Refresh:       o.interval,
			Updates:       updates,
			Sort:          view.Sort,
			Reverse:       view.Reverse,
			Ports:         view.Ports,
			Bits:          view.Bits,
			NoColor:       o.noColor,
			Now:           now,
			SSHConnection: os.Getenv("SSH_CONNECTION"),
			ExcludeOwnSSH: o.excludeOwnSSH,
			Guard:         guard,
		}, history)
	}()

	var err error
	select {
	case err = <-uiErr:
		cancel()
		if eerr := <-engineErr; eerr != nil && !errors.Is(eerr, context.Canceled) && err == nil {
			err = eerr
		}
	case err = <-engineErr:
		if err == nil && o.file != "" {
			// End of the file: keep showing it until the user quits.
			return quietSignal(<-uiErr)
		}
		cancel()
		<-uiErr
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return quietSignal(err)
}

// quietSignal treats a dashboard stopped by a signal as a normal exit.
func quietSignal(err error) error {
	var se *ui.SignalError
	if errors.As(err, &se) {
		return nil
	}
	return err
}
