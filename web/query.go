package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
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

// parseFilter reads the Servers list's query parameters strictly: any value
// it does not understand is an error naming the parameter, never ignored.
func parseFilter(q url.Values) (store.Filter, error) {
	var f store.Filter
	f.Q = strings.TrimSpace(q.Get("q"))
	if len(f.Q) > 200 {
		return f, badParam("q", string([]rune(f.Q)[:20])+"…", "at most 200 characters")
	}
	// SQLite would end the pattern at a NUL and list every endpoint; names
	// and addresses never hold control characters or broken UTF-8.
	if !utf8.ValidString(f.Q) || strings.ContainsFunc(f.Q, unicode.IsControl) {
		return f, badParam("q", f.Q, "text without control characters")
	}
	for _, v := range q["exemption"] {
		if v == "" {
			continue
		}
		c := store.Code(v)
		if e, ok := store.Lookup(c); !ok || e.Warning {
			return f, badParam("exemption", v, "an exemption code such as powered-off (see /kb)")
		}
		if !slices.Contains(f.Exemptions, c) {
			f.Exemptions = append(f.Exemptions, c)
		}
	}
	if v := q.Get("impact"); v != "" {
		i, ok := store.ParseImpact(v)
		if !ok {
			return f, badParam("impact", v, "cannot-patch, temporarily-cannot-patch or patchable")
		}
		f.Impact = &i
	}
	switch v := q.Get("warning"); v {
	case "":
	case string(store.LowDiskSpace):
		f.LowDisk = true
	default:
		return f, badParam("warning", v, "low-disk-space")
	}
	if v := q.Get("os"); v != "" {
		if !slices.Contains(store.OSFamilies, v) {
			return f, badParam("os", v, "linux or windows")
		}
		f.OS = v
	}
	if v := q.Get("protocol"); v != "" {
		if !slices.Contains(store.Protocols, v) {
			return f, badParam("protocol", v, "ssh, smb or web")
		}
		f.Protocol = v
	}
	if v := q.Get("schedule"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if v == "none" {
			id, err = 0, nil
		}
		if err != nil || id < 0 {
			return f, badParam("schedule", v, "a schedule id or none")
		}
		f.Schedule = &id
	}
	if v := q.Get("sort"); v != "" {
		if !slices.Contains(store.SortKeys(), v) {
			return f, badParam("sort", v, "one of "+strings.Join(store.SortKeys(), ", "))
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
	f.After, f.Before = q.Get("after"), q.Get("before")
	if f.After != "" && f.Before != "" {
		return f, badParam("before", f.Before, "either after or before, not both")
	}
	if (f.After != "" || f.Before != "") && f.Sort != "" && f.Sort != "name" {
		return f, badParam("after", f.After+f.Before, "a cursor only with the name order; use page for other orders")
	}
	return f, nil
}

// filterValues writes a filter back as query parameters, without paging.
func filterValues(f store.Filter) url.Values {
	v := url.Values{}
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	for _, c := range f.Exemptions {
		v.Add("exemption", string(c))
	}
	if f.Impact != nil {
		v.Set("impact", f.Impact.String())
	}
	if f.LowDisk {
		v.Set("warning", string(store.LowDiskSpace))
	}
	if f.OS != "" {
		v.Set("os", f.OS)
	}
	if f.Protocol != "" {
		v.Set("protocol", f.Protocol)
	}
	if f.Schedule != nil {
		if *f.Schedule == 0 {
			v.Set("schedule", "none")
		} else {
			v.Set("schedule", strconv.FormatInt(*f.Schedule, 10))
		}
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
