package store

import "time"

// Schedule is a named set of maintenance windows that endpoints are assigned to.
type Schedule struct {
	ID          int64
	Name        string
	Description string
	Entries     []ScheduleEntry
	Endpoints   int // how many endpoints are assigned
}

// ScheduleEntry is one maintenance window, or a weekly series of them that
// repeats until RepeatUntil (the last start is on or before that time).
type ScheduleEntry struct {
	ID           int64
	StartsAt     time.Time
	EndsAt       time.Time
	RepeatWeekly bool
	RepeatUntil  *time.Time
}

const week = 7 * 24 * time.Hour

// Window is one occurrence of an entry.
type Window struct{ Start, End time.Time }

// last returns the final occurrence of the entry.
func (e ScheduleEntry) last() Window {
	w := Window{e.StartsAt, e.EndsAt}
	if !e.RepeatWeekly || e.RepeatUntil == nil || e.RepeatUntil.Before(e.StartsAt) {
		return w
	}
	n := e.RepeatUntil.Sub(e.StartsAt) / week
	shift := time.Duration(n) * week
	return Window{w.Start.Add(shift), w.End.Add(shift)}
}

// windowAt returns the occurrence in progress at t or the next one after it.
func (e ScheduleEntry) windowAt(t time.Time) (Window, bool) {
	last := e.last()
	if !last.End.After(t) {
		return Window{}, false
	}
	w := Window{e.StartsAt, e.EndsAt}
	if e.RepeatWeekly && w.End.Before(t) {
		n := t.Sub(w.End)/week + 1
		shift := time.Duration(n) * week
		w = Window{w.Start.Add(shift), w.End.Add(shift)}
		if !w.End.After(t) { // exact multiple: one more week
			w = Window{w.Start.Add(week), w.End.Add(week)}
		}
	}
	return w, true
}

// Plan is what the rules need to know of an endpoint's schedule.
type Plan struct {
	Assigned   bool
	Entries    int
	FirstStart time.Time // earliest start of any entry
	LastEnd    time.Time // latest end of any occurrence
}

// PlanOf summarises a schedule for the rules.
func PlanOf(s *Schedule) Plan {
	if s == nil {
		return Plan{}
	}
	p := Plan{Assigned: true, Entries: len(s.Entries)}
	for i, e := range s.Entries {
		if i == 0 || e.StartsAt.Before(p.FirstStart) {
			p.FirstStart = e.StartsAt
		}
		if l := e.last(); l.End.After(p.LastEnd) {
			p.LastEnd = l.End
		}
	}
	return p
}

// NextWindow returns the window in progress at t, or the next one to open.
func (s *Schedule) NextWindow(t time.Time) (Window, bool) {
	var best Window
	found := false
	for _, e := range s.Entries {
		if w, ok := e.windowAt(t); ok && (!found || w.Start.Before(best.Start)) {
			best, found = w, true
		}
	}
	return best, found
}

// WindowsEndedBetween counts the occurrences that end in (after, upTo]:
// each one uses up a cycle of the cycle-counted suspensions on the schedule.
func (s *Schedule) WindowsEndedBetween(after, upTo time.Time) int {
	n := 0
	for _, e := range s.Entries {
		w := Window{e.StartsAt, e.EndsAt}
		last := e.last()
		for !w.End.After(upTo) {
			if w.End.After(after) {
				n++
			}
			if !e.RepeatWeekly || !w.Start.Before(last.Start) {
				break
			}
			w = Window{w.Start.Add(week), w.End.Add(week)}
		}
	}
	return n
}
