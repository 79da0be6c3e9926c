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
	if got := Percent(93.45); got != "93.5 %" && got != "93.4 %" {
		t.Errorf("Percent(93.45) = %q", got)
	}
}

// The pop-up's lines are written without templ's { }: the mount, which
// comes from connectors, must still be escaped.
func TestDriveRowsEscape(t *testing.T) {
	var b strings.Builder
	err := driveRows([]DriveView{
		{Mount: `C:\`, Total: 100 << 30, Used: 40 << 30, Pct: 40},
		{Mount: `<img src=x onerror=alert(1)>`, Total: 100 << 30, Used: 95 << 30, Pct: 95, Low: true},
	}).Render(context.Background(), &b)
	if err != nil {
		t.Fatal(err)
	}
	want := `<tr><td class="mono">C:\</td><td>100 GiB</td><td>40.0 GiB</td><td>60.0 GiB</td><td>40.0 %</td></tr>` +
		`<tr class="low"><td class="mono">&lt;img src=x onerror=alert(1)&gt;</td><td>100 GiB</td><td>95.0 GiB</td><td>5.0 GiB</td><td>95.0 % ⚠ low disk</td></tr>`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
