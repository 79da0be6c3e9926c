package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"patchready/store"
)

// viewport sets the page's size in CSS pixels and the colour scheme.
func viewport(w, h int64, dark bool) chromedp.Action[chromedp.Void] {
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	return chromedp.Steps(chromedp.EmulateViewport(w, h),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
			return err
		}))
}

// The list at laptop and desktop sizes: nothing covers it while the page
// and the table scroll, the header stays in view, and a 1440×900 screen
// shows at least 15 rows without scrolling.
func TestBrowserListLayout(t *testing.T) {
	e := newEnv(t, 3000)
	ctx := browser(t)
	browserLogin(t, ctx, e, "olivia")
	// The first rows with a very long name: it must not push columns away.
	long := strings.Repeat("very-long-host-name-segment.", 6) + "example.internal"
	mustUpsertAPI(t, e, factsNamed(long))

	for _, size := range [][2]int64{{1440, 900}, {1920, 1080}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			do(t, ctx, viewport(size[0], size[1], false), chromedp.Navigate(e.ts.URL+"/servers?q=very-long,app"))
			if size[0] == 1440 {
				visible := eval[int](t, ctx, `(() => { const box = document.getElementById('results').getBoundingClientRect();
					return [...document.querySelectorAll('#servers > tbody > tr')].filter(r => r.getBoundingClientRect().bottom <= Math.min(innerHeight, box.bottom)).length })()`)
				if visible < 15 {
					t.Fatalf("%d rows visible without scrolling at 1440x900", visible)
				}
				t.Logf("%d rows visible without scrolling", visible)
				// The long name is cut; Impact and Disk stay on screen.
				for _, col := range []string{"impact", "disk"} {
					right := eval[float64](t, ctx, `document.querySelector('#servers th[data-col=`+col+`]').getBoundingClientRect().right`)
					if right > float64(size[0]) {
						t.Fatalf("%s column ends at %.0f, off a %d px screen", col, right, size[0])
					}
				}
			}
			// Scroll the page, then the table box, and look at points over the
			// rows: each must hit the table itself, never something above it.
			for _, step := range []string{`scrollTo(0, 200)`, `document.getElementById('results').scrollTop = 400`, `document.getElementById('results').scrollTop = 1200`} {
				eval[any](t, ctx, step+`; 0`)
				covered := eval[[]string](t, ctx, `(() => {
					const box = document.getElementById('results').getBoundingClientRect(), out = [];
					const head = document.querySelector('#servers thead th').getBoundingClientRect();
					for (let y = Math.max(box.top, 0) + 4; y < Math.min(box.bottom, innerHeight) - 4; y += 23)
						for (let x = box.left + 8; x < Math.min(box.right, innerWidth) - 8; x += 97) {
							const el = document.elementFromPoint(x, y);
							if (!el || !el.closest('#servers')) out.push(Math.round(x) + ',' + Math.round(y) + ' ' + (el ? el.outerHTML.slice(0, 60) : 'nothing'));
						}
					if (head.top < box.top - 1) out.push('header scrolled away: ' + head.top + ' < ' + box.top);
					return out })()`)
				if len(covered) > 0 {
					t.Fatalf("after %s, points over the list hit other elements: %v", step, covered[:min(3, len(covered))])
				}
			}
			screenshot(t, ctx, fmt.Sprintf("list-%dx%d", size[0], size[1]))
		})
	}

	t.Run("390x844", func(t *testing.T) {
		for _, path := range []string{"/servers", "/", "/schedules", "/kb", "/audit"} {
			do(t, ctx, viewport(390, 844, false), chromedp.Navigate(e.ts.URL+path))
			if w := eval[[]float64](t, ctx, `[document.documentElement.scrollWidth, innerWidth]`); w[0] > w[1] {
				t.Fatalf("%s is %.0f px wide in a %.0f px screen", path, w[0], w[1])
			}
			off := eval[[]string](t, ctx, `[...document.querySelectorAll('.top nav a, .top .who a, .top .who button')].filter(a => {
				const r = a.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth || r.width === 0 }).map(a => a.innerText)`)
			if len(off) > 0 {
				t.Fatalf("%s: navigation off screen: %v", path, off)
			}
		}
		screenshot(t, ctx, "list-390x844")
	})
}

// factsNamed is a minimal endpoint.
func factsNamed(name string) store.Facts { return store.Facts{Name: name} }

// From the top of the page, a skip link leads to the results: the first
// row's link is within 15 Tab stops.
func TestBrowserKeyboardReachesTheFirstRow(t *testing.T) {
	e := newEnv(t, 200)
	ctx := browser(t)
	browserLogin(t, ctx, e, "olivia")
	do(t, ctx, viewport(1440, 900, false), chromedp.Navigate(e.ts.URL+"/servers"))
	first := `document.querySelector('#servers tbody tr td[data-col=name] a')`
	for stops := 1; stops <= 15; stops++ {
		do(t, ctx, chromedp.KeyEvent(kb.Tab))
		if eval[bool](t, ctx, `document.activeElement.matches('.skip')`) {
			do(t, ctx, chromedp.KeyEvent(kb.Enter))
		}
		if eval[bool](t, ctx, `document.activeElement === `+first) {
			t.Logf("the first row's link after %d Tab stops", stops)
			return
		}
	}
	t.Fatalf("the first row's link is not reached in 15 Tab stops (focus on %s)", eval[string](t, ctx, `document.activeElement.outerHTML.slice(0, 80)`))
}

// The bulk bar shows the chosen action's fields only, and refuses to act
// on "all matching" while the filters show changes not applied.
func TestBrowserBulkBar(t *testing.T) {
	e := newEnv(t, 300)
	ctx := browser(t)
	browserLogin(t, ctx, e, "olivia")
	do(t, ctx, viewport(1440, 900, false), chromedp.Navigate(e.ts.URL+"/servers?os=linux"))
	shown := func(id string) bool {
		return eval[bool](t, ctx, `document.getElementById('`+id+`').getClientRects().length > 0`)
	}
	if shown("bulk-cycles") || shown("bulk-add") || shown("bulk-schedule") {
		t.Fatal("fields of other actions shown for Remove suspension")
	}
	do(t, ctx, chromedp.SetValue(chromedp.ID("bulk-action"), "suspend"))
	if !shown("bulk-cycles") || !shown("bulk-reason") || shown("bulk-add") {
		t.Fatal("Suspend does not show exactly its fields")
	}
	do(t, ctx, chromedp.SetValue(chromedp.ID("bulk-action"), "labels"))
	if shown("bulk-cycles") || !shown("bulk-add") {
		t.Fatal("Change labels does not show exactly its fields")
	}

	// A filter changed but not applied: the action on all matching is refused.
	do(t, ctx, chromedp.SetValue(chromedp.ID("bulk-action"), "acknowledge-reboot"),
		chromedp.Click(chromedp.CSS(`#f-exemptions summary`)), chromedp.Click(chromedp.CSS(`input[name=exemption][value=disconnected]`)),
		chromedp.KeyEvent(kb.Escape), chromedp.SetValue(chromedp.ID("bulk-scope"), "all"), chromedp.Click(chromedp.CSS(`#bulk button[type=submit]`)))
	if loc := eval[string](t, ctx, `location.pathname + location.search`); loc != "/servers?os=linux" {
		t.Fatalf("the action went ahead on a filter not applied: %s", loc)
	}
	if !eval[bool](t, ctx, `!document.querySelector('.bulk-note').hidden && document.querySelector('.dirty').hidden === false`) {
		t.Fatal("no word that the filters are not applied")
	}
	// Applied, the same action reaches its review.
	clickAndWait(t, ctx, `#filters button[type=submit]`)
	do(t, ctx, chromedp.SetValue(chromedp.ID("bulk-action"), "acknowledge-reboot"), chromedp.SetValue(chromedp.ID("bulk-scope"), "all"))
	clickAndWait(t, ctx, `#bulk button[type=submit]`)
	if !eval[bool](t, ctx, `document.body.innerText.includes('Exemption: Disconnected; OS: Linux')`) {
		t.Fatalf("the review does not state the filter: %s", eval[string](t, ctx, `document.querySelector('.confirm').innerText`))
	}
	screenshot(t, ctx, "bulk-review")
}

// axe-core finds no serious or critical accessibility problem on the main
// pages, light and dark.
func TestBrowserAccessibility(t *testing.T) {
	script := filepath.Join("..", "tools", "axe", "node_modules", "axe-core", "axe.min.js")
	axe, err := os.ReadFile(script)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is missing (%v): .ci/run installs it with npm ci --prefix tools/axe", err)
		}
		t.Skip("axe-core not installed; run: npm ci --prefix tools/axe")
	}
	e := newEnv(t, 300)
	ep := e.endpointWith("suspended-by-user")
	ctx := browser(t)
	browserLogin(t, ctx, e, "admin")
	pages := []struct{ name, path, before string }{
		{"overview", "/", ""},
		{"list filtered", "/servers?exemption=suspended-by-user&exemption=powered-off&os=linux", ""},
		{"list empty", "/servers?q=no-such-host", ""},
		{"list with Table Settings open", "/servers", `document.querySelector('#table-settings').open = true`},
		{"list with a filter menu open", "/servers", `document.querySelector('#f-exemptions').open = true`},
		{"endpoint", fmt.Sprintf("/servers/%d", ep.ID), ""},
		{"schedules", "/schedules", ""},
		{"schedule", "/schedules/1", ""},
		{"guidance", "/kb", ""},
		{"guidance page", "/kb/suspended-by-user", ""},
		{"audit", "/audit", ""},
		{"settings", "/settings", ""},
		{"users", "/users", ""},
		{"tokens", "/tokens", ""},
		{"import", "/import", ""},
		{"account", "/account", ""},
	}
	for _, dark := range []bool{false, true} {
		for _, p := range pages {
			do(t, ctx, viewport(1440, 900, dark), chromedp.Navigate(e.ts.URL+p.path))
			if p.before != "" {
				eval[any](t, ctx, p.before+`; 0`)
			}
			eval[any](t, ctx, string(axe)+`; 0`)
			res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(
				r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({id: v.id, help: v.help,
					nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("%s: axe: %v", p.name, err)
			}
			var found []struct {
				ID, Help string
				Nodes    []string
			}
			json.Unmarshal([]byte(res), &found)
			for _, v := range found {
				t.Errorf("%s (dark %v): %s — %s: %v", p.name, dark, v.ID, v.Help, v.Nodes)
			}
		}
	}
}
