package store

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Labels organise a fleet: "env:prod", "site:fra1", "legacy". A label is a
// key, or a key and a value after the first colon. The key is 1–64 of
// a-z 0-9 _ . - (folded to lower case); the value 1–128 printable
// characters without a comma.
var labelKey = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

// MaxLabels bounds the labels of one endpoint, from each side.
const MaxLabels = 50

// ParseLabel checks one label and returns it normalised (key folded).
func ParseLabel(s string) (string, error) {
	s = strings.TrimSpace(s)
	key, value, hasValue := strings.Cut(s, ":")
	key = strings.ToLower(key)
	if !labelKey.MatchString(key) {
		return "", fmt.Errorf("%q: a label's key is 1 to 64 of a-z, 0-9, _ . -", s)
	}
	if !hasValue {
		return key, nil
	}
	if len(value) < 1 || len(value) > 128 || strings.Contains(value, ",") ||
		strings.ContainsFunc(value, func(r rune) bool { return !unicode.IsPrint(r) }) || hiddenChars(value) {
		return "", fmt.Errorf("%q: a label's value is 1 to 128 printable characters without a comma", s)
	}
	return key + ":" + value, nil
}

// ParseLabels checks a list of labels: each valid, at most MaxLabels, and
// returns them normalised, sorted and without repeats.
func ParseLabels(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		l, err := ParseLabel(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxLabels {
		return nil, fmt.Errorf("%d labels: at most %d", len(out), MaxLabels)
	}
	return out, nil
}

// ParseLabelFilter reads a label filter: "key:value" exactly, "key:*" any
// value of key, or "key" the bare label.
func ParseLabelFilter(s string) (string, bool) {
	if key, ok := strings.CutSuffix(s, ":*"); ok {
		k := strings.ToLower(key)
		return k + ":*", labelKey.MatchString(k)
	}
	l, err := ParseLabel(s)
	return l, err == nil
}

// unionLabels is the labels filters match: the sources' and the operators'.
func unionLabels(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// ChangeLabels adds and removes operators' labels on the target's
// endpoints. The sources' labels are facts: a source that stops sending
// one removes it; here only the operators' own are removed.
func (db *DB) ChangeLabels(ctx context.Context, actor string, tg Target, add, remove []string) (ActionResult, error) {
	add, err := ParseLabels(add)
	if err != nil {
		return ActionResult{}, &Error{Kind: Invalid, Message: "add: " + err.Error(), Details: []FieldError{{Field: "add", Message: err.Error()}}}
	}
	remove, err = ParseLabels(remove)
	if err != nil {
		return ActionResult{}, &Error{Kind: Invalid, Message: "remove: " + err.Error(), Details: []FieldError{{Field: "remove", Message: err.Error()}}}
	}
	if len(add) == 0 && len(remove) == 0 {
		return ActionResult{}, &Error{Kind: Invalid, Message: "give at least one label to add or remove", Details: []FieldError{{Field: "add", Message: "Give at least one label to add or remove."}}}
	}
	describe := "labels"
	if len(add) > 0 {
		describe += " +" + strings.Join(add, " +")
	}
	if len(remove) > 0 {
		describe += " −" + strings.Join(remove, " −")
	}
	return db.act(ctx, actor, "labels", "labels", tg, describe, func(t *txn, c *current) (string, string, error) {
		next := slices.DeleteFunc(unionLabels(c.manual, add), func(l string) bool { return slices.Contains(remove, l) })
		if slices.Equal(next, c.manual) { // nil and empty are equal
			return "", "", nil
		}
		if len(next) > MaxLabels {
			return "", "", &Error{Kind: Invalid, Message: fmt.Sprintf("%s would have %d labels of its own; at most %d", c.facts.Name, len(next), MaxLabels)}
		}
		before, after := strings.Join(c.manual, ", "), strings.Join(next, ", ")
		_, err := t.Exec(`UPDATE endpoints SET manual_labels = ? WHERE id = ?`, labelsArg(next), c.id)
		c.manual = next
		return "labels " + cmp.Or(before, "none"), "labels " + cmp.Or(after, "none"), err
	})
}
