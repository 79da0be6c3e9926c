package web

import (
	"net/http"
	"sort"

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
	return render(c, http.StatusOK, views.Overview(m))
}
