package web

import (
	"math"

	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

// ago says how long before now t was: "12 min ago", "3 days ago".
func ago(t, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "in " + span(-d)
	}
	if d < time.Minute {
		return "just now"
	}
	return span(d) + " ago"
}

// span is a rough human duration: "45 min", "3 h", "2 days".
func span(d time.Duration) string {
	switch {
	case d < time.Hour:
		return strconv.Itoa(int(math.Max(1, d.Minutes()))) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " h"
	default:
		return strconv.Itoa(int(d.Hours()/24)) + " days"
	}
}

// userZone is the time zone of the signed-in user: theirs, or UTC until
// they have one (and for API tokens).
func userZone(c echo.Context) *time.Location {
	if u := currentUser(c); u != nil && u.Timezone != "" {
		if loc, err := time.LoadLocation(u.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// stamp is a time as the user reads it, with its zone named:
// "2026-11-25 15:04 CET".
func stamp(c echo.Context, t time.Time) string {
	return t.In(userZone(c)).Format("2006-01-02 15:04 MST")
}

// diskView prepares the Disk Space In Use cell from the fullest drive's
// share, the endpoint's low-disk warning (as the rules derived it) and
// every drive, each marked low by the same rule.
func diskView(fullest *float64, low bool, drives []store.Drive, threshold float64) views.DiskView {
	if fullest == nil {
		return views.DiskView{}
	}
	pct := *fullest
	d := views.DiskView{Drives: make([]views.DriveView, 0, len(drives)), Known: true, Pct: views.Percent(pct),
		Fill: int(math.Round(min(max(pct, 0), 100))), Low: low}
	for _, dr := range drives {
		d.Drives = append(d.Drives, views.DriveView{Mount: dr.Mount, Total: dr.TotalBytes, Used: dr.UsedBytes,
			Pct: dr.UsedPct(), Low: dr.Low(threshold)})
	}
	return d
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// The dashboard writes counts one way, in pages and in messages alike.
var thousands, plural = views.Thousands, views.Plural
