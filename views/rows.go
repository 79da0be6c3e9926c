package views

import (
	"context"
	"io"
	"strconv"

	"github.com/a-h/templ"
)

// The rows of the Servers list are written here in Go rather than in
// servers.templ. They are the product's most repeated markup (50 to 500
// rows of about twenty values each, plus every drive in the disk pop-up),
// and templ's { } and attribute expressions pass each value through
// fmt.Sprint into a new string: two allocations a value, 40 % of a page's
// rendering. The rules stay templ's: every value is escaped with
// templ.EscapeString, in text and in (always double-quoted) attributes
// alike, and every link goes through templ.URL. views/rows_test.go holds
// the markup to the same escaping with hostile values.

// markup is HTML being written.
type markup []byte

// tag appends markup of our own, never a value.
func (b markup) tag(s string) markup { return append(b, s...) }

// text appends a value, escaped.
func (b markup) text(s string) markup { return append(b, templ.EscapeString(s)...) }

// url appends a link, sanitised and escaped.
func (b markup) url(s string) markup { return b.text(string(templ.URL(s))) }

func (b markup) int(n int64) markup { return strconv.AppendInt(b, n, 10) }

// rowBuffers keeps a few buffers the rows are written into, for reuse (a
// page's rows are ~90 KiB). The rows cannot be appended to the page's own
// buffer: templ hands a component its pooled writer, not that buffer.
var rowBuffers = make(chan markup, 8)

// serverRows renders the body rows of the Servers list.
func serverRows(m ServersPage) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b markup
		select {
		case b = <-rowBuffers:
		default:
			b = make(markup, 0, 1800*len(m.Rows))
		}
		selectable := m.Can("operator")
		for i := range m.Rows {
			b = m.appendRow(b, &m.Rows[i], selectable)
		}
		_, err := w.Write(b)
		if cap(b) <= 1<<20 {
			select {
			case rowBuffers <- b[:0]:
			default:
			}
		}
		return err
	})
}

func (m *ServersPage) appendRow(b markup, r *ServerRow, selectable bool) markup {
	b = b.tag(`<tr data-id="`).int(r.ID).tag(`">`)
	if selectable {
		b = b.tag(`<td><input type="checkbox" name="id" value="`).int(r.ID).
			tag(`" form="bulk" aria-label="Select `).text(r.Name).tag(`"`)
		if m.Checked[r.ID] {
			b = b.tag(` checked`)
		}
		b = b.tag(`></td>`)
	}
	// A long name (an FQDN) is cut with an ellipsis rather than push the
	// other columns off the screen; the whole name is in its title.
	b = b.tag(`<td data-col="name"><a href="`).url(r.URL).tag(`" title="`).text(r.Name).tag(`">`).text(r.Name).tag(`</a></td>`)
	if m.Show["ip"] {
		b = b.tag(`<td class="mono" data-col="ip">`).text(r.IP).tag(`</td>`)
	}
	if m.Show["os"] {
		b = b.tag(`<td class="clip" data-col="os" title="`).text(r.OS).tag(`">`).text(r.OS).tag(`</td>`)
	}
	for _, c := range [...]struct{ key, value string }{{"protocol", r.Protocol}, {"connector", r.Connector}, {"power", r.Power}} {
		if m.Show[c.key] {
			b = b.tag(`<td data-col="`).tag(c.key).tag(`">`).text(c.value).tag(`</td>`)
		}
	}
	if m.Show["exemption"] {
		b = b.tag(`<td data-col="exemption">`)
		if r.PrimaryURL != "" {
			b = b.tag(`<a href="`).url(r.PrimaryURL).tag(`">`).text(r.Primary).tag(`</a>`)
			if r.Match != "" {
				b = b.tag(` <span class="match" title="Shown because the list is filtered by it; another exemption comes first">✓<span class="sr"> matches the filter</span></span>`)
			}
			if len(r.Others) > 0 {
				// "+N more" lists the others on hover and on focus.
				b = b.tag(` <span class="more" tabindex="0" aria-describedby="more-`).int(r.ID).tag(`">+`).int(int64(len(r.Others))).
					tag(` more<span role="tooltip" id="more-`).int(r.ID).tag(`"><span class="sr">Also: </span>`)
				for i, o := range r.Others {
					if i > 0 {
						b = b.tag(`<span class="sr">, </span>`)
					}
					b = b.tag(`<span>`).text(o).tag(`</span>`)
				}
				b = b.tag(`</span></span>`)
			}
		} else {
			b = b.tag(`<span class="muted">—</span>`)
		}
		b = b.tag(`</td>`)
	}
	if m.Show["impact"] {
		b = b.tag(`<td data-col="impact"><span class="badge" data-impact="`).text(r.Impact).tag(`">`).text(r.ImpactLabel).tag(`</span></td>`)
	}
	if m.Show["schedule"] {
		b = b.tag(`<td class="clip" data-col="schedule" title="`).text(r.Schedule).tag(`">`).text(r.Schedule).tag(`</td>`)
	}
	if m.Show["last_contact"] {
		b = b.tag(`<td data-col="last_contact" title="`).text(r.LastContactT).tag(`">`).text(r.LastContact).tag(`</td>`)
	}
	if m.Show["blocked"] {
		b = b.tag(`<td data-col="blocked" title="`).text(r.BlockedT).tag(`">`).text(r.Blocked).tag(`</td>`)
	}
	if m.Show["disk"] {
		b = appendDiskCell(b.tag(`<td data-col="disk">`), r.Name, &r.Disk).tag(`</td>`)
	}
	for i, key := range m.LabelCols {
		b = b.tag(`<td class="clip" data-col="label:`).text(key).tag(`">`).text(r.Labels[i]).tag(`</td>`)
	}
	if selectable {
		b = m.appendFixes(b.tag(`<td class="fixes">`), r).tag(`</td>`)
	}
	return b.tag(`</tr>`)
}

// appendFixes writes the row's one-click fixes: small forms that come back
// to the list.
func (m *ServersPage) appendFixes(b markup, r *ServerRow) markup {
	for _, f := range r.Fixes {
		if f.Schedule && len(m.Assignable) == 0 {
			continue // no schedule to assign yet
		}
		form := func(b markup) markup {
			return b.tag(`<form method="post" action="`).url(f.Action).tag(`"><input type="hidden" name="_csrf" value="`).text(m.CSRF).
				tag(`"><input type="hidden" name="return" value="`).text(m.Here).tag(`">`)
		}
		if !f.Schedule {
			b = form(b).tag(`<button type="submit" class="small" aria-label="`).text(f.Long + " " + r.Name).tag(`">`).text(f.Label).tag(`</button></form>`)
			continue
		}
		// Assigning needs a choice: a small menu holds it.
		b = b.tag(`<details class="menu fix"><summary class="button small" aria-label="Assign a schedule to `).text(r.Name).tag(`">Assign…</summary><div class="panel">`)
		b = form(b).tag(`<label>Schedule <select name="schedule_id">`)
		for _, o := range m.Assignable {
			b = b.tag(`<option value="`).text(o.Value).tag(`">`).text(o.Label).tag(`</option>`)
		}
		b = b.tag(`</select></label><button type="submit" class="small primary" aria-label="`).text(f.Long + " " + r.Name).tag(`">Assign</button></form></div></details>`)
	}
	return b
}

// appendDiskCell is the fullest drive's share with a bar; hovering or
// focusing it shows every drive in a pop-up.
func appendDiskCell(b markup, name string, d *DiskView) markup {
	if !d.Known {
		return b.tag(`<span class="muted">—</span>`)
	}
	b = b.tag(`<span class="disk"`)
	if d.Low {
		b = b.tag(` data-low`)
	}
	b = b.tag(` tabindex="0" aria-describedby="disk-`).text(name).tag(`"><span class="pct">`).text(d.Pct).
		tag(`</span><span class="bar" aria-hidden="true"><i style="width:`).int(int64(min(max(d.Fill, 0), 100))).tag(`%"></i></span>`)
	if d.Low {
		b = b.tag(`<span class="low-mark" role="img" aria-label="Low disk space" title="Low disk space">⚠</span>`)
	}
	b = b.tag(`<span role="tooltip" id="disk-`).text(name).
		tag(`"><table><thead><tr><th>Drive</th><th>Size</th><th>Used</th><th>Free</th><th>In use</th></tr></thead><tbody>`)
	for _, dr := range d.Drives {
		if dr.Low {
			b = b.tag(`<tr class="low">`)
		} else {
			b = b.tag(`<tr>`)
		}
		b = b.tag(`<td class="mono">`).text(dr.Mount).tag(`</td><td>`)
		b = appendBytes(b, dr.Total).tag(`</td><td>`)
		b = appendBytes(b, dr.Used).tag(`</td><td>`)
		b = appendBytes(b, dr.Total-dr.Used).tag(`</td><td>`)
		b = appendPercent(b, dr.Pct)
		if dr.Low {
			b = b.tag(` ⚠ low disk`)
		}
		b = b.tag(`</td></tr>`)
	}
	return b.tag(`</tbody></table></span></span>`)
}
