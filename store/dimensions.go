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
// read from. A new dimension is an entry here (with its terms), its
// parameter's parsing (Parse) and its control on the page.
type Dimension struct {
	Name string // parameter and facet name
	// Param and Not are the query parameters that select by it: any of
	// (or, with AllOf, all of) the values, and none of them.
	Param, Not string
	AllOf      bool
	// Parse checks and normalises one parameter value.
	Parse func(v string) (string, error)
	// terms adds the endpoint's values.
	terms func(e *listed, add func(value string))
}

// Dimensions is the table.
var Dimensions = []Dimension{
	{Name: DimExemption, Param: "exemption", Not: "not_exemption", Parse: parseCode,
		terms: func(e *listed, add func(string)) {
			for _, c := range e.exemptions {
				add(string(c))
			}
		}},
	{Name: DimImpact, Param: "impact", Parse: parseImpact,
		terms: func(e *listed, add func(string)) { add(e.impact.String()) }},
	{Name: DimWarning, Param: "warning", AllOf: true, Parse: parseWarning,
		terms: func(e *listed, add func(string)) {
			if e.lowDisk {
				add(string(LowDiskSpace))
			}
			if e.staleFacts {
				add(string(StaleFacts))
			}
		}},
	{Name: DimOS, Param: "os", Parse: oneOf("os", OSFamilies),
		terms: func(e *listed, add func(string)) { addKnown(add, e.osFamily) }},
	{Name: DimProtocol, Param: "protocol", Parse: oneOf("protocol", Protocols),
		terms: func(e *listed, add func(string)) { addKnown(add, e.protocol) }},
	{Name: DimSchedule, Param: "schedule", Parse: parseScheduleParam,
		terms: func(e *listed, add func(string)) {
			if e.schedule == 0 {
				add("none")
			} else {
				add(strconv.FormatInt(e.schedule, 10))
			}
		}},
	{Name: DimLabel, Param: "label", Not: "not_label", AllOf: true, Parse: ParseLabelFilter,
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
		switch param {
		case d.Param:
			return d, false, true
		case d.Not:
			return d, true, d.Not != ""
		}
	}
	return Dimension{}, false, false
}

func invalid(param, value, expected string) error {
	return &Error{Kind: Invalid, Message: "The " + param + " parameter has a value we do not understand: " + strconv.Quote(value) + ". Expected " + expected + ".",
		Details: []FieldError{{Field: param, Message: "expected " + expected}}}
}

func parseCode(v string) (string, error) {
	if e, ok := Lookup(Code(v)); ok && !e.Warning {
		return v, nil
	}
	return "", invalid("exemption", v, "an exemption code such as powered-off (see /kb)")
}

func parseImpact(v string) (string, error) {
	if _, ok := ParseImpact(v); ok {
		return v, nil
	}
	return "", invalid("impact", v, "cannot-patch, temporarily-cannot-patch or patchable")
}

func parseWarning(v string) (string, error) {
	if v == string(LowDiskSpace) || v == string(StaleFacts) {
		return v, nil
	}
	return "", invalid("warning", v, "low-disk-space or stale-facts")
}

func oneOf(param string, allowed []string) func(string) (string, error) {
	return func(v string) (string, error) {
		if slices.Contains(allowed, v) {
			return v, nil
		}
		return "", invalid(param, v, strings.Join(allowed, " or "))
	}
}

func parseScheduleParam(v string) (string, error) {
	if v == "none" {
		return v, nil
	}
	if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
		return strconv.FormatInt(id, 10), nil
	}
	return "", invalid("schedule", v, "a schedule id or none")
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
