package views

import (
	"context"
	"strings"
	"testing"
)

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{99 << 30, "99.0 GiB"}, {120 << 30, "120 GiB"}, {1932735283200, "1.8 TiB"}, {3 << 50, "3.0 PiB"},
	} {
		if got := Bytes(c.n); got != c.want {
			t.Errorf("Bytes(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Percent(93.44); got != "93.4 %" {
		t.Errorf("Percent(93.44) = %q", got)
	}
}

func renderRows(t *testing.T, m ServersPage) string {
	t.Helper()
	var b strings.Builder
	if err := serverRows(m).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var allColumns = map[string]bool{"name": true, "ip": true, "os": true, "protocol": true, "connector": true, "power": true,
	"exemption": true, "impact": true, "schedule": true, "last_contact": true, "disk": true}

// One ordinary row, written out: the markup the stylesheet, the script and
// the browser tests rely on.
func TestServerRow(t *testing.T) {
	m := ServersPage{Page: Page{User: "olga", Role: "operator", CSRF: "tok", Here: "/servers?os=linux"}, Show: allColumns, Checked: map[int64]bool{7: true}, Rows: []ServerRow{{
		ID: 7, URL: "/servers/7", Name: "web-fra1-0000007", IP: "10.0.0.7", OS: "Ubuntu 24.04 LTS", Protocol: "ssh",
		Connector: "fra1", Power: "on", Primary: "Pending Reboot", PrimaryURL: "/kb/pending-reboot", More: 2,
		Others: []string{"Powered Off", "Disconnected"}, Fixes: []Fix{{Action: "/servers/7/acknowledge-reboot", Label: "Ack reboot", Long: "Acknowledge the reboot of"}},
		Impact: "temporarily-cannot-patch", ImpactLabel: "Temporarily cannot patch", Schedule: "Sunday 02:00",
		LastContact: "5 min ago", LastContactT: "2026-11-24T10:00:00Z",
		Disk: DiskView{Known: true, Pct: "95.0 %", Fill: 95, Low: true, Drives: []DriveView{
			{Mount: "/", Total: 100 << 30, Used: 40 << 30, Pct: 40},
			{Mount: "/var", Total: 100 << 30, Used: 95 << 30, Pct: 95, Low: true},
		}},
	}}}
	want := `<tr data-id="7"><td><input type="checkbox" name="id" value="7" form="bulk" aria-label="Select web-fra1-0000007" checked></td>` +
		`<td data-col="name"><a href="/servers/7" title="web-fra1-0000007">web-fra1-0000007</a></td><td class="mono" data-col="ip">10.0.0.7</td>` +
		`<td class="clip" data-col="os" title="Ubuntu 24.04 LTS">Ubuntu 24.04 LTS</td><td data-col="protocol">ssh</td>` +
		`<td data-col="connector">fra1</td><td data-col="power">on</td>` +
		`<td data-col="exemption"><a href="/kb/pending-reboot">Pending Reboot</a> <span class="more" tabindex="0" aria-describedby="more-7">+2 more` +
		`<span role="tooltip" id="more-7"><span class="sr">Also: </span><span>Powered Off</span><span class="sr">, </span><span>Disconnected</span></span></span></td>` +
		`<td data-col="impact"><span class="badge" data-impact="temporarily-cannot-patch">Temporarily cannot patch</span></td>` +
		`<td class="clip" data-col="schedule" title="Sunday 02:00">Sunday 02:00</td>` +
		`<td data-col="last_contact" title="2026-11-24T10:00:00Z">5 min ago</td>` +
		`<td data-col="disk"><span class="disk" data-low tabindex="0" aria-describedby="disk-web-fra1-0000007"><span class="pct">95.0 %</span>` +
		`<span class="bar" aria-hidden="true"><i style="width:95%"></i></span>` +
		`<span class="low-mark" role="img" aria-label="Low disk space" title="Low disk space">⚠</span>` +
		`<span role="tooltip" id="disk-web-fra1-0000007"><table><thead><tr><th>Drive</th><th>Size</th><th>Used</th><th>Free</th><th>In use</th></tr></thead><tbody>` +
		`<tr><td class="mono">/</td><td>100 GiB</td><td>40.0 GiB</td><td>60.0 GiB</td><td>40.0 %</td></tr>` +
		`<tr class="low"><td class="mono">/var</td><td>100 GiB</td><td>95.0 GiB</td><td>5.0 GiB</td><td>95.0 % ⚠ low disk</td></tr>` +
		`</tbody></table></span></span></td>` +
		`<td class="fixes"><form method="post" action="/servers/7/acknowledge-reboot"><input type="hidden" name="_csrf" value="tok">` +
		`<input type="hidden" name="return" value="/servers?os=linux"><button type="submit" class="small" aria-label="Acknowledge the reboot of web-fra1-0000007">Ack reboot</button></form></td></tr>`
	if got := renderRows(t, m); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// A viewer gets no checkbox; hidden columns are not written.
	m.Role, m.Show = "viewer", map[string]bool{"name": true}
	if got := renderRows(t, m); got != `<tr data-id="7"><td data-col="name"><a href="/servers/7" title="web-fra1-0000007">web-fra1-0000007</a></td></tr>` {
		t.Errorf("viewer, name only: %s", got)
	}
}

// The rows are written without templ's expressions, so they are held to
// its escaping here: every value a connector or user can set is hostile.
func TestServerRowEscapes(t *testing.T) {
	const evil = `"><script>alert('x')</script>&`
	const escaped = `&#34;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;`
	m := ServersPage{Page: Page{User: "olga", Role: "operator", CSRF: "tok", Here: evil}, Show: allColumns, Rows: []ServerRow{{
		ID: 1, URL: "javascript:alert(1)", Name: evil, IP: evil, OS: evil, Protocol: evil, Connector: evil, Power: evil,
		Primary: evil, PrimaryURL: "/kb/" + evil, More: 1, Impact: evil, ImpactLabel: evil, Schedule: evil, Others: []string{evil},
		Fixes:       []Fix{{Action: "/servers/1/unsuspend", Label: evil, Long: evil}},
		LastContact: evil, LastContactT: evil,
		Disk: DiskView{Known: true, Pct: evil, Fill: 120, Drives: []DriveView{{Mount: evil, Total: 1, Used: 1}}},
	}}}
	got := renderRows(t, m)
	if strings.Contains(got, "<script") || strings.Contains(got, `"">`) || strings.Contains(got, "'x'") {
		t.Fatalf("a value was not escaped:\n%s", got)
	}
	// name ×6 (label, link, its title, two disk ids, the fix's label),
	// IP, OS ×2, protocol, connector, power, exemption name and link, the
	// other exemption, impact ×2, schedule ×2, last contact ×2, percent,
	// mount, the fix's description and button, the page's address.
	if n := strings.Count(got, escaped); n != 26 {
		t.Errorf("escaped value written %d times, want 26:\n%s", n, got)
	}
	if !strings.Contains(got, `href="about:invalid#TemplFailedSanitizationURL"`) {
		t.Errorf("a javascript: link was not refused:\n%s", got)
	}
}
