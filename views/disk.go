package views

import "strconv"

// Bytes is a size in binary units: 512 B, 120 GiB, 1.8 TiB.
func Bytes(n int64) string { return string(appendBytes(nil, n)) }

// Percent is a share with one decimal: 93.4 %.
func Percent(p float64) string { return string(appendPercent(nil, p)) }

func appendBytes(b markup, n int64) markup {
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

func appendPercent(b markup, p float64) markup {
	return append(strconv.AppendFloat(b, p, 'f', 1, 64), " %"...)
}
