package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

// pathID reads a numeric id from the path; anything else is a 400.
func pathID(c echo.Context, name string) (int64, error) {
	v := c.Param(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, badParam(name, v, "a positive number")
	}
	return id, nil
}

func (s *Server) serverShow(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	m, err := s.serverModel(c, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Server(m))
}

// serverModel prepares the endpoint page.
func (s *Server) serverModel(c echo.Context, id int64) (views.ServerPage, error) {
	ctx := c.Request().Context()
	e, err := s.db.Endpoint(ctx, id)
	if err != nil {
		return views.ServerPage{}, err
	}
	history, err := s.db.History(ctx, id, 100)
	if err != nil {
		return views.ServerPage{}, err
	}
	schedules, err := s.db.Schedules(ctx)
	if err != nil {
		return views.ServerPage{}, err
	}
	now := time.Now()
	set := s.db.Settings()
	m := views.ServerPage{Page: s.page(c, e.Name, "servers"), ID: e.ID, Name: e.Name, Impact: e.Impact.String(),
		ImpactLabel: e.Impact.Label(), Schedule: "None", NextWindow: "—", Suspension: e.Suspension.String()}
	if e.Suspension != nil && !e.Suspension.ActiveAt(now) {
		m.Suspension += " (not in force now)"
	}
	if e.Suspension != nil {
		m.Suspension += " — set by " + e.Suspension.CreatedBy + ", " + stamp(c, e.Suspension.CreatedAt)
	}
	m.Suspended = e.Suspension != nil
	m.RebootDue = store.RebootDue(e.RebootRequiredSince, e.RebootAckedAt)

	f := e.Facts
	str := func(p *string) string {
		if p == nil {
			return "unknown"
		}
		return *p
	}
	boolean := func(p *bool) string {
		if p == nil {
			return "unknown"
		}
		return map[bool]string{true: "yes", false: "no"}[*p]
	}
	when := func(t *time.Time) string {
		if t == nil {
			return "unknown"
		}
		return stamp(c, *t) + " (" + ago(*t, now) + ")"
	}
	// Who said it: "power: on — vcenter-sync, 3 min ago".
	from := func(field string) string {
		if src, ok := e.Sources[field]; ok {
			return " — " + src.Source + ", " + ago(src.ReportedAt, now)
		}
		return ""
	}
	ps := "unknown"
	if f.PSVersion != nil {
		ps = strconv.Itoa(*f.PSVersion)
	}
	for _, l := range e.ManualLabels {
		m.Labels = append(m.Labels, views.LabelView{Label: l, URL: "/servers?label=" + url.QueryEscape(l), Manual: true})
	}
	for _, l := range e.Labels {
		if !slices.Contains(e.ManualLabels, l) {
			m.Labels = append(m.Labels, views.LabelView{Label: l, URL: "/servers?label=" + url.QueryEscape(l)})
		}
	}
	m.Facts = []views.Fact{
		fact("IP", str(f.IP)+from("ip")), fact("OS", str(f.OSName)+" ("+str(f.OSFamily)+")"+from("os_name")), fact("Platform supported", boolean(f.PlatformSupported)+from("platform_supported")),
		fact("Managed", boolean(f.Managed)+from("managed")), fact("Protocol", str(f.Protocol)+from("protocol")), fact("Credentials", str(f.Credentials)+from("credentials")),
		fact("Connector", str(f.Connector)+from("connector")), fact("Reachable", boolean(f.Reachable)+from("reachable")), fact("Session", str(f.Connection)+from("connection")),
		fact("Last contact", when(f.LastContactAt)+from("last_contact_at")), fact("Power", str(f.Power)+from("power")), fact("VM frozen", boolean(f.VMFrozen)+from("vm_frozen")),
	}
	if f.OSFamily != nil && *f.OSFamily == "windows" {
		m.Facts = append(m.Facts, fact("PowerShell policy", str(f.PSExecutionPolicy)+from("ps_execution_policy")), fact("PowerShell version", ps+from("ps_version")),
			fact("Last WSUS report", when(f.WSUSLastReportAt)+from("wsus_last_report_at")))
	}
	m.Facts = append(m.Facts,
		fact("Advisories present", boolean(f.AdvisoriesPresent)+from("advisories_present")), fact("Packages present", boolean(f.PackagesPresent)+from("packages_present")),
		fact("Repositories OK", boolean(f.RepositoriesOK)+from("repositories_ok")), fact("Subscription valid", boolean(f.SubscriptionValid)+from("subscription_valid")),
		fact("Reboot required since", when(f.RebootRequiredSince)+from("reboot_required_since")), fact("Reboot acknowledged", acked(c, e, now)),
		fact("Last window timed out", boolean(f.LastWindowTimedOut)+from("last_window_timed_out")),
		fact("Facts updated", when(&e.FactsUpdatedAt)), fact("Last report", lastReport(c, e, now)))

	m.Disk = diskView(e.MaxDiskPct, e.LowDisk, f.Drives, set.LowDiskPct)
	m.Drives = m.Disk.Drives
	for i, x := range e.Exemptions {
		en := x.Entry()
		m.Exemptions = append(m.Exemptions, views.ExemptionView{Code: string(x.Code), Name: en.Name, Impact: en.Impact.String(),
			ImpactLabel: en.Impact.Label(), Meaning: en.Meaning, Evidence: x.Evidence, Since: ago(x.Since, now),
			SinceT: x.Since.Format(time.RFC3339), KBURL: "/kb/" + en.Slug, Fix: en.Fix, Open: i == 0})
	}
	trail, err := s.db.EndpointAudit(ctx, id, 20)
	if err != nil {
		return views.ServerPage{}, err
	}
	for _, a := range trail {
		ch := a.Changes[0]
		m.Audit = append(m.Audit, views.AuditLine{At: stamp(c, a.At), Actor: a.Actor, Action: a.Action, Change: ch.Before + " → " + ch.After})
	}
	m.AuditURL = "/audit?endpoint=" + url.QueryEscape(e.Name)
	m.Zone = userZone(c).String()
	m.BackURL = listReferer(c)
	if e.LowDisk {
		w := store.LowDiskWarning
		m.Warnings = append(m.Warnings, views.ExemptionView{Code: string(w.Code), Name: w.Name, Impact: "warning", ImpactLabel: "Warning",
			Meaning: w.Meaning, Evidence: fmt.Sprintf("fullest drive %.1f %% in use, threshold %g %%", *e.MaxDiskPct, set.LowDiskPct),
			KBURL: "/kb/" + w.Slug, Fix: w.Fix})
	}
	if e.StaleFacts {
		w := store.StaleFactsWarning
		m.Warnings = append(m.Warnings, views.ExemptionView{Code: string(w.Code), Name: w.Name, Impact: "warning", ImpactLabel: "Warning",
			Meaning: w.Meaning, Evidence: fmt.Sprintf("last report %s, threshold %s", ago(e.ReportedAt, now), span(set.StaleAfter)),
			KBURL: "/kb/" + w.Slug, Fix: w.Fix})
	}
	for _, h := range history {
		en, _ := store.Lookup(h.Code)
		hv := views.HistoryView{Name: en.Name, KBURL: "/kb/" + en.Slug, Started: stamp(c, h.Started), Ended: "in force"}
		if h.Ended != nil {
			hv.Ended = stamp(c, *h.Ended)
		}
		m.History = append(m.History, hv)
	}
	for _, sc := range schedules {
		m.Schedules = append(m.Schedules, views.Option{Value: strconv.FormatInt(sc.ID, 10), Label: sc.Name, Selected: sc.ID == e.ScheduleID})
		if sc.ID == e.ScheduleID {
			m.Schedule, m.ScheduleURL = sc.Name, fmt.Sprintf("/schedules/%d", sc.ID)
			m.NextWindow = nextWindowText(c, &sc, now)
		}
	}
	// A suspension by cycles ends with the last window it covers.
	if susp := e.Suspension; susp != nil && susp.CyclesRemaining != nil && *susp.CyclesRemaining > 0 {
		m.Suspension += ". " + cyclesEnd(c, schedules, e.ScheduleID, susp, now)
	}
	return m, nil
}

// nextWindowText describes a schedule's next window: "opens in 3 h (…)".
func nextWindowText(c echo.Context, sc *store.Schedule, now time.Time) string {
	w, ok := sc.NextWindow(now)
	switch {
	case len(sc.Entries) == 0:
		return "none: the schedule has no windows"
	case !ok:
		return "none: every window has ended"
	case !w.Start.After(now):
		return fmt.Sprintf("open now, closes in %s (%s)", span(w.End.Sub(now)), stamp(c, w.End))
	default:
		return fmt.Sprintf("opens in %s (%s – %s)", span(w.Start.Sub(now)), stamp(c, w.Start), stamp(c, w.End))
	}
}

// cyclesEnd says when a suspension by cycles will end on the endpoint's
// schedule.
func cyclesEnd(c echo.Context, schedules []store.Schedule, id int64, susp *store.Suspension, now time.Time) string {
	left := plural(int64(*susp.CyclesRemaining), "window", "windows")
	for i := range schedules {
		if schedules[i].ID != id {
			continue
		}
		if end, ok := schedules[i].SuspensionEnd(susp); ok {
			return fmt.Sprintf("It ends %s (%s), when the last of its %s closes", stamp(c, end), ago(end, now), left)
		}
		return fmt.Sprintf("It ends after %s more, which the schedule does not have yet", left)
	}
	return fmt.Sprintf("It ends after %s more; the endpoint has no schedule, so none is counted", left)
}

// lastReport says when a source last reported on the endpoint, and
// whether that is older than the stale threshold.
func lastReport(c echo.Context, e *store.Endpoint, now time.Time) string {
	if e.ReportedAt.IsZero() {
		return "never (entered by hand or from before sources were kept)"
	}
	out := stamp(c, e.ReportedAt) + " (" + ago(e.ReportedAt, now) + ")"
	if e.StaleFacts {
		out += " — stale: older than the threshold, these facts may be out of date"
	}
	return out
}

// acked says who acknowledged the endpoint's last reboot and when.
func acked(c echo.Context, e *store.Endpoint, now time.Time) string {
	if e.RebootAckedAt == nil {
		return "never"
	}
	return e.RebootAckedBy + ", " + stamp(c, *e.RebootAckedAt) + " (" + ago(*e.RebootAckedAt, now) + ")"
}

// listReferer is the page of the Servers list the user came from (its
// filters kept), when they came from one.
func listReferer(c echo.Context) string {
	ref, err := url.Parse(c.Request().Referer())
	if err != nil || ref.Host != c.Request().Host || ref.Path != "/servers" || ref.RawQuery == "" {
		return ""
	}
	return listURLFromQuery(ref.RawQuery)
}

func fact(label, value string) views.Fact { return views.Fact{Label: label, Value: value} }
