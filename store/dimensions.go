package store

import (
	"encoding/binary"
	"math"
	"net/netip"
	"patchready/store/readmodel"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// listed is an endpoint as the Servers list sees it: everything a row
// shows, filters by or sorts by. evaluate makes one after every change; the
// read model (store/readmodel) keeps one for every endpoint, as a kept.
type listed struct {
	name, ip string
	listFields
}

// kept is how the read model keeps a listed endpoint: its name and address
// are in the schema's text arena, so that a million of them hold no
// pointers (the garbage collector skips them).
type kept struct {
	text textRef
	listFields
}

// listFields are the rest of a listed endpoint, small numbers:
// enumerations, and OS names and whole label sets numbered by the schema's
// dictionaries.
type listFields struct {
	// Times are unix seconds in 32 bits (until 2106; earlier than 1970 is
	// kept as 1970): a million records are 16 MB smaller than with int64s.
	lastContact uint32 // 0 unknown
	blocked     uint32 // since when it cannot be patched (its oldest exemption); 0 patchable
	maxDisk     float64
	schedule    uint32 // schedule ids are SQLite row ids, far below 2³²
	exemptions  uint32 // bit i: Catalog[i]
	labels      uint32 // the schema's label set
	osName      uint16 // the schema's OS name
	// index+1 in OSFamilies, Protocols, Connectors, PowerStates; 0 unknown
	osFamily, protocol, connector, power uint8
	primary                              uint8 // index+1 in Catalog; 0 none
	impact                               uint8
	hasDisk, lowDisk, staleFacts         bool
}

// seconds32 is a unix time in 32 bits: 0 stays 0 (none), a time before
// 1970 becomes 1, one after 2106 the last second.
func seconds32(t int64) uint32 {
	if t == 0 {
		return 0
	}
	return uint32(min(max(t, 1), math.MaxUint32))
}

// enum is the index+1 of v in values, 0 when absent.
func enum(values []string, v string) uint8 { return uint8(slices.Index(values, v) + 1) }

// unenum is enum's inverse.
func unenum(values []string, i uint8) string {
	if i == 0 {
		return ""
	}
	return values[i-1]
}

// codes lists the exemptions of a mask in precedence order.
func codes(mask uint32) []Code {
	var out []Code
	for i := range Catalog {
		if mask&(1<<i) != 0 {
			out = append(out, Catalog[i].Code)
		}
	}
	return out
}

// dictionary numbers the distinct values it is given; numbers are never
// reused, so a record keeps its meaning. Bounded by the distinct values of
// the estate.
type dictionary[T any] struct {
	mu     sync.RWMutex
	ids    map[string]uint32
	values []T
}

func (d *dictionary[T]) id(key string, value func() T) uint32 {
	d.mu.RLock()
	id, ok := d.ids[key]
	d.mu.RUnlock()
	if ok {
		return id
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if id, ok := d.ids[key]; ok {
		return id
	}
	if d.ids == nil {
		d.ids = map[string]uint32{}
	}
	id = uint32(len(d.values))
	d.ids[key] = id
	d.values = append(d.values, value())
	return id
}

func (d *dictionary[T]) value(id uint32) T {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.values[id]
}

// listedOf makes the list's record of an endpoint.
func (s *listSchema) listedOf(f *Facts, manual []string, schedule int64, exemptions []Code, primary Code, impact Impact, maxDisk *float64, lowDisk, stale bool, blocked int64) listed {
	labels := unionLabels(f.Labels, manual)
	return s.listedWith(f, s.labelSets.id(strings.Join(labels, "\x00"), func() []string { return labels }), schedule, exemptions, primary, impact, maxDisk, lowDisk, stale, blocked)
}

// listedWith is listedOf with the label set already numbered.
func (s *listSchema) listedWith(f *Facts, labelSet uint32, schedule int64, exemptions []Code, primary Code, impact Impact, maxDisk *float64, lowDisk, stale bool, blocked int64) listed {
	e := listed{name: f.Name, ip: orEmpty(f.IP), listFields: listFields{schedule: uint32(schedule), impact: uint8(impact), lowDisk: lowDisk, staleFacts: stale, blocked: seconds32(blocked),
		osFamily: enum(OSFamilies, orEmpty(f.OSFamily)), protocol: enum(Protocols, orEmpty(f.Protocol)),
		connector: enum(Connectors, orEmpty(f.Connector)), power: enum(PowerStates, orEmpty(f.Power))}}
	os := orEmpty(f.OSName)
	e.osName = uint16(s.osNames.id(os, func() string { return os }))
	e.labels = labelSet
	for _, c := range exemptions {
		e.exemptions |= 1 << Precedence(c)
	}
	if primary != "" {
		e.primary = uint8(Precedence(primary) + 1)
	}
	if f.LastContactAt != nil {
		e.lastContact = seconds32(f.LastContactAt.Unix())
	}
	if maxDisk != nil {
		e.maxDisk, e.hasDisk = *maxDisk, true
	}
	return e
}

// Filter dimensions of the Servers list. Each is a query parameter, a facet
// of GET /api/v1/facets and a set of terms of the read model.
const (
	DimExemption = "exemption"
	DimImpact    = "impact"
	DimWarning   = "warning"
	DimOS        = "os"
	DimProtocol  = "protocol"
	DimSchedule  = "schedule"
	DimLabel     = "label"
)

// Dimension is one entry of the table every filter, facet and parameter is
// read from. A new dimension is an entry here (its values and its parsing)
// and its control on the page.
type Dimension struct {
	Name string // parameter and facet name
	// Param and Not are the query parameters that select by it: any of
	// (or, with AllOf, all of) the values, and none of them.
	Param, Not string
	AllOf      bool
	// Parse checks and normalises one parameter value; Expected says
	// what it takes, for the message when it refuses one.
	Parse    func(v string) (string, bool)
	Expected string
	// An endpoint's values: group numbers the set of values it has (an
	// exemption mask, a label set, an enumeration), values lists a group's
	// values. Endpoints in one group share every value, so the read model
	// can count a small set of them per group (readmodel.Grouper).
	group  func(e *listFields) uint32
	values func(s *listSchema, g uint32, add func(value string))
}

// Dimensions is the table.
var Dimensions = []Dimension{
	{Name: DimExemption, Param: "exemption", Not: "not_exemption", Expected: "an exemption code such as powered-off (see /kb)",
		Parse: func(v string) (string, bool) { e, ok := Lookup(Code(v)); return v, ok && !e.Warning },
		group: func(e *listFields) uint32 { return e.exemptions },
		values: func(_ *listSchema, g uint32, add func(string)) {
			for i := range Catalog {
				if g&(1<<i) != 0 {
					add(string(Catalog[i].Code))
				}
			}
		}},
	{Name: DimImpact, Param: "impact", Expected: "cannot-patch, temporarily-cannot-patch or patchable",
		Parse:  func(v string) (string, bool) { _, ok := ParseImpact(v); return v, ok },
		group:  func(e *listFields) uint32 { return uint32(e.impact) },
		values: func(_ *listSchema, g uint32, add func(string)) { add(Impact(g).String()) }},
	{Name: DimWarning, Param: "warning", AllOf: true, Expected: "low-disk-space or stale-facts",
		Parse: func(v string) (string, bool) { return v, v == string(LowDiskSpace) || v == string(StaleFacts) },
		group: func(e *listFields) uint32 {
			var g uint32
			if e.lowDisk {
				g |= 1
			}
			if e.staleFacts {
				g |= 2
			}
			return g
		},
		values: func(_ *listSchema, g uint32, add func(string)) {
			if g&1 != 0 {
				add(string(LowDiskSpace))
			}
			if g&2 != 0 {
				add(string(StaleFacts))
			}
		}},
	{Name: DimOS, Param: "os", Expected: "linux or windows",
		Parse:  func(v string) (string, bool) { return v, slices.Contains(OSFamilies, v) },
		group:  func(e *listFields) uint32 { return uint32(e.osFamily) },
		values: func(_ *listSchema, g uint32, add func(string)) { addKnown(add, unenum(OSFamilies, uint8(g))) }},
	{Name: DimProtocol, Param: "protocol", Expected: "ssh, smb or web",
		Parse:  func(v string) (string, bool) { return v, slices.Contains(Protocols, v) },
		group:  func(e *listFields) uint32 { return uint32(e.protocol) },
		values: func(_ *listSchema, g uint32, add func(string)) { addKnown(add, unenum(Protocols, uint8(g))) }},
	{Name: DimSchedule, Param: "schedule", Expected: "a schedule id or none", Parse: parseScheduleParam,
		group: func(e *listFields) uint32 { return uint32(e.schedule) },
		values: func(_ *listSchema, g uint32, add func(string)) {
			if g == 0 {
				add("none")
			} else {
				add(strconv.FormatUint(uint64(g), 10))
			}
		}},
	{Name: DimLabel, Param: "label", Not: "not_label", AllOf: true, Expected: "key:value, key:* or key (keys are a-z, 0-9, _ . -)",
		Parse: ParseLabelFilter,
		group: func(e *listFields) uint32 { return e.labels },
		values: func(s *listSchema, g uint32, add func(string)) {
			for _, l := range s.labelSets.value(g) {
				add(l)
				if k, _, ok := strings.Cut(l, ":"); ok {
					add(k + ":*")
				}
			}
		}},
}

func addKnown(add func(string), v string) {
	if v != "" {
		add(v)
	}
}

// DimensionByParam finds the dimension a query parameter selects by, and
// whether the parameter excludes.
func DimensionByParam(param string) (d Dimension, not, ok bool) {
	for _, d := range Dimensions {
		switch {
		case param == d.Param:
			return d, false, true
		case param == d.Not && d.Not != "":
			return d, true, true
		}
	}
	return Dimension{}, false, false
}

func parseScheduleParam(v string) (string, bool) {
	if v == "none" {
		return v, true
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return strconv.FormatInt(id, 10), err == nil && id > 0
}

// SortColumns are the columns the list sorts by, besides "label:KEY".
var SortColumns = []string{"name", "ip", "os", "protocol", "connector", "power", "exemption", "impact", "schedule", "last_contact", "disk", "blocked"}

// ValidSort tells whether the list can sort by column.
func ValidSort(column string) bool {
	if key, ok := strings.CutPrefix(column, "label:"); ok {
		return labelKey.MatchString(key)
	}
	return slices.Contains(SortColumns, column)
}

// listSchema tells the read model what a listed endpoint means.
type listSchema struct {
	osNames   dictionary[string]
	labelSets dictionary[[]string]
	// text holds the kept endpoints' names and addresses; it is replaced
	// (compacted) under the read model's write lock only.
	text *textArena

	// scheduleNames orders the schedule column; refreshed when schedules change.
	mu            sync.RWMutex
	scheduleNames map[int64]string
}

func (s *listSchema) Terms(e *kept, add func(dim, value string)) {
	for i := range Dimensions {
		d := &Dimensions[i]
		d.values(s, d.group(&e.listFields), func(v string) { add(d.Name, v) })
	}
}

// Grouped, GroupOf and GroupValues let the read model count facets per
// group (readmodel.Grouper): every dimension has groups.
func (s *listSchema) Grouped() []string { return facetDims() }
func (s *listSchema) Complete() bool    { return true }

func (s *listSchema) GroupOf(dim string) func(*kept) uint32 {
	if d, _, ok := DimensionByParam(dim); ok {
		return func(e *kept) uint32 { return d.group(&e.listFields) }
	}
	return nil
}

func (s *listSchema) GroupValues(dim string, g uint32, add func(string)) {
	if d, _, ok := DimensionByParam(dim); ok {
		d.values(s, g, add)
	}
}

func (s *listSchema) Text(e *kept, buf []string) []string {
	return append(buf, s.text.name(e.text), s.text.ip(e.text))
}

func (s *listSchema) TieKey(e *kept, buf []byte) []byte {
	return appendFolded(buf, s.text.name(e.text))
}

// Columns whose orderings are kept from the start: the name's, the
// default order and the one every other is built from (in 0.05–0.3 s at a
// million endpoints, when first sorted by; the read model keeps the last
// few).
func (s *listSchema) Columns() []string {
	return []string{"name"}
}

func appendFolded(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		buf = append(buf, b)
	}
	return buf
}

// TieColumn sorts by the folded name alone; the read model builds columns
// of few values (impact, OS, labels) from its ordering.
func (s *listSchema) TieColumn() string { return "name" }

// SortKey encodes a column's value so that byte order is the column's
// ascending order: worst impact first, exemptions by precedence, addresses
// as numbers, text folded.
func (s *listSchema) SortKey(column string, e *kept, buf []byte) ([]byte, bool) {
	text := func(v string) ([]byte, bool) { return appendFolded(buf, v), v != "" }
	switch column {
	case "name":
		return buf, true
	case "ip":
		a, err := netip.ParseAddr(s.text.ip(e.text))
		if err != nil {
			return buf, false
		}
		b := a.As16()
		return append(buf, b[:]...), true
	case "os":
		return text(s.osNames.value(uint32(e.osName)))
	case "protocol":
		return text(unenum(Protocols, e.protocol))
	case "connector":
		return text(unenum(Connectors, e.connector))
	case "power":
		return text(unenum(PowerStates, e.power))
	case "exemption":
		return append(buf, e.primary), e.primary != 0
	case "impact":
		return append(buf, byte(CannotPatch)-e.impact), true
	case "schedule":
		s.mu.RLock()
		name := s.scheduleNames[int64(e.schedule)]
		s.mu.RUnlock()
		return text(name)
	case "last_contact":
		return binary.BigEndian.AppendUint64(buf, uint64(e.lastContact)), e.lastContact != 0
	case "disk":
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(e.maxDisk)), e.hasDisk // non-negative floats order as their bits
	case "blocked": // held back longest first; patchable endpoints last
		return binary.BigEndian.AppendUint64(buf, uint64(e.blocked)), e.blocked != 0
	}
	if key, ok := strings.CutPrefix(column, "label:"); ok {
		// An endpoint with several values of the key sorts by the first.
		for _, l := range s.labelSets.value(e.labels) {
			if k, v, ok := strings.Cut(l, ":"); ok && k == key {
				return append(buf, v...), true
			}
		}
	}
	return buf, false
}

// BlockedSince is when an endpoint became unable to patch without a break:
// the start of its oldest exemption's current run; zero when patchable.
func BlockedSince(impact Impact, exemptions []Exemption) time.Time {
	var since time.Time
	if impact == Patchable {
		return since
	}
	for _, e := range exemptions {
		if since.IsZero() || e.Since.Before(since) {
			since = e.Since
		}
	}
	return since
}

// BlockedBefore is the range of endpoints blocked since before t.
func BlockedBefore(t time.Time) readmodel.Range {
	return readmodel.Range{Column: "blocked", Below: binary.BigEndian.AppendUint64(nil, uint64(t.Unix()))}
}
