package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

func (s *Server) overview(c echo.Context) error {
	ov, err := s.db.Overview(c.Request().Context())
	if err != nil {
		return err
	}
	m := views.OverviewPage{Page: s.page(c, "Overview", "overview"), Total: ov.Total}
	var top int64 = 1
	for _, n := range ov.ByImpact {
		top = max(top, n)
	}
	for _, i := range store.Impacts {
		m.Impacts = append(m.Impacts, views.Bar{Label: i.Label(), Count: ov.ByImpact[i], URL: "/servers?impact=" + i.String(),
			Class: i.String(), Width: float64(ov.ByImpact[i]) * 100 / float64(top)})
	}
	top = 1
	for _, n := range ov.ByCode {
		top = max(top, n)
	}
	for _, e := range store.Catalog {
		if n := ov.ByCode[e.Code]; n > 0 {
			m.Exemptions = append(m.Exemptions, views.Bar{Label: e.Name, Count: n, URL: "/servers?exemption=" + string(e.Code),
				Class: e.Impact.String(), Width: float64(n) * 100 / float64(top)})
		}
	}
	sort.SliceStable(m.Exemptions, func(i, j int) bool { return m.Exemptions[i].Count > m.Exemptions[j].Count })
	m.LowDisk = views.Bar{Label: "Low Disk Space warnings", Count: ov.LowDisk, URL: "/servers?warning=low-disk-space"}
	if m.Windows, err = s.nextWindows(c, time.Now()); err != nil {
		return err
	}
	days, err := trendDays(c)
	if err != nil {
		return err
	}
	if m.Trend, err = s.trend(c, "Trend", "/", days, impactLines()); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Overview(m))
}

// overviewWindows is how many coming windows the overview lists.
const overviewWindows = 6

// nextWindows lists the next windows of every schedule, soonest first:
// how many endpoints each covers and how many of those are held back, by
// exemption, each number a link to the list. Awaiting Maintenance Window
// is left out of "held back": the window itself clears it.
func (s *Server) nextWindows(c echo.Context, now time.Time) ([]views.WindowSummary, error) {
	ctx := c.Request().Context()
	all, err := s.db.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	type upcoming struct {
		sc *store.Schedule
		w  store.Window
	}
	var next []upcoming
	for i := range all {
		for _, w := range all[i].WindowsFrom(now, overviewWindows) {
			next = append(next, upcoming{&all[i], w})
		}
	}
	sort.Slice(next, func(i, j int) bool { return next[i].w.Start.Before(next[j].w.Start) })
	next = next[:min(len(next), overviewWindows)]
	counts := map[int64]store.WindowCounts{} // a schedule's windows share its counts
	var out []views.WindowSummary
	for _, u := range next {
		wc, ok := counts[u.sc.ID]
		if !ok {
			if wc, err = s.db.WindowCounts(ctx, u.sc.ID); err != nil {
				return nil, err
			}
			counts[u.sc.ID] = wc
		}
		id := strconv.FormatInt(u.sc.ID, 10)
		list := "/servers?schedule=" + id
		ws := views.WindowSummary{Schedule: u.sc.Name, ScheduleURL: "/schedules/" + id, Open: !u.w.Start.After(now),
			When: stamp(c, u.w.Start) + " – " + u.w.End.In(userZone(c)).Format("15:04"), Endpoints: wc.Endpoints, EndpointsURL: list,
			BlockedTotal: wc.HeldBack, BlockedURL: list + "&exemption=" + strings.Join(store.HeldBackCodes(), ",")}
		for _, e := range store.Catalog {
			if n := wc.ByExemption[string(e.Code)]; n > 0 {
				ws.Blocked = append(ws.Blocked, views.Bar{Label: e.Name, Count: n, URL: list + "&exemption=" + string(e.Code), Class: e.Impact.String()})
			}
		}
		sort.SliceStable(ws.Blocked, func(i, j int) bool { return ws.Blocked[i].Count > ws.Blocked[j].Count })
		out = append(out, ws)
	}
	return out, nil
}
