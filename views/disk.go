package views

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"
)

// Bytes is a size in binary units: 512 B, 120 GiB, 1.8 TiB.
func Bytes(n int64) string { return string(appendBytes(nil, n)) }

// Percent is a share with one decimal: 93.4 %.
func Percent(p float64) string { return string(appendPercent(nil, p)) }

func appendBytes(b []byte, n int64) []byte {
	const unit = 1024
	if n < unit {
		return append(strconv.AppendInt(b, n, 10), " B"...)
	}
	f, i := float64(n), 0
	for f >= unit && i < 5 {
		f /= unit
		i++
	}
	prec := 1
	if f >= 100 {
		prec = 0
	}
	b = strconv.AppendFloat(b, f, 'f', prec, 64)
	return append(b, [...]string{"", " KiB", " MiB", " GiB", " TiB", " PiB"}[i]...)
}

func appendPercent(b []byte, p float64) []byte {
	return append(strconv.AppendFloat(b, p, 'f', 1, 64), " %"...)
}

// driveRows renders the lines of the Disk Space In Use pop-up. It is the
// most repeated markup of the product (every drive of every row of a
// Servers page), and templ's { } formats each value through fmt.Sprint
// into a new string, so it is written here into one buffer per cell
// instead. The mount, the only text not made here, goes through
// templ.EscapeString; the rest are numbers and units.
func driveRows(drives []DriveView) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		b := make([]byte, 0, 160*len(drives))
		for _, d := range drives {
			if d.Low {
				b = append(b, `<tr class="low">`...)
			} else {
				b = append(b, `<tr>`...)
			}
			b = append(b, `<td class="mono">`...)
			b = append(b, templ.EscapeString(d.Mount)...)
			b = append(b, `</td><td>`...)
			b = appendBytes(b, d.Total)
			b = append(b, `</td><td>`...)
			b = appendBytes(b, d.Used)
			b = append(b, `</td><td>`...)
			b = appendBytes(b, d.Total-d.Used)
			b = append(b, `</td><td>`...)
			b = appendPercent(b, d.Pct)
			if d.Low {
				b = append(b, ` ⚠ low disk`...)
			}
			b = append(b, `</td></tr>`...)
		}
		_, err := w.Write(b)
		return err
	})
}
