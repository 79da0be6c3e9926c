package views

import (
	"fmt"
	"strings"
)

// Chart geometry, in the SVG's own units.
const (
	chartW, chartH       = 720.0, 220.0
	chartLeft, chartBase = 56.0, 196.0
	chartTop             = 12.0
	maxFocusPoints       = 60
)

// TrendPath is the polyline points of one series.
func (t Trend) TrendPath(series int) string {
	var b strings.Builder
	top := t.max()
	for i, p := range t.Points {
		x, y := t.xy(i, p.Values[series], top)
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	return b.String()
}

// max is the highest value on the chart (at least 1).
func (t Trend) max() int64 {
	var m int64 = 1
	for _, p := range t.Points {
		for _, v := range p.Values {
			m = max(m, v)
		}
	}
	return m
}

// xy places day i's value v on a chart whose highest value is top.
func (t Trend) xy(i int, v, top int64) (float64, float64) {
	n := max(len(t.Points)-1, 1)
	x := chartLeft + (chartW-chartLeft-8)*float64(i)/float64(n)
	y := chartBase - (chartBase-chartTop)*float64(v)/float64(top)
	return x, y
}

// TrendBand is a day's hover and focus area: a column of the chart.
type TrendBand struct {
	X, W   float64
	Label  string // the day's numbers, read out and shown
	TipX   float64
	Anchor string
}

// Bands are the focusable days: all of them up to 60, else evenly spread.
func (t Trend) Bands() []TrendBand {
	n := len(t.Points)
	if n == 0 {
		return nil
	}
	step := max(1, (n+maxFocusPoints-1)/maxFocusPoints)
	w := (chartW - chartLeft - 8) / float64(max(n-1, 1)) * float64(step)
	var out []TrendBand
	for i := 0; i < n; i += step {
		p := t.Points[i]
		x, _ := t.xy(i, 0, 1)
		parts := make([]string, len(t.Series))
		for j, s := range t.Series {
			parts[j] = fmt.Sprintf("%s %s", thousands(p.Values[j]), strings.ToLower(s.Name))
		}
		b := TrendBand{X: x - w/2, W: w, Label: p.Date + ": " + strings.Join(parts, ", "), TipX: x, Anchor: "middle"}
		if x < chartLeft+120 {
			b.Anchor = "start"
		} else if x > chartW-140 {
			b.Anchor = "end"
		}
		out = append(out, b)
	}
	return out
}

// Ticks are the value axis's labels: 0, half and the top.
func (t Trend) Ticks() []struct {
	Y     float64
	Label string
} {
	m := t.max()
	out := []struct {
		Y     float64
		Label string
	}{}
	for _, v := range []int64{0, m / 2, m} {
		_, y := t.xy(0, v, m)
		out = append(out, struct {
			Y     float64
			Label string
		}{y, thousands(v)})
	}
	return out
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
