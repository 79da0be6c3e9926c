// Package store is patchready's domain model and its persistence in SQLite:
// the exemption catalog, the readiness rules (pure, in rules.go) and the queries.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"patchready/migrations"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// DB is the database: one writer connection, so writes never wait on each
// other inside SQLite, and a pool of readers that WAL lets run alongside it.
type DB struct {
	w, r *sql.DB
	path string
	// Now is the clock of every rule and timestamp; tests replace it.
	Now func() time.Time

	mu        sync.RWMutex // guards settings and the schedule cache
	settings  Settings
	schedules *scheduleCache

	// writeMu makes the one writer one at a time from commit to the read
	// model's update, so the model sees writes in commit order.
	writeMu sync.Mutex
	// list is the Servers list's read model (list.go).
	list *listIndex

	// fullPass is set when every endpoint needs re-evaluating (a threshold
	// changed); the next Tick does it.
	fullPass atomic.Bool
	// wantImpactChanges: a webhook listens for impact-changed, so writes
	// record each change of impact (see webhooks.go).
	wantImpactChanges atomic.Bool
	// plans are the schedules' plans for the rules, kept between writes
	// until a schedule changes (see txn.plan).
	plans atomic.Pointer[map[int64]Plan]

	// stmts keeps prepared reader statements by their SQL (see query).
	stmts  sync.Map // string → *sql.Stmt
	nstmts atomic.Int32

	// usage holds last-use times written in the background (usage.go).
	usage        *usage
	stopUsage    context.CancelFunc
	usageStopped chan struct{}
}

// maxStmts bounds the statement cache: the list's query shapes (filters
// present × sort × cursor) are a few hundred at most.
const maxStmts = 512

// query runs a read on the reader pool through a statement prepared once
// per connection and kept by its text: modernc otherwise compiles the SQL
// on every call, about a tenth of a Servers page's time. Only for SQL whose
// text does not carry values (those go in args).
func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := db.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.r.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for a single row.
func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st, err := db.stmt(ctx, q); err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, q, args...)
}

// stmt is the cached statement for q, or nil once the cache is full.
func (db *DB) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	if db.nstmts.Load() >= maxStmts {
		return nil, nil
	}
	st, err := db.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	db.nstmts.Add(1)
	return st, nil
}

// Open opens (creating if needed) the database at path and migrates it.
// The database and its WAL hold password hashes and the session key, so the
// files are readable by their owner only, and a folder made for them too.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
	// busy_timeout comes first so that the pragmas after it wait for locks
	// too; every pooled connection runs these as it opens. The page cache
	// is per connection and outside Go's heap: 8 MiB for the writer, 1 MiB
	// for each reader (the list is read from memory, not from here; an
	// endpoint page or an export reads a few rows by id, and the operating
	// system caches the file).
	dsn := func(cacheKiB int, extra string) string {
		v := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)",
			fmt.Sprintf("cache_size(-%d)", cacheKiB), "temp_store(MEMORY)"} {
			v.Add("_pragma", p)
		}
		return "file:" + path + "?" + v.Encode() + extra
	}
	w, err := sql.Open("sqlite", dsn(8192, "&_txlock=immediate"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", dsn(1024, "&mode=ro"))
	if err != nil {
		w.Close()
		return nil, err
	}
	// More readers than cores only adds memory: queries are CPU-bound.
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	db := &DB{w: w, r: r, path: path, Now: time.Now, usage: newUsage(), usageStopped: make(chan struct{}), list: newListIndex()}
	var bg context.Context
	bg, db.stopUsage = context.WithCancel(context.Background())
	go db.recordUsage(bg, db.usageStopped)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.loadHookEvents(ctx)
	if err := db.loadSettings(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// readers is the size of the reader pool.
const readers = 4

// renewReaders closes the idle reader connections; the pool opens new ones
// as they are needed (and prepares the cached statements on them again).
func (db *DB) renewReaders() {
	db.r.SetMaxIdleConns(0)
	db.r.SetMaxIdleConns(readers)
}

// ownerOnly creates the database file readable by its owner only, and
// tightens an existing one and its WAL files. SQLite creates the -wal and
// -shm files with the mode of the database file.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Close writes the pending uses and closes both pools.
func (db *DB) Close() error {
	db.stopUsage()
	<-db.usageStopped
	db.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return errors.Join(db.r.Close(), db.w.Close())
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// now is the injected clock truncated to what the database stores.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Second) }

// migrate applies, in order and one transaction each, the migrations not yet
// recorded in schema_version.
func (db *DB) migrate(ctx context.Context) error {
	// What is applied is read first, without the write lock: a database
	// that is up to date (a backup, a user command beside a running server
	// under a steady feed) is opened without queueing for the writer.
	applied := map[int]bool{}
	var tables int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&tables); err != nil {
		return fmt.Errorf("read schema_version: %w", err)
	}
	if tables > 0 {
		rows, err := db.w.QueryContext(ctx, `SELECT version FROM schema_version`)
		if err != nil {
			return fmt.Errorf("read schema_version: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("read schema_version: %w", err)
			}
			applied[v] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read schema_version: %w", err)
		}
	}
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", name)
		}
		if applied[version] {
			continue
		}
		body, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			return err
		}
		err = db.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_version (
				version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
				return fmt.Errorf("create schema_version: %w", err)
			}
			// Another process may have applied it since it was read.
			var n int
			if err := tx.QueryRow(`SELECT count(*) FROM schema_version WHERE version = ?`, version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.Exec(string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			_, err := tx.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`, version, name, db.now().Unix())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the highest migration applied.
// Migrations is how many migrations this build has: the schema version of
// an up-to-date database.
func Migrations() int {
	names, _ := fs.Glob(migrations.FS, "*.sql")
	return len(names)
}

func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}

// write runs fn in a transaction on the writer connection.
func (db *DB) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return classify(err)
	}
	return classify(tx.Commit())
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var n int
	return db.r.QueryRowContext(ctx, `SELECT 1`).Scan(&n)
}

// Backup writes a consistent copy of the live database to file, readable
// by its owner only. VACUUM INTO accepts an empty file, so the file is
// created first with that mode; it must not exist yet.
func (db *DB) Backup(ctx context.Context, file string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; choose a new file name", file)
	} else if err != nil {
		return err
	}
	f.Close()
	if _, err := db.w.ExecContext(ctx, `VACUUM INTO ?`, file); err != nil {
		os.Remove(file)
		return classify(err)
	}
	return nil
}

// Setting keys.
const (
	keyLowDisk     = "low_disk_pct"
	keyDisconnect  = "disconnect_after_minutes"
	keyWSUS        = "wsus_after_hours"
	keyStale       = "stale_after_hours"
	keyDigestLead  = "digest_lead_hours"
	keySessionKey  = "session_key"
	keyDataVersion = "data_version"
)

func (db *DB) loadSettings(ctx context.Context) error {
	s := DefaultSettings
	rows, err := db.r.QueryContext(ctx, `SELECT key, value FROM settings WHERE key IN (?, ?, ?, ?, ?)`, keyLowDisk, keyDisconnect, keyWSUS, keyStale, keyDigestLead)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("setting %s: %w", k, err)
		}
		switch k {
		case keyLowDisk:
			s.LowDiskPct = f
		case keyDisconnect:
			s.DisconnectAfter = time.Duration(f * float64(time.Minute))
		case keyWSUS:
			s.WSUSAfter = time.Duration(f * float64(time.Hour))
		case keyStale:
			s.StaleAfter = time.Duration(f * float64(time.Hour))
		case keyDigestLead:
			s.DigestLead = time.Duration(f * float64(time.Hour))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	db.mu.Lock()
	db.settings = s
	db.mu.Unlock()
	return nil
}

// Settings returns the thresholds in force.
func (db *DB) Settings() Settings {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.settings
}

// SessionKey returns the session secret kept in the database, creating
// it on first use, so that sessions survive restarts without configuration.
func (db *DB) SessionKey(ctx context.Context, generate func() string) (string, error) {
	var key string
	err := db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRow(`SELECT value FROM settings WHERE key = ?`, keySessionKey).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			key = generate()
			_, err = tx.Exec(`INSERT INTO settings (key, value) VALUES (?, ?)`, keySessionKey, key)
		}
		return err
	})
	return key, err
}
