package web

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"maps"
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
	{"protocol", "Protocol", "protocol", func(r *store.Row, _ time.Time) string { return r.Protocol }},
	{"connector", "Connector", "connector", func(r *store.Row, _ time.Time) string { return r.Connector }},
	{"power", "Power", "power", func(r *store.Row, _ time.Time) string { return r.Power }},
	{"exemption", "Exemption", "exemption", func(r *store.Row, _ time.Time) string { return string(r.Primary) }},
	{"impact", "Impact", "impact", func(r *store.Row, _ time.Time) string { return r.Impact.String() }},
	{"schedule", "Schedule", "schedule", func(r *store.Row, _ time.Time) string { return r.ScheduleName }},
	{"last_contact", "Last contact", "last_contact", func(r *store.Row, _ time.Time) string {
		if r.LastContactAt == nil {
			return ""
		}
		return r.LastContactAt.Format(time.RFC3339)
	}},
	{"blocked", "Blocked for", "blocked", func(r *store.Row, _ time.Time) string {
		if r.BlockedSince.IsZero() {
			return ""
		}
		return r.BlockedSince.Format(time.RFC3339)
	}},
	{"disk", "Disk Space In Use", "disk", func(r *store.Row, _ time.Time) string {
		if r.MaxDiskPct == nil {
			return ""
		}
		return strconv.FormatFloat(*r.MaxDiskPct, 'f', 1, 64)
	}},
}

// labelColumn is the column of one label key: its values on the row.
func labelColumn(key string) column {
	return column{Key: "label:" + key, Label: key, Sort: "label:" + key,
		CSV: func(r *store.Row, _ time.Time) string { return strings.Join(r.LabelValues(key), ", ") }}
}

// listColumns are the fixed columns and one for each label key in use.
func (s *Server) listColumns(c echo.Context) ([]column, error) {
	keys, err := s.db.LabelKeys(c.Request().Context())
	if err != nil {
		return nil, err
	}
	out := slices.Clone(columns)
	for _, k := range keys {
		out = append(out, labelColumn(k))
	}
	return out, nil
}

// columnKeys checks column keys given by a user.
func (s *Server) columnKeys(c echo.Context, keys []string) ([]string, error) {
	cols, err := s.listColumns(c)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, key := range keys {
		if key = strings.TrimSpace(key); key == "" || slices.Contains(out, key) {
			continue
		}
		if !slices.ContainsFunc(cols, func(col column) bool { return col.Key == key }) {
			return nil, badParam("columns", key, "a column of the Servers list")
		}
		out = append(out, key)
	}
	return out, nil
}

// hiddenByDefault are the columns a new user turns on in Table Settings if
// needed; the rest fit a laptop screen. Label columns start hidden too.
var hiddenByDefault = []string{"connector", "power", "blocked"}

// visibleColumns is the user's Table Settings; name is always shown.
func visibleColumns(u *store.User, cols []column) map[string]bool {
	show := map[string]bool{"name": true}
	for _, c := range cols {
		byDefault := !slices.Contains(hiddenByDefault, c.Key) && !strings.HasPrefix(c.Key, "label:")
		if u.Columns == nil && byDefault || slices.Contains(u.Columns, c.Key) {
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
	query, view, err := s.listQuery(c, query)
	if err != nil {
		return err
	}
	f, err := parseFilter(query)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cols, err := s.listColumns(c)
	if err != nil {
		return err
	}
	show := visibleColumns(currentUser(c), cols)
	if v := query.Get("columns"); v != "" { // a saved view's columns
		keys, err := s.columnKeys(c, strings.Split(v, ","))
		if err != nil {
			return err
		}
		show = map[string]bool{"name": true}
		for _, k := range keys {
			show[k] = true
		}
	}
	p, facets, err := s.db.ListWithFacets(ctx, f, show["disk"])
	if err != nil {
		return err
	}
	schedules, err := s.db.Schedules(ctx)
	if err != nil {
		return err
	}
	m := s.serversModel(c, f, p, facets, schedules, cols, show)
	if err := s.savedViews(c, &m, view); err != nil {
		return err
	}
	if bulk != nil {
		m.Bulk, m.Checked = bulk.fields, bulk.checked
		m.BulkErrors = fieldErrors(bulk.err)
		m.Flash, m.FlashKind = "The bulk action was not run: "+bulk.err.Error(), "error"
	}
	return render(c, status, views.Servers(m))
}

// maxViewCounts bounds how many saved views get a live count on each page.
const maxViewCounts = 20

// savedViews lists the user's views beside the list, with live counts.
func (s *Server) savedViews(c echo.Context, m *views.ServersPage, current *store.SavedView) error {
	u := currentUser(c)
	vs, err := s.db.SavedViews(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	for i, v := range vs {
		sv := views.SavedView{ID: v.ID, Name: v.Name, URL: "/servers?view=" + strconv.FormatInt(v.ID, 10), Shared: v.Shared,
			Owner: v.Owner, Count: -1, Current: current != nil && current.ID == v.ID, CanDelete: v.OwnerID == u.ID || u.Role.Allows(store.Admin)}
		if i < maxViewCounts {
			q, _ := url.ParseQuery(v.Query)
			if f, err := parseFilter(q); err == nil {
				if sv.Count, err = s.db.Count(c.Request().Context(), f); err != nil {
					return err
				}
			}
		}
		m.Views = append(m.Views, sv)
	}
	if current != nil {
		m.ViewName = current.Name
	}
	return nil
}

// bulkRejected is a bulk action refused for its input.
type bulkRejected struct {
	err     error
	fields  map[string]string
	checked map[int64]bool
}

// worstFirst are the columns whose first click sorts descending, so that
// the most urgent rows come first: the fullest disk. (Impact ascending is
// already cannot-patch first, and last contact ascending the oldest.)
var worstFirst = map[string]bool{"disk": true}

// perPageChoices are the page sizes offered.
var perPageChoices = []int{25, 50, 100, 200}

// serversModel prepares the Servers list for the view.
func (s *Server) serversModel(c echo.Context, f store.Filter, p store.Page, fc store.Facets, schedules []store.Schedule, cols []column, show map[string]bool) views.ServersPage {
	now := time.Now()
	set := s.db.Settings()
	base := filterValues(f)
	m := views.ServersPage{Page: s.page(c, "Servers", "servers"), Show: show, Total: p.Total, Q: strings.Join(f.Q, " "),
		SortKey: f.Sort, PerPage: f.PerPage, Query: base.Encode(), ClearURL: "/servers",
		CSVURL: "/servers.csv?" + base.Encode(), LowDiskPct: strconv.FormatFloat(set.LowDiskPct, 'f', -1, 64)}
	if f.Desc {
		m.Order = "desc"
	}
	m.Filtered = len(f.Q) > 0 || len(f.Conds) > 0 || !f.BlockedBefore.IsZero()
	m.Zone = userZone(c).String()
	m.Skip = "#results"
	var visible []string
	for _, col := range cols {
		if show[col.Key] && col.Key != "name" {
			visible = append(visible, col.Key)
		}
	}
	m.ViewQuery = withParams(base, "columns", strings.Join(visible, ",")).Encode()

	for _, col := range cols {
		vc := views.Column{Key: col.Key, Label: col.Label, Visible: show[col.Key]}
		if col.Sort != "" {
			if f.Sort == col.Sort || (f.Sort == "" && col.Sort == "name") {
				vc.Sorted = "ascending"
				order := "desc"
				if f.Desc {
					vc.Sorted, order = "descending", ""
				}
				vc.SortURL = listURL(withParams(base, "sort", col.Sort, "order", order))
			} else {
				order := ""
				if worstFirst[col.Sort] {
					order = "desc"
				}
				vc.SortURL = listURL(withParams(base, "sort", col.Sort, "order", order))
			}
		}
		if key, ok := strings.CutPrefix(col.Key, "label:"); ok && vc.Visible {
			m.LabelCols = append(m.LabelCols, key)
		}
		m.Columns = append(m.Columns, vc)
	}

	// Page position and links: every order pages by cursor; the page
	// number travels in the URL so the position shown stays right as the
	// user pages forward and back. First and last need no cursor.
	m.From = int64((f.Page-1)*f.PerPage) + 1
	m.To = m.From + int64(len(p.Rows)) - 1
	if len(p.Rows) == 0 {
		m.From, m.To = 0, 0
	}
	m.PageNo, m.Pages = int64(f.Page), max(1, (p.Total+int64(f.PerPage)-1)/int64(f.PerPage))
	if p.Next != "" {
		m.NextURL = listURL(withParams(base, "page", strconv.Itoa(f.Page+1), "after", p.Next))
	}
	if p.Prev != "" && f.Page > 1 {
		prev := withParams(base, "page", strconv.Itoa(f.Page-1), "before", p.Prev)
		if f.Page-1 == 1 {
			prev.Del("page")
			prev.Del("before")
		}
		m.PrevURL = listURL(prev)
	}
	if f.Page > 1 {
		m.FirstURL = listURL(base)
	}
	if m.PageNo < m.Pages {
		m.LastURL = listURL(withParams(base, "page", strconv.FormatInt(m.Pages, 10)))
	}
	for _, n := range perPageChoices {
		per := ""
		if n != 50 {
			per = strconv.Itoa(n)
		}
		m.PerPages = append(m.PerPages, views.Option{Value: listURL(withParams(base, "per_page", per)), Label: strconv.Itoa(n), Selected: n == f.PerPage})
	}

	for _, sc := range schedules {
		m.Assignable = append(m.Assignable, views.Option{Value: strconv.FormatInt(sc.ID, 10), Label: sc.Name})
	}
	chosen := f.Values(store.DimExemption, false)
	operator := m.Can(store.Operator)
	m.Rows = make([]views.ServerRow, 0, len(p.Rows))
	for i := range p.Rows {
		r := &p.Rows[i]
		row := views.ServerRow{ID: r.ID, URL: "/servers/" + strconv.FormatInt(r.ID, 10), Name: r.Name, IP: orDash(r.IP),
			OS: orDash(r.OSName), Protocol: orDash(r.Protocol), Connector: orDash(r.Connector), Power: orDash(r.Power),
			More: r.More, Impact: r.Impact.String(), ImpactLabel: r.Impact.Label(), Schedule: orDash(r.ScheduleName), LastContact: "—"}
		shown := r.Primary
		// Filtered by exemptions, the row shows the one it matched by, even
		// when another comes first.
		if len(chosen) > 0 && !slices.Contains(chosen, string(r.Primary)) {
			for _, code := range r.Exemptions {
				if slices.Contains(chosen, string(code)) {
					shown = code
					break
				}
			}
		}
		if shown != "" {
			e, _ := store.Lookup(shown)
			row.Primary, row.PrimaryURL = e.Name, "/kb/"+e.Slug
			if shown != r.Primary {
				row.Match = e.Name
			}
			for _, code := range r.Exemptions {
				if code != shown {
					o, _ := store.Lookup(code)
					row.Others = append(row.Others, o.Name)
				}
			}
			row.More = len(row.Others)
		}
		if operator {
			row.Fixes = rowFixes(r)
		}
		if r.LastContactAt != nil {
			row.LastContact, row.LastContactT = ago(*r.LastContactAt, now), stamp(c, *r.LastContactAt)
		}
		row.Blocked = "—"
		if !r.BlockedSince.IsZero() {
			row.Blocked, row.BlockedT = span(now.Sub(r.BlockedSince)), stamp(c, r.BlockedSince)
		}
		if show["disk"] {
			row.Disk = diskView(r.MaxDiskPct, r.LowDisk, r.Drives, set.LowDiskPct)
		}
		for _, key := range m.LabelCols {
			row.Labels = append(row.Labels, orDash(strings.Join(r.LabelValues(key), ", ")))
		}
		m.Rows = append(m.Rows, row)
	}

	// Filter options with their counts under the other filters.
	opt := func(dim, value, label string) views.Option {
		return views.Option{Value: value, Label: label, Count: fc.Count(dim, value), Selected: f.Has(dim, value)}
	}
	for _, e := range store.Catalog {
		if !e.Warning {
			m.Exemptions = append(m.Exemptions, opt(store.DimExemption, string(e.Code), e.Name))
		}
	}
	for _, i := range store.Impacts {
		m.Impacts = append(m.Impacts, opt(store.DimImpact, i.String(), i.Label()))
	}
	m.LowDisk = opt(store.DimWarning, string(store.LowDiskSpace), "")
	m.Stale, m.StaleAfter = opt(store.DimWarning, string(store.StaleFacts), ""), span(set.StaleAfter)
	for _, o := range store.OSFamilies {
		m.OS = append(m.OS, opt(store.DimOS, o, osLabel[o]))
	}
	for _, p := range store.Protocols {
		m.Protocols = append(m.Protocols, opt(store.DimProtocol, p, strings.ToUpper(p)))
	}
	m.Schedules = append(m.Schedules, opt(store.DimSchedule, "none", "No schedule"))
	for _, sc := range schedules {
		m.Schedules = append(m.Schedules, opt(store.DimSchedule, strconv.FormatInt(sc.ID, 10), sc.Name))
	}
	for _, d := range []int{1, 7, 30, 90} {
		m.BlockedOptions = append(m.BlockedOptions, views.Option{Value: strconv.Itoa(d), Label: "Blocked > " + plural(int64(d), "day", "days"),
			Selected: !f.BlockedBefore.IsZero() && f.BlockedDays == d})
	}
	m.Labels = labelOptions(f, fc)
	m.NotLabels = strings.Join(f.Values(store.DimLabel, true), ", ")
	m.LabelsChosen = len(f.Values(store.DimLabel, false)) > 0 || m.NotLabels != ""
	m.ExemptionsOn = len(chosen) + len(f.Values(store.DimExemption, true))
	m.WarningsOn = len(f.Values(store.DimWarning, false))
	m.LabelsOn = len(f.Values(store.DimLabel, false)) + len(f.Values(store.DimLabel, true))
	m.Chips = filterChips(f, base, dimensionNames(schedules))
	return m
}

var osLabel = map[string]string{"linux": "Linux", "windows": "Windows"}

// rowFixes are the one-click remedies for a row's exemptions.
func rowFixes(r *store.Row) []views.Fix {
	var out []views.Fix
	id := strconv.FormatInt(r.ID, 10)
	for _, code := range r.Exemptions {
		switch code {
		case store.SuspendedByUser:
			out = append(out, views.Fix{Action: "/servers/" + id + "/unsuspend", Label: "Unsuspend", Long: "Remove the suspension of"})
		case store.PendingRebootSuspension:
			out = append(out, views.Fix{Action: "/servers/" + id + "/acknowledge-reboot", Label: "Ack reboot", Long: "Acknowledge the reboot of"})
		case store.MaintenanceWindowRequired:
			out = append(out, views.Fix{Action: "/servers/" + id + "/schedule", Label: "Assign", Long: "Assign the chosen schedule to", Schedule: true})
		}
	}
	return out
}

// filterChips are the active filters, each with the list without it.
func filterChips(f store.Filter, base url.Values, names valueNames) []views.Chip {
	var out []views.Chip
	if !f.BlockedBefore.IsZero() {
		out = append(out, views.Chip{Group: "Blocked", Label: fmt.Sprintf("for more than %s", plural(int64(f.BlockedDays), "day", "days")),
			RemoveURL: listURL(withParams(base, "blocked_days_gt", ""))})
	}
	for _, term := range f.Q {
		rest := slices.DeleteFunc(slices.Clone(f.Q), func(t string) bool { return t == term })
		out = append(out, views.Chip{Group: "Name or IP contains (any of)", Label: term,
			RemoveURL: listURL(withParams(base, "q", strings.Join(rest, " ")))})
	}
	for _, d := range store.Dimensions {
		for _, not := range []bool{false, true} {
			values := f.Values(d.Name, not)
			param := d.Param
			if not {
				param = d.Not
			}
			group := chipGroup(d, not, len(values))
			for _, v := range values {
				rest := slices.DeleteFunc(slices.Clone(base[param]), func(x string) bool { return x == v })
				q := withParams(base)
				q[param] = rest
				if len(rest) == 0 {
					q.Del(param)
				}
				out = append(out, views.Chip{Group: group, Label: names.of(d.Name, v), RemoveURL: listURL(q)})
			}
		}
	}
	return out
}

// filterInWords is a filter as a person reads it:
// "Exemption (any of): Powered Off, Disconnected; OS: Linux".
func filterInWords(f store.Filter, names valueNames) string {
	var parts []string
	group := ""
	for _, ch := range filterChips(f, url.Values{}, names) {
		if ch.Group != group {
			parts = append(parts, ch.Group+": "+ch.Label)
			group = ch.Group
		} else {
			parts[len(parts)-1] += ", " + ch.Label
		}
	}
	if len(parts) == 0 {
		return "every endpoint (no filter)"
	}
	return strings.Join(parts, "; ")
}

// valueNames are the display names of dimension values whose code is not
// what a person reads: exemptions, impacts, schedules.
type valueNames map[string]map[string]string

func (n valueNames) of(dim, value string) string { return cmp.Or(n[dim][value], value) }

// scheduleNames are the display names of every dimension value, with the
// schedules as they are now.
func (s *Server) scheduleNames(c echo.Context) valueNames {
	schedules, err := s.db.Schedules(c.Request().Context())
	if err != nil {
		schedules = nil // the ids stand in for the names
	}
	return dimensionNames(schedules)
}

func dimensionNames(schedules []store.Schedule) valueNames {
	n := valueNames{store.DimExemption: {}, store.DimImpact: {}, store.DimOS: osLabel, store.DimProtocol: {}, store.DimSchedule: {"none": "No schedule"},
		store.DimWarning: {string(store.LowDiskSpace): "Low Disk Space", string(store.StaleFacts): "Stale facts"}}
	for _, e := range store.Catalog {
		n[store.DimExemption][string(e.Code)] = e.Name
	}
	for _, i := range store.Impacts {
		n[store.DimImpact][i.String()] = i.Label()
	}
	for _, p := range store.Protocols {
		n[store.DimProtocol][p] = strings.ToUpper(p)
	}
	for _, sc := range schedules {
		n[store.DimSchedule][strconv.FormatInt(sc.ID, 10)] = sc.Name
	}
	return n
}

// chipGroup says how a dimension's chosen values combine, in words.
func chipGroup(d store.Dimension, not bool, n int) string {
	name := map[string]string{store.DimExemption: "Exemption", store.DimImpact: "Impact", store.DimWarning: "Warning",
		store.DimOS: "OS", store.DimProtocol: "Protocol", store.DimSchedule: "Schedule", store.DimLabel: "Label"}[d.Name]
	name = cmp.Or(name, d.Name)
	switch {
	case not:
		return name + " is none of"
	case n == 1:
		return name
	case d.AllOf:
		return name + " (all of)"
	default:
		return name + " (any of)"
	}
}

// maxLabelOptions is how many values of one label key the filter panel
// offers (the most common); any other is typed.
const maxLabelOptions = 8

// labelOptions groups the label facet by key, most common values first.
func labelOptions(f store.Filter, fc store.Facets) []views.OptionGroup {
	byKey := map[string][]views.Option{}
	for label, n := range fc.Counts[store.DimLabel] {
		key, value, ok := strings.Cut(label, ":")
		if !ok {
			key, value = "other", label
		}
		byKey[key] = append(byKey[key], views.Option{Value: label, Label: value, Count: n, Selected: f.Has(store.DimLabel, label)})
	}
	for _, l := range f.Values(store.DimLabel, false) { // selected but absent now: still shown, to be unticked
		key, value, ok := strings.Cut(l, ":")
		if !ok {
			key, value = "other", l
		}
		if !slices.ContainsFunc(byKey[key], func(o views.Option) bool { return o.Value == l }) {
			byKey[key] = append(byKey[key], views.Option{Value: l, Label: value, Selected: true})
		}
	}
	keys := slices.Sorted(maps.Keys(byKey))
	out := make([]views.OptionGroup, 0, len(keys))
	for _, k := range keys {
		opts := byKey[k]
		slices.SortFunc(opts, func(a, b views.Option) int {
			if a.Selected != b.Selected {
				if a.Selected {
					return -1
				}
				return 1
			}
			return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Label, b.Label))
		})
		if len(opts) > maxLabelOptions {
			opts = opts[:maxLabelOptions]
		}
		out = append(out, views.OptionGroup{Label: k, Options: opts})
	}
	return out
}

// serversCSV streams every matching row with the user's visible columns.
func (s *Server) serversCSV(c echo.Context) error {
	f, err := s.filterOf(c, c.QueryParams())
	if err != nil {
		return err
	}
	if f.After != "" || f.Before != "" {
		return badParam("after or before", f.After+f.Before, "no page cursor: the export has every matching row")
	}
	switch format := c.QueryParam("format"); format {
	case "":
	case "facts":
		return s.factsCSV(c, f)
	default:
		return badParam("format", format, "facts (every fact in API field names), or none for the list's columns")
	}
	all, err := s.listColumns(c)
	if err != nil {
		return err
	}
	show := visibleColumns(currentUser(c), all)
	var cols []column
	for _, col := range all {
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

// factsCSV streams the facts of every matching endpoint in API field names:
// a file that imports back unchanged. Cells are not guarded against
// formulas (csvSafe) because they must read back exactly; open it in a
// spreadsheet with formulas off.
func (s *Server) factsCSV(c echo.Context, f store.Filter) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="facts-`+time.Now().UTC().Format("20060102-1504")+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	w.Write(factColumnsCSV)
	ctx := c.Request().Context()
	var batch []int64
	var rec []string
	flush := func() error {
		es, err := s.db.Endpoints(ctx, batch)
		if err != nil {
			return err
		}
		for _, e := range es {
			rec = factsRecord(&e.Facts, rec)
			if err := w.Write(rec); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	err := s.db.Each(ctx, f, false, func(r store.Row) error {
		if batch = append(batch, r.ID); len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	w.Flush()
	if err != nil && ctx.Err() == nil {
		s.log.Error("facts export", "err", err)
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
	keep, err := s.columnKeys(c, form["col"])
	if err != nil {
		return err
	}
	if err := s.db.SetColumns(c.Request().Context(), currentUser(c).ID, keep); err != nil {
		return err
	}
	if c.Request().Header.Get("X-Requested-With") == "fetch" { // the page redraws itself
		return c.NoContent(http.StatusNoContent)
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
