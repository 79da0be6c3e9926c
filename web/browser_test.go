package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"patchready/store"
	"patchready/views"
)

// browser starts headless Chromium for a test. Without a browser the test
// is skipped, except in CI (CI=true), where that is a failure.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if p, err := exec.LookPath("chromium"); err == nil {
			path = p
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium found: CI must run the browser tests (apt-get install chromium)")
		}
		t.Skip("no Chromium found; install Debian's chromium to run browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// do runs browser steps and fails the test on error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates JavaScript in the page.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// clickAndWait clicks and waits for the page it leads to.
func clickAndWait(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// screenshot saves the page when PATCHREADY_SCREENSHOTS names a folder.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("PATCHREADY_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
	}
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

func browserLogin(t *testing.T, ctx context.Context, e *env, user string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(e.ts.URL+"/servers"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), testPassword))
	clickAndWait(t, ctx, `button[type=submit]`)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/servers") {
		t.Fatalf("after login at %s", loc)
	}
}

// waitFor polls a JavaScript condition until it holds (the test's context
// bounds the wait).
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	for !eval[bool](t, ctx, js) {
		if ctx.Err() != nil {
			t.Fatalf("never true: %s", js)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rowIDsOnPage lists the endpoint ids of the table's rows.
func rowIDsOnPage(t *testing.T, ctx context.Context) []int64 {
	ids := eval[[]string](t, ctx, `[...document.querySelectorAll('#servers > tbody > tr')].map(r => r.dataset.id)`)
	out := make([]int64, len(ids))
	for i, s := range ids {
		out[i], _ = strconv.ParseInt(s, 10, 64)
	}
	return out
}

func TestBrowserServersList(t *testing.T) {
	e := newEnv(t, 3000)
	ctx := browser(t)
	browserLogin(t, ctx, e, "victor")
	screenshot(t, ctx, "servers")
	hasDisk := `document.querySelector('th[data-col=disk]') !== null`
	if !eval[bool](t, ctx, hasDisk) {
		t.Fatal("Disk Space In Use is not shown by default")
	}

	t.Run("Table Settings toggles Disk Space In Use and keeps it", func(t *testing.T) {
		do(t, ctx, chromedp.Click(chromedp.CSS(`#table-settings summary`)), chromedp.WaitVisible(chromedp.CSS(`#table-settings .panel`)))
		screenshot(t, ctx, "table-settings")
		label := eval[string](t, ctx, `document.querySelector('#table-settings input[value=disk]').parentElement.textContent.trim()`)
		if label != "Disk Space In Use" {
			t.Fatalf("label %q", label)
		}
		// Unticking saves at once and redraws the table in place: no page
		// load, and focus stays on the box.
		do(t, ctx, chromedp.Click(chromedp.CSS(`#table-settings input[value=disk]`)))
		waitFor(t, ctx, `document.querySelector('th[data-col=disk]') === null`)
		if !eval[bool](t, ctx, `document.activeElement.matches('#table-settings input[value=disk]') && document.querySelector('#table-settings').open`) {
			t.Fatal("focus left the Table Settings box")
		}
		do(t, ctx, chromedp.Reload())
		if eval[bool](t, ctx, hasDisk) {
			t.Fatal("Disk Space In Use still shown after turning it off and reloading")
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`#table-settings summary`)), chromedp.Click(chromedp.CSS(`#table-settings input[value=disk]`)))
		waitFor(t, ctx, hasDisk)
		// Esc closes the menu and gives focus back to its button.
		do(t, ctx, chromedp.KeyEvent(kb.Escape))
		if eval[bool](t, ctx, `document.querySelector('#table-settings').open`) {
			t.Fatal("Esc did not close Table Settings")
		}
		do(t, ctx, chromedp.Reload())
		if !eval[bool](t, ctx, hasDisk) {
			t.Fatal("Disk Space In Use not back after turning it on")
		}
	})

	t.Run("hovering a disk cell lists every drive", func(t *testing.T) {
		// Pick a row with several drives and a low one, near the middle.
		id := eval[string](t, ctx, `[...document.querySelectorAll('#servers > tbody > tr')].find(r => r.querySelectorAll('[role=tooltip] tbody tr').length > 1 && r.querySelector('.disk[data-low]')).dataset.id`)
		sel := `tr[data-id="` + id + `"] .disk`
		tip := sel + ` [role=tooltip]`
		if eval[string](t, ctx, `getComputedStyle(document.querySelector('`+tip+`')).display`) != "none" {
			t.Fatal("pop-up visible before hovering")
		}
		do(t, ctx, chromedp.ScrollIntoView(chromedp.CSS(sel)))
		xy := eval[[]float64](t, ctx, `(() => { const r = document.querySelector('`+sel+`').getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2] })()`)
		do(t, ctx, chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1]))
		screenshot(t, ctx, "disk-popup")
		if eval[string](t, ctx, `getComputedStyle(document.querySelector('`+tip+`')).display`) == "none" {
			t.Fatal("pop-up not shown on hover")
		}
		box := eval[[]float64](t, ctx, `(() => { const r = document.querySelector('`+tip+`').getBoundingClientRect(); return [r.left, r.right, window.innerWidth] })()`)
		if box[0] < 0 || box[1] > box[2] {
			t.Fatalf("pop-up off screen: %v", box)
		}
		text := eval[string](t, ctx, `document.querySelector('`+tip+`').innerText`)
		n, _ := strconv.ParseInt(id, 10, 64)
		ep, _ := e.db.Endpoint(context.Background(), n)
		for _, d := range ep.Drives {
			want := fmt.Sprintf("%.1f %%", d.UsedPct())
			if !strings.Contains(text, d.Mount) || !strings.Contains(text, want) || !strings.Contains(text, views.Bytes(d.FreeBytes())) {
				t.Fatalf("pop-up %q lacks drive %s (%s)", text, d.Mount, want)
			}
		}
		if !strings.Contains(text, "low disk") {
			t.Fatalf("pop-up %q does not mark the low drive", text)
		}
		// Keyboard focus opens it too.
		do(t, ctx, chromedp.MouseEvent(chromedp.MouseMoved, 5, 5), chromedp.Focus(chromedp.CSS(sel)))
		if eval[string](t, ctx, `getComputedStyle(document.querySelector('`+tip+`')).display`) == "none" {
			t.Fatal("pop-up not shown on focus")
		}
		// Esc hides it without moving focus (WCAG 1.4.13).
		do(t, ctx, chromedp.KeyEvent(kb.Escape))
		if eval[string](t, ctx, `getComputedStyle(document.querySelector('`+tip+`')).display`) != "none" {
			t.Fatal("Esc did not hide the pop-up")
		}
		// A tap (a click with no hover or focus after it) opens it and keeps
		// it open; a tap elsewhere closes it.
		eval[any](t, ctx, `document.activeElement.blur(); document.querySelector('`+sel+`').click(); document.activeElement.blur(); 0`)
		do(t, ctx, chromedp.MouseEvent(chromedp.MouseMoved, 5, 5))
		if eval[string](t, ctx, `getComputedStyle(document.querySelector('`+tip+`')).display`) == "none" {
			t.Fatal("a tap does not open the pop-up")
		}
		eval[any](t, ctx, `document.querySelector('h1').click(); 0`)
		if eval[string](t, ctx, `getComputedStyle(document.querySelector('`+tip+`')).display`) != "none" {
			t.Fatal("a tap elsewhere does not close the pop-up")
		}
	})

	t.Run("filter by exemption and impact through the form", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(e.ts.URL+"/servers"))
		do(t, ctx, chromedp.Click(chromedp.CSS(`#f-exemptions summary`)), chromedp.Click(chromedp.CSS(`input[name=exemption][value=disconnected]`)))
		clickAndWait(t, ctx, `#filters button[type=submit]`)
		ids := rowIDsOnPage(t, ctx)
		if len(ids) == 0 {
			t.Fatal("no rows")
		}
		for _, id := range ids {
			ep, _ := e.db.Endpoint(context.Background(), id)
			if !hasCode(ep, store.Disconnected) {
				t.Fatalf("%s is not disconnected", ep.Name)
			}
		}
		do(t, ctx, chromedp.SetValue(chromedp.ID("f-impact"), "cannot-patch"))
		clickAndWait(t, ctx, `#filters button[type=submit]`)
		screenshot(t, ctx, "filtered")
		badges := eval[[]string](t, ctx, `[...document.querySelectorAll('#servers > tbody > tr > td[data-col=impact]')].map(td => td.innerText.trim())`)
		if len(badges) == 0 {
			t.Fatal("no rows for disconnected + cannot patch")
		}
		for i, b := range badges {
			ep, _ := e.db.Endpoint(context.Background(), rowIDsOnPage(t, ctx)[i])
			if b != "Cannot patch" || !hasCode(ep, store.Disconnected) {
				t.Fatalf("row %d: %q %s", i, b, ep.Name)
			}
		}
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "exemption=disconnected") || !strings.Contains(loc, "impact=cannot-patch") {
			t.Fatalf("filters not in the URL: %s", loc)
		}
	})

	t.Run("an exemption links to its guidance page", func(t *testing.T) {
		name := eval[string](t, ctx, `document.querySelector('#servers > tbody > tr > td[data-col=exemption] a').innerText`)
		clickAndWait(t, ctx, `#servers > tbody > tr > td[data-col=exemption] a`)
		screenshot(t, ctx, "kb")
		if h1 := eval[string](t, ctx, `document.querySelector('h1').innerText`); h1 != name {
			t.Fatalf("KB page %q for %q", h1, name)
		}
		if !eval[bool](t, ctx, `document.body.innerText.includes('How to fix it')`) {
			t.Fatal("no fix steps")
		}
	})

	do(t, ctx, chromedp.Navigate(e.ts.URL+"/"))
	screenshot(t, ctx, "overview")
}

func TestBrowserActions(t *testing.T) {
	e := newEnv(t, 3000)
	susp := e.endpointWith(store.SuspendedByUser)
	reboot := e.endpointWith(store.PendingRebootSuspension)

	t.Run("a viewer sees no action buttons", func(t *testing.T) {
		ctx := browser(t)
		browserLogin(t, ctx, e, "victor")
		do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/servers/%d", e.ts.URL, susp.ID)))
		if n := eval[int](t, ctx, `document.querySelectorAll('form[action*="/unsuspend"], form[action*="/suspend"], form[action*="/schedule"], #bulk').length`); n != 0 {
			t.Fatalf("%d action forms for a viewer", n)
		}
	})

	ctx := browser(t)
	browserLogin(t, ctx, e, "olivia")
	exemptionShown := func(code store.Code) bool {
		return eval[bool](t, ctx, `document.querySelector('article[data-code="`+string(code)+`"]') !== null`)
	}

	t.Run("remove a suspension", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/servers/%d", e.ts.URL, susp.ID)))
		screenshot(t, ctx, "endpoint")
		if !exemptionShown(store.SuspendedByUser) {
			t.Fatal("suspension not shown")
		}
		clickAndWait(t, ctx, `form[action$="/unsuspend"] button`)
		if exemptionShown(store.SuspendedByUser) || !eval[bool](t, ctx, `document.querySelector('.flash').innerText.includes('Suspension removed')`) {
			t.Fatal("still suspended after Remove suspension")
		}
	})

	t.Run("acknowledge a reboot", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(fmt.Sprintf("%s/servers/%d", e.ts.URL, reboot.ID)))
		if !exemptionShown(store.PendingRebootSuspension) {
			t.Fatal("pending reboot not shown")
		}
		clickAndWait(t, ctx, `form[action$="/acknowledge-reboot"] button`)
		if exemptionShown(store.PendingRebootSuspension) {
			t.Fatal("reboot still pending after Acknowledge reboot")
		}
	})

	t.Run("bulk suspend from the list", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(e.ts.URL+"/servers?os=linux&impact=patchable"))
		ids := rowIDsOnPage(t, ctx)
		if len(ids) < 2 {
			t.Fatalf("%d rows", len(ids))
		}
		do(t, ctx,
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=id][value="%d"]`, ids[0]))),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=id][value="%d"]`, ids[1]))),
			chromedp.SetValue(chromedp.ID("bulk-action"), "suspend"),
			chromedp.SendKeys(chromedp.ID("bulk-cycles"), "2"),
			chromedp.SendKeys(chromedp.ID("bulk-reason"), "Database migration"))
		clickAndWait(t, ctx, `#bulk button[type=submit]`)
		screenshot(t, ctx, "bulk-confirm")
		if got := eval[string](t, ctx, `document.getElementById('confirm-count').innerText`); got != "2 endpoints" {
			t.Fatalf("confirmation says %q", got)
		}
		clickAndWait(t, ctx, `.confirm button[type=submit]`)
		if !eval[bool](t, ctx, `document.querySelector('.flash').innerText.includes('2 of 2 endpoints changed')`) {
			t.Fatal("no confirmation of the bulk action")
		}
		for _, id := range ids[:2] {
			ep, _ := e.db.Endpoint(context.Background(), id)
			if !hasCode(ep, store.SuspendedByUser) || ep.Suspension.Reason != "Database migration" {
				t.Fatalf("%s not suspended", ep.Name)
			}
		}
		if ep, _ := e.db.Endpoint(context.Background(), ids[2]); ep.Suspension != nil {
			t.Fatal("an unchecked row was suspended")
		}
	})
}
