package store

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Kind classifies an error for the people and programs that see it; web/
// maps each kind to one HTTP status.
type Kind int

const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Unavailable // the server cannot write now (disk full); try later
	Forbidden   // the user's role or ownership does not allow it
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

// ErrDiskFull is what a write meets when the disk (or the database's size
// limit) is full: nothing was written, and the admin must make room.
var ErrDiskFull = &Error{Kind: Unavailable, Message: "The server's disk is full, so nothing was saved. Ask an administrator to free space, then try again."}

// classify turns SQLite's errors that a person can act on into the app's.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return ErrDiskFull
	}
	return err
}
