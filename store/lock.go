package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrInUse means another server already serves the database.
var ErrInUse = errors.New("database in use")

// LockServer makes sure one server at a time serves the database at path:
// two would each keep their own settings and caches in memory and drift
// apart. The lock is held on path+".lock" until release is called or the
// process ends (the operating system drops it then, even after kill -9).
// The file holds the holder's process id, for the message.
func LockServer(path string) (release func(), err error) {
	// The lock comes before the database is opened, so it may be the first
	// to need the data folder (a fresh `make run`).
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create database folder: %w", err)
	}
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		b, _ := os.ReadFile(name)
		f.Close()
		holder := strings.TrimSpace(string(b))
		if _, perr := strconv.Atoi(holder); perr != nil {
			holder = "unknown"
		}
		return nil, fmt.Errorf("%w: another patchready server (process %s) is serving %s; stop it first, or give this one its own --db", ErrInUse, holder, path)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { unlockFile(f); f.Close() }, nil
}
