package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Preset is a recurrence as the schedule page offers it; Rule compiles it
// to the RFC 5545 rule an entry keeps.
type Preset struct {
	Kind     string   // once, daily, weekly, monthly-day, monthly-weekday, patch-tuesday, custom
	Days     []string // weekly: MO … SU
	MonthDay int      // monthly-day: 1–31 (a month without that day is skipped)
	Nth      int      // monthly-weekday: 1–4, or -1 for the last
	Weekday  string   // monthly-weekday: MO … SU
	Offset   int      // patch-tuesday: days after the second Tuesday, 0–14
	Until    string   // optional last day, 2026-12-31 (local)
	Count    int      // optional number of windows
	Custom   string   // custom: the rule as typed
}

// Presets are the kinds the page offers, in its order, with their names.
var Presets = []struct{ Kind, Label string }{
	{"once", "Once"}, {"daily", "Every day"}, {"weekly", "Every week on chosen days"},
	{"monthly-day", "Every month on day N"}, {"monthly-weekday", "Every month on the Nth or last weekday"},
	{"patch-tuesday", "Patch Tuesday + N days"}, {"custom", "Custom RFC 5545 rule"},
}

var weekdays = []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}

// Rule compiles the preset; errors name the field at fault.
func (p Preset) Rule() (string, *FieldError) {
	bad := func(field, msg string) (string, *FieldError) { return "", &FieldError{Field: field, Message: msg} }
	var parts []string
	switch p.Kind {
	case "once", "":
		return "", nil
	case "custom":
		rule, err := ParseRecurrence(p.Custom)
		if err != nil {
			return bad("rrule", upperFirst(err.Error())+".")
		}
		return rule, nil
	case "daily":
		parts = append(parts, "FREQ=DAILY")
	case "weekly":
		if len(p.Days) == 0 {
			return bad("days", "Choose at least one day of the week.")
		}
		for _, d := range p.Days {
			if !slices.Contains(weekdays, d) {
				return bad("days", "Days are MO, TU, WE, TH, FR, SA or SU.")
			}
		}
		parts = append(parts, "FREQ=WEEKLY", "BYDAY="+strings.Join(p.Days, ","))
	case "monthly-day":
		if p.MonthDay < 1 || p.MonthDay > 31 {
			return bad("month_day", "The day of the month is from 1 to 31.")
		}
		parts = append(parts, "FREQ=MONTHLY", "BYMONTHDAY="+strconv.Itoa(p.MonthDay))
	case "monthly-weekday":
		if p.Nth != -1 && (p.Nth < 1 || p.Nth > 4) {
			return bad("nth", "Choose the first to fourth, or the last, weekday of the month.")
		}
		if !slices.Contains(weekdays, p.Weekday) {
			return bad("weekday", "Choose a day of the week.")
		}
		parts = append(parts, "FREQ=MONTHLY", "BYDAY="+strconv.Itoa(p.Nth)+p.Weekday)
	case "patch-tuesday":
		// The second Tuesday falls on the 8th to the 14th; N days later is
		// the weekday N after Tuesday on the 8+N-th to the 14+N-th.
		if p.Offset < 0 || p.Offset > 14 {
			return bad("offset", "Patch Tuesday + N takes N from 0 to 14 days.")
		}
		days := make([]string, 7)
		for i := range days {
			days[i] = strconv.Itoa(8 + p.Offset + i)
		}
		parts = append(parts, "FREQ=MONTHLY", "BYDAY="+weekdays[(1+p.Offset)%7], "BYMONTHDAY="+strings.Join(days, ","))
	default:
		return bad("kind", "Choose how the window repeats.")
	}
	switch {
	case p.Count > 0 && p.Until != "":
		return bad("until", "Give an end date or a number of windows, not both.")
	case p.Count < 0 || p.Count > maxCount:
		return bad("count", fmt.Sprintf("The number of windows is from 1 to %d.", maxCount))
	case p.Count > 0:
		parts = append(parts, "COUNT="+strconv.Itoa(p.Count))
	case p.Until != "":
		d, err := time.Parse("2006-01-02", strings.TrimSpace(p.Until))
		if err != nil {
			return bad("until", "The end date is a day like 2027-06-30.")
		}
		parts = append(parts, "UNTIL="+d.Format("20060102")+"T235959")
	}
	return strings.Join(parts, ";"), nil
}

// DescribeRule says a rule in words: "every Sunday", "every month on the
// Wednesday after Patch Tuesday", "every month on the last Saturday".
func DescribeRule(rule string) string {
	if rule == "" {
		return "once"
	}
	opt, err := rrule.StrToROption(rule)
	if err != nil {
		return rule
	}
	names := map[int]string{0: "Monday", 1: "Tuesday", 2: "Wednesday", 3: "Thursday", 4: "Friday", 5: "Saturday", 6: "Sunday"}
	ordinal := map[int]string{1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last", 5: "fifth", -2: "second to last"}
	var out string
	plain := len(opt.Bysetpos) == 0 && len(opt.Bymonth) == 0 && len(opt.Byyearday) == 0 && len(opt.Byweekno) == 0 && opt.Interval <= 1
	switch {
	case !plain:
		out = "by the rule " + rule
	case opt.Freq == rrule.DAILY && len(opt.Byweekday) == 0 && len(opt.Bymonthday) == 0:
		out = "every day"
	case opt.Freq == rrule.WEEKLY && len(opt.Bymonthday) == 0:
		var days []string
		for _, d := range opt.Byweekday {
			days = append(days, names[d.Day()])
		}
		if len(days) == 0 {
			out = "every week"
		} else {
			out = "every week on " + strings.Join(days, ", ")
		}
	case opt.Freq == rrule.MONTHLY && len(opt.Byweekday) == 1 && len(opt.Bymonthday) == 7:
		first := opt.Bymonthday[0]
		if n := first - 8; n >= 0 && n <= 14 && opt.Bymonthday[6] == first+6 && opt.Byweekday[0].Day() == (1+n)%7 && opt.Byweekday[0].N() == 0 {
			if n == 0 {
				out = "every month on Patch Tuesday (the second Tuesday)"
			} else {
				out = fmt.Sprintf("every month on Patch Tuesday + %d (the %s after the second Tuesday)", n, names[(1+n)%7])
			}
		} else {
			out = "by the rule " + rule
		}
	case opt.Freq == rrule.MONTHLY && len(opt.Byweekday) == 1 && len(opt.Bymonthday) == 0 && ordinal[opt.Byweekday[0].N()] != "":
		out = fmt.Sprintf("every month on the %s %s", ordinal[opt.Byweekday[0].N()], names[opt.Byweekday[0].Day()])
	case opt.Freq == rrule.MONTHLY && len(opt.Byweekday) == 0 && len(opt.Bymonthday) == 1:
		out = fmt.Sprintf("every month on day %d", opt.Bymonthday[0])
	default:
		out = "by the rule " + rule
	}
	switch {
	case opt.Count > 0:
		out += fmt.Sprintf(", %d times", opt.Count)
	case !opt.Until.IsZero():
		out += ", until " + opt.Until.Format("2006-01-02")
	}
	return out
}

// Problems flags what is likely a mistake in a schedule as saved: windows
// that overlap in the year ahead, and entries whose windows are all past.
func (s *Schedule) Problems(now time.Time) []string {
	var out []string
	loc := s.Location()
	for _, e := range s.Entries {
		upcoming := false
		e.windows(loc, func(w Window) bool {
			upcoming = w.End.After(now)
			return !upcoming
		})
		if !upcoming {
			out = append(out, fmt.Sprintf("The entry starting %s has no window ahead: all of them are past.", e.Start))
		}
	}
	ahead := s.WindowsFrom(now, 200)
	horizon := now.AddDate(1, 0, 0)
	for i := 1; i < len(ahead) && ahead[i].Start.Before(horizon); i++ {
		if ahead[i].Start.Before(ahead[i-1].End) {
			out = append(out, fmt.Sprintf("Windows overlap: %s – %s and %s – %s.",
				ahead[i-1].Start.In(loc).Format("2006-01-02 15:04"), ahead[i-1].End.In(loc).Format("15:04"),
				ahead[i].Start.In(loc).Format("2006-01-02 15:04"), ahead[i].End.In(loc).Format("15:04")))
			break
		}
	}
	return out
}
