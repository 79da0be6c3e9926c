package views

import (
	"slices"
	"strings"

	"github.com/a-h/templ"
)

// fieldAttrs marks an input whose value was refused: assistive technology
// hears that it is invalid and reads its message (fieldError, id err-FIELD).
func fieldAttrs(errs map[string]string, field string) templ.Attributes {
	if errs[field] == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": "err-" + field}
}

// formOr is a value as the user typed it in a refused form, or else the
// value kept.
func formOr(form map[string]string, field, kept string) string {
	if v, ok := form[field]; ok {
		return v
	}
	return kept
}

// WeekdayOptions are the days of the week as recurrence rules name them.
var WeekdayOptions = []Option{{Value: "MO", Label: "Monday"}, {Value: "TU", Label: "Tuesday"}, {Value: "WE", Label: "Wednesday"},
	{Value: "TH", Label: "Thursday"}, {Value: "FR", Label: "Friday"}, {Value: "SA", Label: "Saturday"}, {Value: "SU", Label: "Sunday"}}

// NthOptions are the weekdays of a month the monthly preset offers.
var NthOptions = []Option{{Value: "1", Label: "First"}, {Value: "2", Label: "Second"}, {Value: "3", Label: "Third"},
	{Value: "4", Label: "Fourth"}, {Value: "-1", Label: "Last"}}

// CommonZones are offered while typing a time zone; any IANA name is taken.
var CommonZones = []string{"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Berlin", "Europe/Paris", "Europe/Amsterdam",
	"Europe/Madrid", "Europe/Rome", "Europe/Zurich", "Europe/Vienna", "Europe/Stockholm", "Europe/Warsaw", "Europe/Helsinki",
	"Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "America/New_York", "America/Chicago", "America/Denver",
	"America/Los_Angeles", "America/Toronto", "America/Sao_Paulo", "America/Mexico_City", "Asia/Dubai", "Asia/Kolkata",
	"Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul", "Australia/Sydney", "Australia/Perth", "Pacific/Auckland",
	"Africa/Johannesburg"}

// listHas tells whether a comma list (days of a form, events of a hook)
// holds v.
func listHas(list, v string) bool { return slices.Contains(strings.Split(list, ","), v) }
