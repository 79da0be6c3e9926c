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

// thousands formats a count with thin separators: 1 234 567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	out := ""
	for len(s) > 3 {
		out = "," + s[len(s)-3:] + out
		s = s[:len(s)-3]
	}
	return s + out
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%s %s", thousands(n), many)
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
