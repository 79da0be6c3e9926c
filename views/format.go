package views

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

func statusText(status int) string {
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Thousands writes a count with commas: 1,234,567.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	return s + out
}

// Plural is a count with its noun: "1 endpoint", "1,204 endpoints".
func Plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%s %s", Thousands(n), many)
}

func joinNames(names []string) string { return strings.Join(names, ", ") }

// The views' own short names.
var thousands, plural = Thousands, Plural
