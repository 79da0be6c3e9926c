package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

func (s *Server) kbIndex(c echo.Context) error {
	m := views.KBIndex{Page: s.page(c, "Guidance", "kb")}
	for _, t := range views.Topics {
		m.Topics = append(m.Topics, views.KBEntry{Slug: t.Slug, Title: t.Title})
	}
	for _, e := range store.Catalog {
		m.Exemptions = append(m.Exemptions, kbEntry(e))
	}
	for _, w := range store.Warnings {
		m.Warnings = append(m.Warnings, views.KBEntry{Slug: w.Slug, Title: w.Name})
	}
	return render(c, http.StatusOK, views.KB(m))
}

// kbFixes are the exemptions the dashboard clears itself, with the bulk
// action that does it.
var kbFixes = map[store.Code]struct{ action, label string }{
	store.SuspendedByUser:           {"unsuspend", "Remove the suspension"},
	store.PendingRebootSuspension:   {"acknowledge-reboot", "Acknowledge the reboot"},
	store.MaintenanceWindowRequired: {"schedule", "Assign a schedule"},
}

func kbEntry(e store.Entry) views.KBEntry {
	return views.KBEntry{Slug: e.Slug, Title: e.Name, Impact: e.Impact.String(), ImpactLabel: e.Impact.Label()}
}

func (s *Server) kbPage(c echo.Context) error {
	slug := c.Param("slug")
	for _, t := range views.Topics {
		if t.Slug == slug {
			m := t
			m.Page = s.page(c, t.Title, "kb")
			return render(c, http.StatusOK, views.KBPage(m))
		}
	}
	entries := append(append([]store.Entry{}, store.Catalog...), store.Warnings...)
	for _, e := range entries {
		if e.Slug != slug {
			continue
		}
		m := views.KBArticle{Page: s.page(c, e.Name, "kb"), Slug: e.Slug, Title: e.Name, Meaning: e.Meaning, Why: e.Why, Fix: e.Fix, Clears: e.Clears}
		ov, err := s.db.Overview(c.Request().Context())
		if err != nil {
			return err
		}
		if e.Warning {
			if e.Code == store.LowDiskSpace {
				m.Meaning += fmt.Sprintf(" The threshold in force is %s %% of a drive's space in use (admins change it under Settings).",
					strconv.FormatFloat(s.db.Settings().LowDiskPct, 'f', -1, 64))
			} else {
				m.Meaning += " The threshold in force is " + span(s.db.Settings().StaleAfter) + " (admins change it under Settings)."
			}
			m.Impact, m.ImpactLabel = "temporarily-cannot-patch", "Warning: does not change impact"
			f := store.Filter{}
			f.Add(store.DimWarning, false, string(e.Code))
			n, err := s.db.Count(c.Request().Context(), f)
			if err != nil {
				return err
			}
			m.ServersURL, m.Count = "/servers?warning="+string(e.Code), n
		} else {
			m.Impact, m.ImpactLabel = e.Impact.String(), e.Impact.Label()
			m.ServersURL, m.Count = "/servers?exemption="+string(e.Code), ov.ByCode[e.Code]
			if fix, ok := kbFixes[e.Code]; ok && m.Count > 0 && m.Can(store.Operator) {
				m.FixAction, m.FixLabel, m.FixFilter = fix.action, fix.label, "exemption="+string(e.Code)
				if fix.action == "schedule" {
					schedules, err := s.db.Schedules(c.Request().Context())
					if err != nil {
						return err
					}
					for _, sc := range schedules {
						m.Assignable = append(m.Assignable, views.Option{Value: strconv.FormatInt(sc.ID, 10), Label: sc.Name})
					}
				}
			}
		}
		days, err := trendDays(c)
		if err != nil {
			return err
		}
		code, warning := string(e.Code), e.Warning
		t, err := s.trend(c, "Endpoints with "+e.Name+" over time", "/kb/"+e.Slug, days, []series{{e.Name, e.Impact.String(), func(d *store.HistoryDay) int64 {
			if warning {
				return d.Warnings[code]
			}
			return d.Exemptions[code]
		}}})
		if err != nil {
			return err
		}
		m.Trend = &t
		for _, slug := range views.RelatedTopics(e.Code) {
			for _, t := range views.Topics {
				if t.Slug == slug {
					m.Related = append(m.Related, views.KBEntry{Slug: t.Slug, Title: t.Title})
				}
			}
		}
		return render(c, http.StatusOK, views.KBPage(m))
	}
	return echo.NewHTTPError(http.StatusNotFound, "There is no guidance page called “"+slug+"”. See the list at /kb.")
}
