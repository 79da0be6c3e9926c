package store

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// randomFilter draws a filter over every parameter of the list: search
// (short, long, several terms, addresses), exemptions any of and none of,
// impact, warnings, OS, protocol, schedule, labels and their negations,
// every sort order in both directions. The benchmarks use it too.
func randomFilter(r *rand.Rand, db *DB) Filter {
	var f Filter
	some := func(p float64) bool { return r.Float64() < p }
	pick := func(from []string) string { return from[r.IntN(len(from))] }
	codes := make([]string, 0, len(Catalog))
	for _, e := range Catalog {
		codes = append(codes, string(e.Code))
	}
	if some(0.25) {
		for range 1 + r.IntN(2) {
			switch r.IntN(4) {
			case 0:
				f.Q = append(f.Q, pick([]string{"web", "db", "sql", "fra1", "ams2", "win", "app", "cache"}))
			case 1:
				f.Q = append(f.Q, pick([]string{"we", "-f", "a", "01", "Sq", "x"}))
			case 2:
				f.Q = append(f.Q, fmt.Sprintf("10.%d", 16+r.IntN(3)))
			default:
				f.Q = append(f.Q, fmt.Sprintf("%05d", r.IntN(1000)))
			}
		}
	}
	if some(0.3) {
		for range 1 + r.IntN(3) {
			f.Add(DimExemption, false, pick(codes))
		}
	}
	if some(0.15) {
		f.Add(DimExemption, true, pick(codes))
	}
	if some(0.3) {
		f.Add(DimImpact, false, pick([]string{"cannot-patch", "temporarily-cannot-patch", "patchable"}))
	}
	if some(0.15) {
		f.Add(DimWarning, false, string(LowDiskSpace))
	}
	if some(0.1) {
		f.Add(DimWarning, false, string(StaleFacts))
	}
	if some(0.15) { // blocked for more than some hours
		f.BlockedBefore = db.now().Add(time.Duration(r.IntN(72)-36) * time.Hour)
	}
	if some(0.25) {
		f.Add(DimOS, false, pick(OSFamilies))
	}
	if some(0.2) {
		f.Add(DimProtocol, false, pick(Protocols))
	}
	if some(0.15) {
		schedules, _ := db.Schedules(context.Background())
		v := "none"
		if len(schedules) > 0 && some(0.7) {
			v = strconv.FormatInt(schedules[r.IntN(len(schedules))].ID, 10)
		}
		f.Add(DimSchedule, false, v)
	}
	labels := []string{"env:prod", "env:staging", "env:dev", "site:fra1", "site:lon1", "role:web", "role:sql",
		"team:platform", "team:payments", "team:search", "tier:1", "legacy", "env:*", "tier:*", "owner:*"}
	if some(0.35) {
		for range 1 + r.IntN(2) {
			f.Add(DimLabel, false, pick(labels))
		}
	}
	if some(0.2) {
		f.Add(DimLabel, true, pick(labels))
	}
	f.Sort = pick(append(slices.Clone(SortColumns), "", "label:env", "label:team", "label:tier"))
	f.Desc = some(0.5)
	return f
}

// bruteMatch tells whether an endpoint matches a filter, from its stored
// facts and state alone.
func bruteMatch(e *Endpoint, f Filter) bool {
	values := map[string][]string{
		DimImpact:   {e.Impact.String()},
		DimOS:       {orEmpty(e.OSFamily)},
		DimProtocol: {orEmpty(e.Protocol)},
		DimSchedule: {"none"},
	}
	if e.ScheduleID != 0 {
		values[DimSchedule] = []string{strconv.FormatInt(e.ScheduleID, 10)}
	}
	for _, x := range e.Exemptions {
		values[DimExemption] = append(values[DimExemption], string(x.Code))
	}
	if e.LowDisk {
		values[DimWarning] = append(values[DimWarning], string(LowDiskSpace))
	}
	if e.StaleFacts {
		values[DimWarning] = append(values[DimWarning], string(StaleFacts))
	}
	for _, l := range unionLabels(e.Labels, e.ManualLabels) {
		values[DimLabel] = append(values[DimLabel], l)
		if k, _, ok := strings.Cut(l, ":"); ok {
			values[DimLabel] = append(values[DimLabel], k+":*")
		}
	}
	for _, c := range f.Conds {
		d, _, _ := DimensionByParam(c.Dim)
		has := func(v string) bool { return slices.Contains(values[c.Dim], v) }
		switch {
		case c.Not && slices.ContainsFunc(c.Values, has):
			return false
		case !c.Not && d.AllOf && !allOf(c.Values, has):
			return false
		case !c.Not && !d.AllOf && !slices.ContainsFunc(c.Values, has):
			return false
		}
	}
	if !f.BlockedBefore.IsZero() {
		since := BlockedSince(e.Impact, e.Exemptions)
		if since.IsZero() || !since.Before(f.BlockedBefore.Truncate(time.Second)) {
			return false
		}
	}
	if len(f.Q) == 0 {
		return true
	}
	return slices.ContainsFunc(f.Q, func(q string) bool {
		q = strings.ToLower(q)
		return strings.Contains(strings.ToLower(e.Name), q) || strings.Contains(strings.ToLower(orEmpty(e.IP)), q)
	})
}

func allOf(vs []string, has func(string) bool) bool {
	for _, v := range vs {
		if !has(v) {
			return false
		}
	}
	return true
}

// bruteSort orders endpoints as the list promises: by the column (worst
// impact first, exemptions by precedence, addresses as numbers, text
// ignoring case), then by name; descending reverses that; endpoints
// without a value come last either way.
func bruteSort(all []*Endpoint, f Filter) {
	value := func(e *Endpoint) (string, bool) {
		switch col := cmp.Or(f.Sort, "name"); col {
		case "name":
			return "", true
		case "ip":
			a, err := netip.ParseAddr(orEmpty(e.IP))
			b := a.As16()
			return string(b[:]), err == nil
		case "os":
			return strings.ToLower(orEmpty(e.OSName)), orEmpty(e.OSName) != ""
		case "protocol":
			return orEmpty(e.Protocol), e.Protocol != nil
		case "connector":
			return orEmpty(e.Connector), e.Connector != nil
		case "power":
			return orEmpty(e.Power), e.Power != nil
		case "exemption":
			return fmt.Sprintf("%03d", Precedence(e.Primary)), e.Primary != ""
		case "impact":
			return fmt.Sprint(2 - int(e.Impact)), true
		case "schedule":
			return strings.ToLower(e.ScheduleName), e.ScheduleName != ""
		case "last_contact":
			if e.LastContactAt == nil {
				return "", false
			}
			return fmt.Sprintf("%020d", e.LastContactAt.Unix()), true
		case "disk":
			if e.MaxDiskPct == nil {
				return "", false
			}
			return fmt.Sprintf("%020.10f", *e.MaxDiskPct), true
		case "blocked":
			since := BlockedSince(e.Impact, e.Exemptions)
			return fmt.Sprintf("%020d", since.Unix()), !since.IsZero()
		default:
			key := strings.TrimPrefix(col, "label:")
			for _, l := range unionLabels(e.Labels, e.ManualLabels) {
				if k, v, ok := strings.Cut(l, ":"); ok && k == key {
					return v, true
				}
			}
			return "", false
		}
	}
	slices.SortFunc(all, func(a, b *Endpoint) int {
		va, oka := value(a)
		vb, okb := value(b)
		if oka != okb {
			if oka {
				return -1
			}
			return 1
		}
		c := cmp.Or(strings.Compare(va, vb), strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
		if f.Desc && oka {
			return -c
		}
		return c
	})
}

// The read model against brute force over the database: random estates
// with random changes, random filters over every parameter; totals, facet
// counts, and whole cursor walks in both directions must agree.
func TestListAgainstBruteForce(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			db, clk := MustOpen(t)
			ctx := context.Background()
			if err := db.SeedDemo(ctx, 400+int(seed)*300); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(seed, 11))
			if _, err := db.readModel(ctx); err != nil {
				t.Fatal(err)
			}
			for round := range 4 {
				if round > 0 {
					changeSome(t, db, r)
					clk.advance(time.Duration(r.IntN(90)) * time.Minute)
					if err := db.Tick(ctx); err != nil {
						t.Fatal(err)
					}
				}
				all := allEndpoints(t, db)
				for range 25 {
					f := randomFilter(r, db)
					var want []*Endpoint
					for _, e := range all {
						if bruteMatch(e, f) {
							want = append(want, e)
						}
					}
					bruteSort(want, f)
					checkFacets(t, db, all, f)
					f.PerPage = 1 + r.IntN(max(1, len(want)/3+1))
					got := walkList(t, db, f)
					if len(got) != len(want) {
						t.Fatalf("round %d %+v: %d rows, want %d", round, f, len(got), len(want))
					}
					for i := range got {
						if got[i] != want[i].ID {
							t.Fatalf("round %d %+v: row %d is %d, want %d (%s)", round, f, i, got[i], want[i].ID, want[i].Name)
						}
					}
				}
			}
			checkCounts(t, db)
		})
	}
}

// changeSome changes facts, labels and schedules of random endpoints, and
// adds a few, through the same paths the API and the pages use.
func changeSome(t *testing.T, db *DB, r *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	all := allEndpoints(t, db)
	g := NewGenerator(r.Uint64(), db.now())
	var items []Facts
	seen := map[string]bool{}
	for i := range 20 {
		f := g.Facts(int64(100000 + r.IntN(100000)))
		if i%2 == 0 { // an existing endpoint gets new facts
			f.Name = all[r.IntN(len(all))].Name
		}
		if !seen[NameKey(f.Name)] {
			seen[NameKey(f.Name)] = true
			items = append(items, f)
		}
	}
	if _, err := db.UpsertFacts(ctx, items); err != nil {
		t.Fatalf("%v %+v", err, err.(*Error).Details)
	}
	schedules, _ := db.Schedules(ctx)
	ids := []int64{all[r.IntN(len(all))].ID, all[r.IntN(len(all))].ID}
	if _, err := db.AssignSchedule(ctx, "test", Target{IDs: ids}, schedules[r.IntN(len(schedules))].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChangeLabels(ctx, "test", Target{IDs: ids[:1]}, []string{"owner:ops", "legacy"}, []string{"env:prod"}); err != nil {
		t.Fatal(err)
	}
}

func allEndpoints(t *testing.T, db *DB) []*Endpoint {
	t.Helper()
	var ids []int64
	rows, _ := db.r.Query(`SELECT id FROM endpoints ORDER BY id`)
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	all, err := db.Endpoints(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// walkList pages through the whole filter by Next cursors, then back by
// Prev cursors, and returns the ids in order.
func walkList(t *testing.T, db *DB, f Filter) []int64 {
	t.Helper()
	ctx := context.Background()
	var pages []Page
	for {
		p, err := db.List(ctx, f, false)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		if p.Next == "" || len(pages) > 10_000 {
			break
		}
		f.After = p.Next
	}
	f.After = ""
	for i := len(pages) - 1; i > 0; i-- {
		f.Before = pages[i].Prev
		p, err := db.List(ctx, f, false)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(p.Rows, pages[i-1].Rows, func(a, b Row) bool { return a.ID == b.ID }) {
			t.Fatalf("%+v: page %d read backwards differs", f, i-1)
		}
	}
	var ids []int64
	for _, p := range pages {
		for _, r := range p.Rows {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// checkFacets holds every option count against a count over every endpoint
// with the filter's other conditions: a dimension's own "any of" selection
// is left out of its counts.
func checkFacets(t *testing.T, db *DB, all []*Endpoint, f Filter) {
	t.Helper()
	fc, err := db.Facets(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Dimensions {
		g := f
		if !d.AllOf {
			g.Conds = slices.DeleteFunc(slices.Clone(f.Conds), func(c Cond) bool { return c.Dim == d.Name && !c.Not })
		}
		want := map[string]int64{}
		for _, e := range all {
			if !bruteMatch(e, g) {
				continue
			}
			probe := Filter{}
			var vals []string
			switch d.Name {
			case DimLabel:
				vals = unionLabels(e.Labels, e.ManualLabels)
			default:
				vals = termsOf(e, d.Name)
			}
			_ = probe
			for _, v := range vals {
				want[v]++
			}
		}
		got := fc.Counts[d.Name]
		if len(got) != len(want) {
			t.Fatalf("%+v: facet %s %v, want %v", f, d.Name, got, want)
		}
		for v, n := range want {
			if got[v] != n {
				t.Fatalf("%+v: facet %s=%s is %d, want %d", f, d.Name, v, got[v], n)
			}
		}
	}
}

// termsOf lists an endpoint's values of a dimension, from its stored state.
func termsOf(e *Endpoint, dim string) []string {
	switch dim {
	case DimExemption:
		var out []string
		for _, x := range e.Exemptions {
			out = append(out, string(x.Code))
		}
		return out
	case DimImpact:
		return []string{e.Impact.String()}
	case DimWarning:
		var out []string
		if e.LowDisk {
			out = append(out, string(LowDiskSpace))
		}
		if e.StaleFacts {
			out = append(out, string(StaleFacts))
		}
		return out
	case DimOS:
		if e.OSFamily != nil {
			return []string{*e.OSFamily}
		}
	case DimProtocol:
		if e.Protocol != nil {
			return []string{*e.Protocol}
		}
	case DimSchedule:
		if e.ScheduleID == 0 {
			return []string{"none"}
		}
		return []string{strconv.FormatInt(e.ScheduleID, 10)}
	}
	return nil
}

// Writes and reads at once (run with -race): ingest, actions and the clock
// change endpoints while lists, facets and exports read; afterwards the kept
// model equals one rebuilt from the database, and so does the model a
// restart builds.
func TestListConcurrentWritesAndReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := db.SeedDemo(ctx, 600); err != nil {
		t.Fatal(err)
	}
	if err := db.BuildReadModel(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := range 2 { // readers
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 5))
			for {
				select {
				case <-done:
					return
				default:
				}
				f := randomFilter(r, db)
				f.PerPage = 20
				p, err := db.List(ctx, f, true)
				if err == nil {
					_, err = db.Facets(ctx, f)
				}
				if err == nil && p.Next != "" {
					f.After = p.Next
					_, err = db.List(ctx, f, false)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	r := rand.New(rand.NewPCG(9, 9))
	for range 15 { // the writer
		changeSome(t, db, r)
		if err := db.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkCounts(t, db)
	want := listAll(t, db)
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got := listAll(t, db2); !slices.Equal(got, want) {
		t.Fatalf("after a restart the list differs: %d rows, %d before", len(got), len(want))
	}
}

// listAll is every endpoint id in the order of a few sorts and filters.
func listAll(t *testing.T, db *DB) []int64 {
	t.Helper()
	var out []int64
	for _, f := range []Filter{{Sort: "ip"}, {Sort: "label:team", Desc: true}, {Sort: "disk", Conds: []Cond{{Dim: DimImpact, Values: []string{"cannot-patch"}}}}} {
		if err := db.Each(context.Background(), f, false, func(r Row) error { out = append(out, r.ID); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// The read model keeps names and addresses in an arena: an endpoint whose
// name and address stay keeps its place there, a changed address leaves
// garbage, and once most of the arena is garbage it is compacted while the
// list goes on showing every endpoint as it is.
func TestTextArenaKeepsAndCompacts(t *testing.T) {
	db, _ := MustOpen(t)
	defer func(n int) { compactAfter = n }(compactAfter)
	compactAfter = 64
	ctx := context.Background()
	facts := func(round int) []Facts {
		var out []Facts
		for i := range 20 {
			ip := fmt.Sprintf("10.%d.0.%d", round, i)
			out = append(out, Facts{Name: fmt.Sprintf("host-%02d.example", i), IP: &ip})
		}
		return out
	}
	if _, err := db.readModel(ctx); err != nil { // built, so that writes reach it
		t.Fatal(err)
	}
	mustUpsert(t, db, facts(0)...)
	text := db.list.schema.text
	live := text.live
	if live == 0 {
		t.Fatal("the names and addresses are not in the arena")
	}
	if text.garbage != 0 {
		t.Fatalf("garbage %d after the first report", text.garbage)
	}
	// The same names and addresses again (another fact changes): no new text.
	same := facts(0)
	for i := range same {
		same[i].Power = ptr("on")
	}
	mustUpsert(t, db, same...)
	if db.list.schema.text != text || text.live != live || text.garbage != 0 {
		t.Fatalf("unchanged text moved: live %d → %d, garbage %d", live, text.live, text.garbage)
	}
	// New addresses, round after round, until the arena is compacted.
	for round := 1; db.list.schema.text == text; round++ {
		if round > 20 {
			t.Fatal("the arena was never compacted")
		}
		mustUpsert(t, db, facts(round)...)
	}
	if g := db.list.schema.text.garbage; g != 0 {
		t.Errorf("garbage %d after compaction", g)
	}
	checkCounts(t, db)
	p, err := db.List(ctx, Filter{Q: []string{"host-07"}}, false)
	if err != nil || len(p.Rows) != 1 || p.Rows[0].Name != "host-07.example" || !strings.HasPrefix(p.Rows[0].IP, "10.") || strings.HasPrefix(p.Rows[0].IP, "10.0.") {
		t.Fatalf("after compaction: %+v %v", p.Rows, err)
	}
}

// The list keeps times in 32 bits: none stays none, and times out of range
// are held at the ends rather than wrapped around.
func TestSeconds32(t *testing.T) {
	for _, c := range []struct {
		in   int64
		want uint32
	}{{0, 0}, {1, 1}, {-5, 1}, {1_764_000_000, 1_764_000_000}, {1 << 40, math.MaxUint32}} {
		if got := seconds32(c.in); got != c.want {
			t.Errorf("seconds32(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}
