package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"patchready/store"
)

// badParam is the error for a query parameter with a value we do not accept.
func badParam(name, value, expected string) error {
	return &store.Error{Kind: store.Invalid,
		Message: fmt.Sprintf("The %s parameter has a value we do not understand: %q. Expected %s.", name, value, expected),
		Details: []store.FieldError{{Field: name, Message: "expected " + expected}}}
}

// Limits of the search box.
const (
	maxQueryLen   = 200
	maxQueryTerms = 10
)

// parseFilter reads the Servers list's query parameters strictly: any value
// it does not understand is an error naming the parameter, never ignored.
// The dimensions' parameters come from store.Dimensions.
func parseFilter(q url.Values) (store.Filter, error) {
	var f store.Filter
	text := strings.TrimSpace(q.Get("q"))
	if len(text) > maxQueryLen {
		return f, badParam("q", string([]rune(text)[:20])+"…", fmt.Sprintf("at most %d characters", maxQueryLen))
	}
	// Names and addresses never hold control characters or broken UTF-8.
	if !utf8.ValidString(text) || strings.ContainsFunc(text, unicode.IsControl) {
		return f, badParam("q", text, "text without control characters")
	}
	for _, term := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		if !slices.Contains(f.Q, term) {
			f.Q = append(f.Q, term)
		}
	}
	if len(f.Q) > maxQueryTerms {
		return f, badParam("q", text, fmt.Sprintf("at most %d terms", maxQueryTerms))
	}
	for _, d := range store.Dimensions {
		for _, p := range []struct {
			name string
			not  bool
		}{{d.Param, false}, {d.Not, true}} {
			if p.name == "" {
				continue
			}
			// No value of any dimension holds a comma, so a list may be
			// given in one parameter: label=env:prod,site:fra1.
			for _, v := range strings.Split(strings.Join(q[p.name], ","), ",") {
				if v = strings.TrimSpace(v); v == "" {
					continue
				}
				value, ok := d.Parse(v)
				if !ok {
					return f, badParam(p.name, v, d.Expected)
				}
				f.Add(d.Name, p.not, value)
			}
		}
	}
	if v := q.Get("sort"); v != "" {
		if !store.ValidSort(v) {
			return f, badParam("sort", v, "one of "+strings.Join(store.SortColumns, ", ")+" or label:KEY")
		}
		f.Sort = v
	}
	switch v := q.Get("order"); v {
	case "", "asc":
	case "desc":
		f.Desc = true
	default:
		return f, badParam("order", v, "asc or desc")
	}
	f.Page = 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return f, badParam("page", v, "a page number from 1")
		}
		f.Page = n
	}
	f.PerPage = 50
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPerPage {
			return f, badParam("per_page", v, fmt.Sprintf("a number from 1 to %d", store.MaxPerPage))
		}
		f.PerPage = n
	}
	if v := q.Get("blocked_days_gt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3650 {
			return f, badParam("blocked_days_gt", v, "a number of days from 0 to 3650")
		}
		f.BlockedDays, f.BlockedBefore = n, time.Now().Add(-time.Duration(n)*24*time.Hour)
	}
	f.After, f.Before = q.Get("after"), q.Get("before")
	if f.After != "" && f.Before != "" {
		return f, badParam("before", f.Before, "either after or before, not both")
	}
	return f, nil
}

// filterValues writes a filter back as query parameters, without paging.
func filterValues(f store.Filter) url.Values {
	v := url.Values{}
	if len(f.Q) > 0 {
		v.Set("q", strings.Join(f.Q, " "))
	}
	for _, d := range store.Dimensions {
		for _, val := range f.Values(d.Name, false) {
			v.Add(d.Param, val)
		}
		for _, val := range f.Values(d.Name, true) {
			v.Add(d.Not, val)
		}
	}
	if !f.BlockedBefore.IsZero() {
		v.Set("blocked_days_gt", strconv.Itoa(f.BlockedDays))
	}
	if f.Sort != "" {
		v.Set("sort", f.Sort)
	}
	if f.Desc {
		v.Set("order", "desc")
	}
	if f.PerPage != 0 && f.PerPage != 50 {
		v.Set("per_page", strconv.Itoa(f.PerPage))
	}
	return v
}

// withParams returns a copy of v with some parameters set (or removed when
// the value is "").
func withParams(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}
