package web

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

// column is one column of the Servers list: its key (kept in Table
// Settings), label, the sort key it orders by, and its CSV value.
type column struct {
	Key, Label, Sort string
	CSV              func(r *store.Row, now time.Time) string
}

var columns = []column{
	{"name", "Name", "name", func(r *store.Row, _ time.Time) string { return r.Name }},
	{"ip", "IP", "ip", func(r *store.Row, _ time.Time) string { return r.IP }},
	{"os", "OS", "os", func(r *store.Row, _ time.Time) string { return r.OSName }},
	{"protocol", "Protocol", "", func(r *store.Row, _ time.Time) string { return r.Protocol }},
	{"connector", "Connector", "", func(r *store.Row, _ time.Time) string { return r.Connector }},
	{"power", "Power", "", func(r *store.Row, _ time.Time) string { return r.Power }},
	{"exemption", "Primary exemption", "exemption", func(r *store.Row, _ time.Time) string { return string(r.Primary) }},
	{"impact", "Impact", "impact", func(r *store.Row, _ time.Time) string { return r.Impact.String() }},
	{"schedule", "Maintenance schedule", "", func(r *store.Row, _ time.Time) string { return r.ScheduleName }},
	{"last_contact", "Last contact", "last_contact", func(r *store.Row, _ time.Time) string {
		if r.LastContactAt == nil {
			return ""
		}
		return r.LastContactAt.Format(time.RFC3339)
	}},
	{"disk", "Disk Space In Use", "disk", func(r *store.Row, _ time.Time) string {
		if r.MaxDiskPct == nil {
			return ""
		}
		return strconv.FormatFloat(*r.MaxDiskPct, 'f', 1, 64)
	}},
}

// hiddenByDefault are the columns a new user turns on in Table Settings if
// needed; the rest fit a laptop screen.
var hiddenByDefault = []string{"connector", "power"}

// visibleColumns is the user's Table Settings; name is always shown.
func visibleColumns(u *store.User) map[string]bool {
	show := map[string]bool{"name": true}
	for _, c := range columns {
		if u.Columns == nil && !slices.Contains(hiddenByDefault, c.Key) || slices.Contains(u.Columns, c.Key) {
			show[c.Key] = true
		}
	}
	return show
}

func (s *Server) serversList(c echo.Context) error {
	return s.renderServers(c, http.StatusOK, c.QueryParams(), nil)
}

// renderServers shows the list for a query; bulk, when set, is a rejected
// bulk action shown again with its fields as typed and what was wrong.
func (s *Server) renderServers(c echo.Context, status int, query url.Values, bulk *bulkRejected) error {
	f, err := parseFilter(query)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	show := visibleColumns(currentUser(c))
	facets, err := s.db.Facets(ctx, f)
	if err != nil {
		return err
	}
	p, err := s.db.Rows(ctx, f, show["disk"], facets.Total)
	if err != nil {
		return err
	}
	p.Total = facets.Total
	schedules, err := s.db.Schedules(ctx)
	if err != nil {
		return err
	}
	m := s.serversModel(c, f, p, facets, schedules, show)
	if bulk != nil {
		m.Bulk, m.Checked = bulk.fields, bulk.checked
		m.Flash, m.FlashKind = "The bulk action was not run: "+bulk.err.Error(), "error"
	}
	return render(c, status, views.Servers(m))
}

// bulkRejected is a bulk action refused for its input.
type bulkRejected struct {
	err     error
	fields  map[string]string
	checked map[int64]bool
}

// serversModel prepares the Servers list for the view.
func (s *Server) serversModel(c echo.Context, f store.Filter, p store.Page, fc store.Facets, schedules []store.Schedule, show map[string]bool) views.ServersPage {
	now := time.Now()
	set := s.db.Settings()
	base := filterValues(f)
	m := views.ServersPage{Page: s.page(c, "Servers", "servers"), Show: show, Total: p.Total, Q: f.Q,
		SortKey: f.Sort, PerPage: f.PerPage, Query: base.Encode(), ClearURL: "/servers",
		CSVURL: "/servers.csv?" + base.Encode(), LowDiskPct: strconv.FormatFloat(set.LowDiskPct, 'f', -1, 64)}
	if f.Desc {
		m.Order = "desc"
	}
	m.Filtered = f.Q != "" || len(f.Exemptions) > 0 || f.Impact != nil || f.LowDisk || f.OS != "" || f.Protocol != "" || f.Schedule != nil

	for _, col := range columns {
		vc := views.Column{Key: col.Key, Label: col.Label, Visible: show[col.Key]}
		if col.Sort != "" {
			sortKey := col.Sort
			if f.Sort == col.Sort || (f.Sort == "" && col.Sort == "name") {
				vc.Sorted, sortKey = "ascending", col.Sort
				order := "desc"
				if f.Desc {
					vc.Sorted, order = "descending", ""
				}
				vc.SortURL = listURL(withParams(base, "sort", sortKey, "order", order))
			} else {
				vc.SortURL = listURL(withParams(base, "sort", sortKey, "order", ""))
			}
		}
		m.Columns = append(m.Columns, vc)
	}

	// Page position and links: name order pages by cursor, others by number.
	// With a cursor the page number still travels in the URL, so the
	// position shown stays right as the user pages forward and back.
	m.From = int64((f.Page-1)*f.PerPage) + 1
	m.To = m.From + int64(len(p.Rows)) - 1
	if len(p.Rows) == 0 {
		m.From, m.To = 0, 0
	}
	byName := f.Sort == "" || f.Sort == "name"
	if p.HasNext && len(p.Rows) > 0 {
		next := withParams(base, "page", strconv.Itoa(f.Page+1))
		if byName {
			next.Set("after", p.Rows[len(p.Rows)-1].Name)
		}
		m.NextURL = listURL(next)
	}
	if p.HasPrev && f.Page > 1 && len(p.Rows) > 0 {
		prev := withParams(base, "page", strconv.Itoa(f.Page-1))
		if f.Page-1 == 1 {
			prev.Del("page")
		} else if byName {
			prev.Set("before", p.Rows[0].Name)
		}
		m.PrevURL = listURL(prev)
	}

	for _, sc := range schedules {
		m.Assignable = append(m.Assignable, views.Option{Value: strconv.FormatInt(sc.ID, 10), Label: sc.Name})
	}
	m.Rows = make([]views.ServerRow, 0, len(p.Rows))
	for _, r := range p.Rows {
		row := views.ServerRow{ID: r.ID, URL: "/servers/" + strconv.FormatInt(r.ID, 10), Name: r.Name, IP: orDash(r.IP),
			OS: orDash(r.OSName), Protocol: orDash(r.Protocol), Connector: orDash(r.Connector), Power: orDash(r.Power),
			More: r.More, Impact: r.Impact.String(), ImpactLabel: r.Impact.Label(), Schedule: orDash(r.ScheduleName), LastContact: "—"}
		if r.Primary != "" {
			e, _ := store.Lookup(r.Primary)
			row.Primary, row.PrimaryURL = e.Name, "/kb/"+e.Slug
		}
		if r.LastContactAt != nil {
			row.LastContact, row.LastContactT = ago(*r.LastContactAt, now), r.LastContactAt.Format(time.RFC3339)
		}
		if show["disk"] {
			row.Disk = diskView(r.MaxDiskPct, r.Drives, set.LowDiskPct)
		}
		m.Rows = append(m.Rows, row)
	}

	// Filter options with their counts under the other filters.
	for _, e := range store.Catalog {
		m.Exemptions = append(m.Exemptions, views.Option{Value: string(e.Code), Label: e.Name, Count: fc.Exemption[e.Code],
			Selected: slices.Contains(f.Exemptions, e.Code)})
	}
	for _, i := range store.Impacts {
		m.Impacts = append(m.Impacts, views.Option{Value: i.String(), Label: i.Label(), Count: fc.Impact[i], Selected: f.Impact != nil && *f.Impact == i})
	}
	m.LowDisk = views.Option{Value: string(store.LowDiskSpace), Count: fc.LowDisk, Selected: f.LowDisk}
	for _, o := range store.OSFamilies {
		m.OS = append(m.OS, views.Option{Value: o, Label: map[string]string{"linux": "Linux", "windows": "Windows"}[o], Count: fc.OS[o], Selected: f.OS == o})
	}
	for _, p := range store.Protocols {
		m.Protocols = append(m.Protocols, views.Option{Value: p, Label: map[string]string{"ssh": "SSH", "smb": "SMB", "web": "WEB"}[p], Count: fc.Protocol[p], Selected: f.Protocol == p})
	}
	m.Schedules = append(m.Schedules, views.Option{Value: "none", Label: "No schedule", Count: fc.Schedule[0], Selected: f.Schedule != nil && *f.Schedule == 0})
	for _, sc := range schedules {
		m.Schedules = append(m.Schedules, views.Option{Value: strconv.FormatInt(sc.ID, 10), Label: sc.Name, Count: fc.Schedule[sc.ID],
			Selected: f.Schedule != nil && *f.Schedule == sc.ID})
	}
	return m
}

// serversCSV streams every matching row with the user's visible columns.
func (s *Server) serversCSV(c echo.Context) error {
	f, err := parseFilter(c.QueryParams())
	if err != nil {
		return err
	}
	show := visibleColumns(currentUser(c))
	var cols []column
	for _, col := range columns {
		if show[col.Key] {
			cols = append(cols, col)
		}
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="servers-`+time.Now().UTC().Format("20060102-1504")+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	header := make([]string, len(cols))
	for i, col := range cols {
		header[i] = col.Label
	}
	w.Write(header)
	now := time.Now()
	record := make([]string, len(cols))
	err = s.db.Each(c.Request().Context(), f, false, func(r store.Row) error {
		for i, col := range cols {
			record[i] = csvSafe(col.CSV(&r, now))
		}
		if err := w.Write(record); err != nil {
			return err
		}
		return nil
	})
	w.Flush()
	if err != nil && c.Request().Context().Err() == nil {
		s.log.Error("csv export", "err", err)
	}
	return nil
}

// csvSafe stops a spreadsheet from running a cell as a formula. Spreadsheets
// skip leading blanks, tabs and line breaks before they look for = + - @,
// and read a cell starting with a tab or carriage return as one, so any of
// those first gets a leading apostrophe.
func csvSafe(v string) string {
	t := strings.TrimLeft(v, " \t\r\n")
	if t != v || (t != "" && strings.ContainsRune("=+-@", rune(t[0]))) {
		return "'" + v
	}
	return v
}

// saveColumns keeps the user's Table Settings.
func (s *Server) saveColumns(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var keep []string
	for _, key := range form["col"] {
		if !slices.ContainsFunc(columns, func(col column) bool { return col.Key == key }) {
			return badParam("col", key, "a column of the Servers list")
		}
		keep = append(keep, key)
	}
	if err := s.db.SetColumns(c.Request().Context(), currentUser(c).ID, keep); err != nil {
		return err
	}
	to := c.FormValue("return")
	if len(to) < len("/servers") || to[:len("/servers")] != "/servers" {
		to = "/servers"
	}
	return redirectWithFlash(c, to, "ok", "Table Settings saved.")
}

// listURL is the Servers list with these parameters.
func listURL(v url.Values) string {
	if len(v) == 0 {
		return "/servers"
	}
	return "/servers?" + v.Encode()
}
