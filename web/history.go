package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

// apiHistory answers the last record of each UTC day, oldest first.
func (s *Server) apiHistory(c echo.Context) error {
	days := 30
	if v := c.QueryParam("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxHistoryDays {
			return badParam("days", v, fmt.Sprintf("a number of days from 1 to %d", store.MaxHistoryDays))
		}
		days = n
	}
	h, err := s.db.EstateHistory(c.Request().Context(), days)
	if err != nil {
		return err
	}
	if h == nil {
		h = []store.HistoryDay{}
	}
	return c.JSON(http.StatusOK, map[string]any{"days": h})
}

// trendSpans are the spans the charts offer, in days.
var trendSpans = []int{30, 90, 365}

// trendDays reads ?trend=N (30 by default).
func trendDays(c echo.Context) (int, error) {
	v := c.QueryParam("trend")
	if v == "" {
		return 30, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || (n != 30 && n != 90 && n != 365) {
		return 0, badParam("trend", v, "30, 90 or 365 (days)")
	}
	return n, nil
}

// series is one line of a trend: its name, style and value of a day.
type series struct {
	name, class string
	value       func(d *store.HistoryDay) int64
}

// trend prepares a chart of some series over the last days.
func (s *Server) trend(c echo.Context, title, path string, days int, lines []series) (views.Trend, error) {
	h, err := s.db.EstateHistory(c.Request().Context(), days)
	if err != nil {
		return views.Trend{}, err
	}
	t := views.Trend{Title: title, Days: days}
	for _, n := range trendSpans {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		t.Spans = append(t.Spans, views.Option{Value: path + sep + "trend=" + strconv.Itoa(n) + "#trend", Label: strconv.Itoa(n) + " days", Selected: n == days})
	}
	for _, l := range lines {
		t.Series = append(t.Series, views.TrendSeries{Name: l.name, Class: l.class})
	}
	for i := range h {
		p := views.TrendPoint{Date: h[i].Date}
		for _, l := range lines {
			p.Values = append(p.Values, l.value(&h[i]))
		}
		t.Demo = t.Demo || h[i].Demo
		t.Points = append(t.Points, p)
	}
	return t, nil
}

// impactLines are the overview's trend: endpoints by impact.
func impactLines() []series {
	var out []series
	for _, i := range store.Impacts {
		i := i
		out = append(out, series{i.Label(), i.String(), func(d *store.HistoryDay) int64 { return d.Impact[i.String()] }})
	}
	return out
}
