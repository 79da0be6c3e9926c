package store

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"
)

// FactFields are the facts a source reports, by their API names, in the
// order that numbers the bits of a FieldSet. "name" is not among them: it
// says which endpoint, not a fact about it.
var FactFields = func() []string {
	var out []string
	t := reflect.TypeOf(Facts{})
	for i := 1; i < t.NumField(); i++ { // 0 is Name
		out = append(out, strings.Split(t.Field(i).Tag.Get("json"), ",")[0])
	}
	return out
}()

// FieldSet is a set of facts: bit i is FactFields[i].
type FieldSet uint32

// AllFacts is every fact: what a PUT, which replaces them all, reports.
var AllFacts = FieldSet(1)<<len(FactFields) - 1

// FieldOf is the set of one fact by its API name; false when there is none.
func FieldOf(name string) (FieldSet, bool) {
	i := slices.Index(FactFields, name)
	if i < 0 {
		return 0, false
	}
	return FieldSet(1) << i, true
}

// Patch is one endpoint in a partial report: the facts Present are set to
// their values in Facts (nil clears one); the others stay as they are.
type Patch struct {
	Facts   Facts
	Present FieldSet
}

// apply copies the present facts of p onto f.
func (p *Patch) apply(f *Facts) {
	src, dst := reflect.ValueOf(&p.Facts).Elem(), reflect.ValueOf(f).Elem()
	for i := range FactFields {
		if p.Present&(1<<i) != 0 {
			dst.Field(i + 1).Set(src.Field(i + 1))
		}
	}
}

// report is one source's report of some facts at one time, as kept in
// endpoints.fact_sources: [source id, unix time, field mask].
type report [3]int64

// mergeReports records a new report: the facts it names move to it from
// the older reports, which are dropped once they name none.
func mergeReports(stored string, source, at int64, fields FieldSet) (string, []report, []report) {
	var before []report
	if stored != "" {
		json.Unmarshal([]byte(stored), &before) // written by us
	}
	after := make([]report, 0, len(before)+1)
	for _, r := range before {
		if rest := FieldSet(r[2]) &^ fields; rest != 0 {
			after = append(after, report{r[0], r[1], int64(rest)})
		}
	}
	after = append(after, report{source, at, int64(fields)})
	b, _ := json.Marshal(after)
	return string(b), before, after
}

// sourceIDs is the set of sources that reports name.
func sourceIDs(rs []report) map[int64]bool {
	out := map[int64]bool{}
	for _, r := range rs {
		if r[0] != 0 {
			out[r[0]] = true
		}
	}
	return out
}

// sourceID finds or creates a source and counts a report of n endpoints.
func (t *txn) sourceID(name string, n int) (int64, error) {
	var id int64
	err := t.QueryRow(`INSERT INTO sources (name, first_report_at, last_report_at, reports) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET last_report_at = excluded.last_report_at, reports = reports + excluded.reports RETURNING id`,
		name, t.now.Unix(), t.now.Unix(), n).Scan(&id)
	return id, err
}

// FactSource is who reported a fact, and when.
type FactSource struct {
	Source     string    `json:"source"`
	ReportedAt time.Time `json:"reported_at"`
}

// factSources reads an endpoint's stored reports as fact → source.
func factSources(stored string, names map[int64]string) map[string]FactSource {
	out := map[string]FactSource{}
	if stored == "" {
		return out
	}
	var rs []report
	json.Unmarshal([]byte(stored), &rs)
	for _, r := range rs {
		name := names[r[0]]
		if name == "" {
			name = "unnamed"
		}
		for i, f := range FactFields {
			if FieldSet(r[2])&(1<<i) != 0 {
				out[f] = FactSource{Source: name, ReportedAt: time.Unix(r[1], 0).UTC()}
			}
		}
	}
	return out
}

// Source is one feed of facts, as the Sources page shows it.
type Source struct {
	ID                      int64
	Name                    string
	FirstReport, LastReport time.Time
	Reports                 int64 // endpoint reports received
	Endpoints               int64 // endpoints with at least one fact from it
	Silent                  bool  // nothing within the stale threshold
	Kind                    string
	SilentFor               time.Duration
}

// Sources lists every source, silent ones first, then by name.
func (db *DB) Sources(ctx context.Context) ([]Source, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, first_report_at, last_report_at, reports, endpoints FROM sources`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now, stale := db.now(), db.Settings().StaleAfter
	var out []Source
	for rows.Next() {
		var s Source
		var first, last int64
		if err := rows.Scan(&s.ID, &s.Name, &first, &last, &s.Reports, &s.Endpoints); err != nil {
			return nil, err
		}
		s.FirstReport, s.LastReport = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC()
		s.SilentFor = now.Sub(s.LastReport)
		s.Silent = s.SilentFor > stale
		s.Kind = "API token"
		if strings.HasPrefix(s.Name, "import:") {
			s.Kind = "CSV import"
			s.Silent = false // a person's import is not a feed that stops
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Source) int {
		if a.Silent != b.Silent {
			if a.Silent {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, rows.Err()
}

// sourceNames maps source ids to names.
func sourceNames(q queryer) (map[int64]string, error) {
	out := map[int64]string{}
	rows, err := q.Query(`SELECT id, name FROM sources`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}
