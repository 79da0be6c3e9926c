package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Schedule is a named calendar of maintenance windows that endpoints are
// assigned to. Its entries are written in its time zone's wall time.
type Schedule struct {
	ID          int64
	Name        string
	Description string
	Timezone    string // IANA name
	Entries     []ScheduleEntry
	Endpoints   int // how many endpoints are assigned
}

// ScheduleEntry is a window, or a series of them: a local start, a
// duration, and an RFC 5545 recurrence rule ("" for once).
type ScheduleEntry struct {
	ID       int64
	Start    Wall
	Duration time.Duration
	RRule    string
	// CreatedAt: a window that began before its entry existed (a
	// back-dated entry) uses up no suspension cycle.
	CreatedAt time.Time
}

// Wall is a wall-clock time with no zone: what a clock on the wall of the
// schedule's zone shows. It is kept as a time.Time in UTC so that the
// recurrence is computed on the calendar alone, then placed in the zone.
type Wall struct{ time.Time }

// WallLayout is how a wall time is written: 2026-12-09T22:00.
const WallLayout = "2006-01-02T15:04"

// ParseWall reads 2026-12-09T22:00 (seconds allowed).
func ParseWall(s string) (Wall, error) {
	for _, layout := range []string{WallLayout, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), time.UTC); err == nil {
			return Wall{t}, nil
		}
	}
	return Wall{}, fmt.Errorf("“%s” is not a local date and time like 2026-12-09T22:00", s)
}

func (w Wall) String() string {
	if w.Second() != 0 {
		return w.Format("2006-01-02T15:04:05")
	}
	return w.Format(WallLayout)
}

// In places the wall time in a zone. A time the clocks skip (the hour lost
// when daylight saving starts) moves forward by the gap: 02:30 on that day
// is 03:30. In the hour that repeats when it ends, the first is taken.
func (w Wall) In(loc *time.Location) time.Time {
	y, m, d := w.Date()
	h, mi, s := w.Clock()
	t := time.Date(y, m, d, h, mi, s, 0, loc)
	if t.Hour() == h && t.Minute() == mi {
		return t
	}
	// In the gap: read the wall time with the offset in force before it.
	_, before := time.Date(y, m, d-1, h, mi, s, 0, loc).Zone()
	return time.Date(y, m, d, h, mi, s, 0, time.UTC).Add(-time.Duration(before) * time.Second).In(loc)
}

// Window is one occurrence of an entry, in absolute time.
type Window struct{ Start, End time.Time }

// Limits of a recurrence, so that every series can be walked quickly.
const (
	maxCount      = 10000
	maxSeriesSpan = 50 * 366 * 24 * time.Hour
)

// ParseRecurrence checks an RFC 5545 recurrence rule for a maintenance
// window and returns it in the form kept: "FREQ=…;…" without the RRULE:
// prefix. Windows repeat daily at most, at the entry's start time: the
// rule may not set hours, minutes or seconds.
func ParseRecurrence(rule string) (string, error) {
	rule = strings.TrimSpace(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(rule)), "RRULE:"))
	if rule == "" {
		return "", nil
	}
	opt, err := rrule.StrToROption(rule)
	if err != nil {
		return "", fmt.Errorf("the recurrence rule %q is not RFC 5545: %v", rule, err)
	}
	switch {
	case opt.Freq != rrule.DAILY && opt.Freq != rrule.WEEKLY && opt.Freq != rrule.MONTHLY && opt.Freq != rrule.YEARLY:
		return "", fmt.Errorf("a maintenance window repeats daily, weekly, monthly or yearly, not %s", opt.Freq)
	case len(opt.Byhour) > 0 || len(opt.Byminute) > 0 || len(opt.Bysecond) > 0:
		return "", fmt.Errorf("the rule may not set BYHOUR, BYMINUTE or BYSECOND: a window starts at its entry's time")
	case !opt.Dtstart.IsZero():
		return "", fmt.Errorf("give the start as the entry's start, not as DTSTART in the rule")
	case opt.Count < 0 || opt.Count > maxCount:
		return "", fmt.Errorf("COUNT is at most %d", maxCount)
	case opt.Count > 0 && !opt.Until.IsZero():
		return "", fmt.Errorf("a rule has COUNT or UNTIL, not both")
	case len(opt.Byeaster) > 0 || len(opt.Byweekno) > 0 || len(opt.Byyearday) > 0:
		return "", fmt.Errorf("BYEASTER, BYWEEKNO and BYYEARDAY are not taken: say the days with BYMONTH, BYMONTHDAY, BYDAY and BYSETPOS")
	}
	if _, err := rrule.NewRRule(*opt); err != nil {
		return "", fmt.Errorf("the recurrence rule %q is not valid: %v", rule, err)
	}
	// A rule must give a window within ten years of any start: one that
	// never matches (30 February) would be searched for on every use.
	if !occurs(rule) {
		return "", fmt.Errorf("the rule %q gives no window within ten years", rule)
	}
	return rule, nil
}

// occurs tells whether a checked rule gives a start within ten years of a
// start date, without panicking on what the library does not expect.
func occurs(rule string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	opt, err := rrule.StrToROption(rule)
	if err != nil {
		return false
	}
	opt.Dtstart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	limit := opt.Dtstart.AddDate(10, 0, 0)
	if opt.Until.IsZero() || opt.Until.After(limit) {
		opt.Until = limit
	}
	opt.Count = 1
	r, err := rrule.NewRRule(*opt)
	return err == nil && len(r.All()) > 0
}

// starts calls yield with the entry's start times, as wall times, in order,
// until yield returns false or the series ends.
func (e ScheduleEntry) starts(yield func(Wall) bool) {
	if e.RRule == "" {
		yield(e.Start)
		return
	}
	// The library is trusted with checked rules only; should one still
	// trip it, the series ends here rather than the server.
	defer func() { recover() }()
	opt, err := rrule.StrToROption(e.RRule)
	if err != nil {
		return // checked when saved
	}
	opt.Dtstart = e.Start.Time
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return
	}
	next := r.Iterator()
	limit := e.Start.Add(maxSeriesSpan)
	for {
		t, ok := next()
		if !ok || t.After(limit) || !yield(Wall{t}) {
			return
		}
	}
}

// windows calls yield with the entry's windows in loc, in order.
func (e ScheduleEntry) windows(loc *time.Location, yield func(Window) bool) {
	e.starts(func(w Wall) bool {
		start := w.In(loc)
		// The end keeps wall time too: a 4-hour window over a clock change
		// still ends at start + 4 h on the wall. A window moved out of the
		// lost hour keeps its length.
		end := Wall{w.Add(e.Duration)}.In(loc)
		moved := start.Hour() != w.Hour() || start.Minute() != w.Minute()
		if moved || !end.After(start) {
			end = start.Add(e.Duration)
		}
		return yield(Window{start, end})
	})
}

// Location is the schedule's zone (UTC when unknown).
func (s *Schedule) Location() *time.Location {
	if loc, err := time.LoadLocation(s.Timezone); err == nil && s.Timezone != "" {
		return loc
	}
	return time.UTC
}

// WindowsFrom returns up to n windows of the schedule that end after t,
// in order of their start (a window open at t first).
func (s *Schedule) WindowsFrom(t time.Time, n int) []Window {
	loc := s.Location()
	var all []Window
	for _, e := range s.Entries {
		taken := 0
		e.windows(loc, func(w Window) bool {
			if w.End.After(t) {
				all = append(all, w)
				taken++
			}
			return taken < n
		})
	}
	slices.SortFunc(all, func(a, b Window) int { return a.Start.Compare(b.Start) })
	return all[:min(n, len(all))]
}

// NextWindow returns the window in progress at t, or the next one to open.
func (s *Schedule) NextWindow(t time.Time) (Window, bool) {
	w := s.WindowsFrom(t, 1)
	if len(w) == 0 {
		return Window{}, false
	}
	return w[0], true
}

// Plan is what the rules need to know of an endpoint's schedule.
type Plan struct {
	Assigned   bool
	Entries    int
	FirstStart time.Time // start of the first window of any entry
	LastEnd    time.Time // end of the last window; zero with OpenEnded
	OpenEnded  bool      // a series with no end: never expires
}

// PlanOf summarises a schedule for the rules.
func PlanOf(s *Schedule) Plan {
	if s == nil {
		return Plan{}
	}
	p := Plan{Assigned: true, Entries: len(s.Entries)}
	loc := s.Location()
	for _, e := range s.Entries {
		open := false
		if e.RRule != "" {
			opt, _ := rrule.StrToROption(e.RRule)
			open = opt != nil && opt.Count == 0 && opt.Until.IsZero()
		}
		p.OpenEnded = p.OpenEnded || open
		first := true
		e.windows(loc, func(w Window) bool {
			if first && (p.FirstStart.IsZero() || w.Start.Before(p.FirstStart)) {
				p.FirstStart = w.Start
			}
			first = false
			if w.End.After(p.LastEnd) {
				p.LastEnd = w.End
			}
			return !open // an open series has no last window: its first is enough
		})
	}
	if p.OpenEnded {
		p.LastEnd = time.Time{}
	}
	return p
}

// cycleWindows counts the windows that use up a cycle of a suspension:
// they start after the suspension was made (the window open then is
// covered for free), begin after their entry existed (back-dated entries
// count for nothing), and end in (after, upTo].
func (s *Schedule) cycleWindows(made, after, upTo time.Time) int {
	if s == nil {
		return 0
	}
	loc, n := s.Location(), 0
	for _, e := range s.Entries {
		e.windows(loc, func(w Window) bool {
			if w.Start.After(upTo) {
				return false
			}
			if w.Start.After(made) && !w.Start.Before(e.CreatedAt) && w.End.After(after) && !w.End.After(upTo) {
				n++
			}
			return true
		})
	}
	return n
}

// SuspensionEnd is when a suspension for cycles ends on this schedule: the
// end of the last window it still covers; false when the schedule does not
// have that many windows ahead.
func (s *Schedule) SuspensionEnd(susp *Suspension) (time.Time, bool) {
	if s == nil || susp == nil || susp.CyclesRemaining == nil || *susp.CyclesRemaining <= 0 {
		return time.Time{}, false
	}
	left := *susp.CyclesRemaining
	var ahead []Window
	loc := s.Location()
	for _, e := range s.Entries {
		taken := 0
		e.windows(loc, func(w Window) bool {
			if w.Start.After(susp.CreatedAt) && !w.Start.Before(e.CreatedAt) && w.End.After(susp.CountedTo) {
				ahead = append(ahead, w)
				taken++
			}
			return taken < left
		})
	}
	if len(ahead) < left {
		return time.Time{}, false
	}
	slices.SortFunc(ahead, func(a, b Window) int { return a.Start.Compare(b.Start) })
	return ahead[left-1].End, true
}
