package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Restore puts a backup (made by Backup, or a copy of a database) in place
// of the database at target. The backup is checked first: it must be a
// sound SQLite database (integrity_check) of patchready no newer than this
// build. A database a server is using is never overwritten, and an existing
// one only when overwrite is set. The copy is written beside the target,
// flushed to disk and renamed over it, so a failure leaves the old one.
func Restore(ctx context.Context, backup, target string, overwrite bool) error {
	if err := checkBackup(ctx, backup); err != nil {
		return err
	}
	release, err := LockServer(target)
	if err != nil {
		return err // ErrInUse: a server is serving it
	}
	defer release()
	if _, err := os.Stat(target); err == nil && !overwrite {
		return fmt.Errorf("%s exists; add --force to replace it with the backup (no server is using it)", target)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp := target + ".restoring"
	if err := copyFile(backup, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	// The old database's write-ahead log belongs to it, not to the backup.
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.Remove(target + side); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(tmp)
			return err
		}
	}
	return os.Rename(tmp, target)
}

// checkBackup opens a backup read-only and checks it.
func checkBackup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil {
		return fmt.Errorf("%s is not a SQLite database: %v", path, err)
	}
	if check != "ok" {
		return fmt.Errorf("%s is damaged (integrity check: %s); use another backup", path, check)
	}
	var version int
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_version`).Scan(&version); err != nil {
		return fmt.Errorf("%s is not a patchready database", path)
	}
	if version > Migrations() {
		return fmt.Errorf("%s was made by a newer patchready (schema %d, this one knows %d); restore it with that version", path, version, Migrations())
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
