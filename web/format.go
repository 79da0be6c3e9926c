package web

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"patchready/store"
	"patchready/views"
)

// bytesText is a size in binary units: 512 GiB, 1.8 TiB.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= unit && i < 5 {
		f /= unit
		i++
	}
	suffix := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}[i]
	prec := 1
	if f >= 100 {
		prec = 0
	}
	// strconv rather than fmt: this runs for every drive on every page.
	return strconv.FormatFloat(f, 'f', prec, 64) + " " + suffix
}

func pctText(p float64) string { return strconv.FormatFloat(p, 'f', 1, 64) + " %" }

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
		return fmt.Sprintf("%d min", int(math.Max(1, d.Minutes())))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

// diskView prepares the Disk Space In Use cell.
func diskView(max *float64, drives []store.Drive, threshold float64) views.DiskView {
	if max == nil {
		return views.DiskView{}
	}
	d := views.DiskView{Known: true, Pct: pctText(*max), Width: fmt.Sprintf("width:%.0f%%", *max), Low: *max >= threshold}
	for _, dr := range drives {
		d.Drives = append(d.Drives, views.DriveView{Mount: dr.Mount, Size: bytesText(dr.TotalBytes), Used: bytesText(dr.UsedBytes),
			Free: bytesText(dr.FreeBytes()), Pct: pctText(dr.UsedPct()), Low: dr.TotalBytes > 0 && dr.UsedPct() >= threshold})
	}
	return d
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
