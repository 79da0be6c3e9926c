// Command sweep measures the Servers list over random combinations of its
// parameters, so that no fixed list of URLs can be tuned for: a seeded
// generator draws filters over every parameter (search of 1–3 characters
// and several terms, exemptions any of and none of, impact, warnings, OS,
// protocol, schedule, labels and their negations, every sort in both
// directions, deep pages by number and by cursor), and each URL is asked
// for many times over one connection. It prints the slowest URLs as a
// Markdown table and exits 1 when any misses its target.
//
// Usage: sweep -base http://127.0.0.1:18181 -cookie 'patchready=…' -token prt_… [-n 200] [-seed 1]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:18181", "server")
	cookie := flag.String("cookie", "", "session cookie (name=value) for the pages")
	token := flag.String("token", "", "API token, to learn the estate's labels and make cursors")
	n := flag.Int("n", 200, "how many random URLs")
	reqs := flag.Int("reqs", 100, "timed requests per URL (after 3 to warm up)")
	seed := flag.Uint64("seed", 1, "generator seed: the same seed draws the same URLs")
	p50Target := flag.Duration("p50", 2*time.Millisecond, "target p50 per URL")
	p99Target := flag.Duration("p99", 10*time.Millisecond, "target p99 per URL")
	label := flag.String("label", "", "estate label for the table")
	dump := flag.String("dump", "", "also write every URL with its p50 and p99 (tab-separated) to this file")
	flag.Parse()

	c := &client{base: *base, cookie: *cookie, token: *token, http: &http.Client{Timeout: 30 * time.Second}}
	var facets map[string]json.RawMessage
	if err := c.json("/api/v1/facets", &facets); err != nil {
		fail(err)
	}
	vocab := map[string][]string{}
	for _, dim := range []string{"exemption", "schedule", "label"} {
		var counts map[string]int
		json.Unmarshal(facets[dim], &counts)
		for v := range counts {
			vocab[dim] = append(vocab[dim], v)
		}
		slices.Sort(vocab[dim])
	}
	var total int
	json.Unmarshal(facets["total"], &total)

	r := rand.New(rand.NewPCG(*seed, 99))
	var results []result
	for i := range *n {
		q := randomQuery(r, vocab)
		if r.IntN(5) == 0 { // a deep page: by number, or by the cursor a Next link carries
			page := 2 + r.IntN(max(1, total/50/2))
			q.Set("page", strconv.Itoa(page))
			if r.IntN(2) == 0 {
				var list struct {
					Next string `json:"next_after"`
				}
				probe := withoutKey(q, "page")
				probe.Set("page", strconv.Itoa(page-1))
				if err := c.json("/api/v1/endpoints?per_page=50&"+probe.Encode(), &list); err == nil && list.Next != "" {
					q.Set("after", list.Next)
				}
			}
		}
		for _, path := range []string{"/servers?", "/api/v1/facets?"} {
			if path == "/api/v1/facets?" && i%2 == 1 {
				continue // facets for every other filter: the page computes them too
			}
			res, err := c.measure(path+q.Encode(), *reqs)
			if err != nil {
				fail(err)
			}
			results = append(results, res)
		}
	}
	slices.SortFunc(results, func(a, b result) int { return int(b.p50 - a.p50) })
	if *dump != "" {
		var b strings.Builder
		for _, res := range results {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", ms(res.p50), ms(res.p99), res.path)
		}
		if err := os.WriteFile(*dump, []byte(b.String()), 0o600); err != nil {
			fail(err)
		}
	}
	over := 0
	for _, res := range results {
		if res.p50 > *p50Target || res.p99 > *p99Target {
			over++
		}
	}
	worst99 := slices.MaxFunc(results, func(a, b result) int { return int(a.p99 - b.p99) })
	fmt.Printf("%s: %d URLs from seed %d (%d pages, %d facets), %d requests each: slowest p50 %s, slowest p99 %s (%s); %d over the targets (p50 ≤ %s, p99 ≤ %s)\n\n",
		*label, len(results), *seed, *n, len(results)-*n, *reqs, ms(results[0].p50), ms(worst99.p99), worst99.path, over, ms(*p50Target), ms(*p99Target))
	fmt.Println("| estate | slowest URLs | p50 | p99 | bytes |")
	fmt.Println("| --- | --- | ---: | ---: | ---: |")
	for _, res := range results[:min(10, len(results))] {
		fmt.Printf("| %s | `%s` | %s | %s | %d |\n", *label, res.path, ms(res.p50), ms(res.p99), res.bytes)
	}
	if over > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sweep:", err)
	os.Exit(2)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func withoutKey(q url.Values, key string) url.Values {
	out := url.Values{}
	for k, v := range q {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// randomQuery draws one combination of the list's parameters.
func randomQuery(r *rand.Rand, vocab map[string][]string) url.Values {
	q := url.Values{}
	some := func(p float64) bool { return r.Float64() < p }
	pick := func(from []string) string {
		if len(from) == 0 {
			return ""
		}
		return from[r.IntN(len(from))]
	}
	if some(0.3) {
		var terms []string
		for range 1 + r.IntN(3) {
			switch r.IntN(4) {
			case 0: // two or three characters
				terms = append(terms, pick([]string{"we", "db", "ap", "fr", "sq", "-0", "win", "web", "sql", "ams", "10."}))
			case 1:
				terms = append(terms, pick([]string{"fra1", "cache", "proxy", "lon1-00", "win-dc"}))
			case 2:
				terms = append(terms, fmt.Sprintf("10.%d", 16+r.IntN(16)))
			default:
				terms = append(terms, fmt.Sprintf("%04d", r.IntN(10000)))
			}
		}
		q.Set("q", strings.Join(terms, " "))
	}
	for range r.IntN(4) {
		if some(0.5) {
			q.Add("exemption", pick(vocab["exemption"]))
		}
	}
	if some(0.15) {
		q.Add("not_exemption", pick(vocab["exemption"]))
	}
	if some(0.3) {
		q.Add("impact", pick([]string{"cannot-patch", "temporarily-cannot-patch", "patchable"}))
	}
	if some(0.15) {
		q.Add("warning", "low-disk-space")
	}
	if some(0.25) {
		q.Add("os", pick([]string{"linux", "windows"}))
	}
	if some(0.2) {
		q.Add("protocol", pick([]string{"ssh", "smb", "web"}))
	}
	if some(0.15) {
		q.Add("schedule", pick(append(vocab["schedule"], "none")))
	}
	for range r.IntN(3) {
		if some(0.6) {
			q.Add("label", pick(vocab["label"]))
		}
	}
	if some(0.1) {
		key, _, _ := strings.Cut(pick(vocab["label"]), ":")
		q.Add("label", key+":*")
	}
	if some(0.2) {
		q.Add("not_label", pick(vocab["label"]))
	}
	sorts := []string{"", "name", "ip", "os", "protocol", "connector", "power", "exemption", "impact", "schedule", "last_contact", "disk"}
	for _, l := range vocab["label"] {
		if k, _, ok := strings.Cut(l, ":"); ok && !slices.Contains(sorts, "label:"+k) {
			sorts = append(sorts, "label:"+k)
		}
	}
	if s := pick(sorts); s != "" {
		q.Set("sort", s)
	}
	if some(0.5) {
		q.Set("order", "desc")
	}
	return q
}

type client struct {
	base, cookie, token string
	http                *http.Client
}

func (c *client) get(path string) (*http.Response, error) {
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else {
		req.Header.Set("Cookie", c.cookie)
	}
	return c.http.Do(req)
}

func (c *client) json(path string, v any) error {
	res, err := c.get(path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("%s: %d %s", path, res.StatusCode, b)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

type result struct {
	path     string
	p50, p99 time.Duration
	bytes    int64
}

// measure asks for path 3 times to warm up, then n times, one at a time.
func (c *client) measure(path string, n int) (result, error) {
	times := make([]time.Duration, 0, n)
	var size int64
	for i := range n + 3 {
		start := time.Now()
		res, err := c.get(path)
		if err != nil {
			return result{}, err
		}
		size, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil {
			return result{}, err
		}
		if res.StatusCode != 200 {
			return result{}, fmt.Errorf("%s: status %d", path, res.StatusCode)
		}
		if i >= 3 {
			times = append(times, time.Since(start))
		}
	}
	slices.Sort(times)
	return result{path: path, p50: times[len(times)/2], p99: times[len(times)*99/100], bytes: size}, nil
}
