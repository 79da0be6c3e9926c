package views

import (
	"context"
	"fmt"
	"io"
	"testing"
)

// BenchmarkServersRender renders a 50-row Servers page with three drives
// per row: the template's share of a page view.
func BenchmarkServersRender(b *testing.B) {
	m := ServersPage{Page: Page{Title: "Servers", User: "victor", Role: "operator", CSRF: "token"},
		Show: map[string]bool{"name": true, "ip": true, "os": true, "protocol": true, "exemption": true, "impact": true,
			"schedule": true, "last_contact": true, "disk": true}, Total: 1000000, From: 1, To: 50}
	for i := range 26 {
		m.Exemptions = append(m.Exemptions, Option{Value: fmt.Sprint("code-", i), Label: fmt.Sprint("Exemption ", i), Count: int64(i * 1000)})
	}
	for i := range 50 {
		r := ServerRow{ID: int64(i), URL: fmt.Sprint("/servers/", i), Name: fmt.Sprintf("web-fra1-%07d", i), IP: "10.16.0.1",
			OS: "Ubuntu 24.04 LTS", Protocol: "ssh", Primary: "Maintenance Window Expired", PrimaryURL: "/kb/maintenance-window-expired",
			More: 1, Impact: "temporarily-cannot-patch", ImpactLabel: "Temporarily cannot patch", Schedule: "Weekly Sunday 02:00",
			LastContact: "12 min ago", Disk: DiskView{Known: true, Pct: "93.1 %", Fill: 93, Low: true}}
		for _, mount := range []string{"/", "/var", "/data"} {
			r.Disk.Drives = append(r.Disk.Drives, DriveView{Mount: mount, Total: 120 << 30, Used: 90 << 30, Pct: 75})
		}
		m.Rows = append(m.Rows, r)
	}
	for b.Loop() {
		if err := Servers(m).Render(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
