package store

import (
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// listed is an endpoint as the Servers list sees it: everything a row
// shows, filters by or sorts by, kept in memory by the read model
// (store/readmodel). evaluate makes one after every change.
type listed struct {
	name, ip, osName             string
	osFamily, protocol           string
	connector, power             string
	primary                      Code
	exemptions                   []Code // precedence order
	impact                       Impact
	schedule                     int64
	lastContact                  int64 // unix seconds; 0 unknown
	maxDisk                      float64
	hasDisk, lowDisk, staleFacts bool
	labels                       []string // sources' and operators' together, sorted
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
// read from. A new dimension is an entry here (with its terms and its
// parsing) and its control on the page.
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
	// terms adds the endpoint's values.
	terms func(e *listed, add func(value string))
}

// Dimensions is the table.
var Dimensions = []Dimension{
	{Name: DimExemption, Param: "exemption", Not: "not_exemption", Expected: "an exemption code such as powered-off (see /kb)",
		Parse: func(v string) (string, bool) { e, ok := Lookup(Code(v)); return v, ok && !e.Warning },
		terms: func(e *listed, add func(string)) {
			for _, c := range e.exemptions {
				add(string(c))
			}
		}},
	{Name: DimImpact, Param: "impact", Expected: "cannot-patch, temporarily-cannot-patch or patchable",
		Parse: func(v string) (string, bool) { _, ok := ParseImpact(v); return v, ok },
		terms: func(e *listed, add func(string)) { add(e.impact.String()) }},
	{Name: DimWarning, Param: "warning", AllOf: true, Expected: "low-disk-space or stale-facts",
		Parse: func(v string) (string, bool) { return v, v == string(LowDiskSpace) || v == string(StaleFacts) },
		terms: func(e *listed, add func(string)) {
			if e.lowDisk {
				add(string(LowDiskSpace))
			}
			if e.staleFacts {
				add(string(StaleFacts))
			}
		}},
	{Name: DimOS, Param: "os", Expected: "linux or windows",
		Parse: func(v string) (string, bool) { return v, slices.Contains(OSFamilies, v) },
		terms: func(e *listed, add func(string)) { addKnown(add, e.osFamily) }},
	{Name: DimProtocol, Param: "protocol", Expected: "ssh, smb or web",
		Parse: func(v string) (string, bool) { return v, slices.Contains(Protocols, v) },
		terms: func(e *listed, add func(string)) { addKnown(add, e.protocol) }},
	{Name: DimSchedule, Param: "schedule", Expected: "a schedule id or none", Parse: parseScheduleParam,
		terms: func(e *listed, add func(string)) {
			if e.schedule == 0 {
				add("none")
			} else {
				add(strconv.FormatInt(e.schedule, 10))
			}
		}},
	{Name: DimLabel, Param: "label", Not: "not_label", AllOf: true, Expected: "key:value, key:* or key (keys are a-z, 0-9, _ . -)",
		Parse: ParseLabelFilter,
		terms: func(e *listed, add func(string)) {
			for _, l := range e.labels {
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
var SortColumns = []string{"name", "ip", "os", "protocol", "connector", "power", "exemption", "impact", "schedule", "last_contact", "disk"}

// ValidSort tells whether the list can sort by column.
func ValidSort(column string) bool {
	if key, ok := strings.CutPrefix(column, "label:"); ok {
		return labelKey.MatchString(key)
	}
	return slices.Contains(SortColumns, column)
}

// listSchema tells the read model what a listed endpoint means.
type listSchema struct {
	// scheduleNames orders the schedule column; refreshed when schedules change.
	mu            sync.RWMutex
	scheduleNames map[int64]string
}

func (s *listSchema) Terms(e *listed, add func(string)) {
	for i := range Dimensions {
		d := &Dimensions[i]
		d.terms(e, func(v string) { add(d.Name + "=" + v) })
	}
}

func (s *listSchema) Text(e *listed) []string { return []string{e.name, e.ip} }

func (s *listSchema) TieKey(e *listed, buf []byte) []byte { return appendFolded(buf, e.name) }

// Columns whose orderings are kept from the start; the others are built
// when first sorted by.
func (s *listSchema) Columns() []string {
	return []string{"name", "impact", "exemption", "disk", "last_contact"}
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

// SortKey encodes a column's value so that byte order is the column's
// ascending order: worst impact first, exemptions by precedence, addresses
// as numbers, text folded.
func (s *listSchema) SortKey(column string, e *listed, buf []byte) ([]byte, bool) {
	text := func(v string) ([]byte, bool) { return appendFolded(buf, v), v != "" }
	switch column {
	case "name":
		return buf, true
	case "ip":
		a, err := netip.ParseAddr(e.ip)
		if err != nil {
			return buf, false
		}
		b := a.As16()
		return append(buf, b[:]...), true
	case "os":
		return text(e.osName)
	case "protocol":
		return text(e.protocol)
	case "connector":
		return text(e.connector)
	case "power":
		return text(e.power)
	case "exemption":
		if e.primary == "" {
			return buf, false
		}
		return append(buf, byte(Precedence(e.primary))), true
	case "impact":
		return append(buf, byte(CannotPatch-e.impact)), true
	case "schedule":
		s.mu.RLock()
		name := s.scheduleNames[e.schedule]
		s.mu.RUnlock()
		return text(name)
	case "last_contact":
		return binary.BigEndian.AppendUint64(buf, uint64(e.lastContact)), e.lastContact != 0
	case "disk":
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(e.maxDisk)), e.hasDisk // non-negative floats order as their bits
	}
	if key, ok := strings.CutPrefix(column, "label:"); ok {
		// An endpoint with several values of the key sorts by the first.
		for _, l := range e.labels {
			if k, v, ok := strings.Cut(l, ":"); ok && k == key {
				return append(buf, v...), true
			}
		}
	}
	return buf, false
}
