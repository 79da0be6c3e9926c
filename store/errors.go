package store

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the people and programs that see it; web/
// maps each kind to one HTTP status.
type Kind int

const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
)

// Error is an error the user can act on: its message is safe to show.
type Error struct {
	Kind    Kind
	Message string
	Details []FieldError
}

func (e *Error) Error() string { return e.Message }

func errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err; Internal for anything not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
