package main

import (
	"context"
	"io"

	"github.com/porttop/porttop/internal/render"
	"github.com/porttop/porttop/internal/services"
)

// runDashboard runs the interactive dashboard.
func runDashboard(ctx context.Context, o *options, svc *services.Table, view render.Options, stderr io.Writer) error {
	return usagef("the dashboard is not wired yet: use -b")
}
