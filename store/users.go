package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a user may do; each role includes the ones before it.
type Role string

const (
	Viewer   Role = "viewer"   // reads everything
	Operator Role = "operator" // also runs remediation actions and edits schedules
	Admin    Role = "admin"    // also manages users, tokens and settings
)

// Reporter is a token's role only: it reads and reports facts.
const Reporter Role = "reporter"

// Roles lists the roles, least first.
var Roles = []Role{Viewer, Operator, Admin}

// TokenRoles lists an API token's roles, least first.
var TokenRoles = []Role{Viewer, Reporter, Operator, Admin}

// TokenAllows tells whether a token of role r may do what need allows.
func (r Role) TokenAllows(need Role) bool {
	return slices.Index(TokenRoles, r) >= slices.Index(TokenRoles, need) && slices.Index(TokenRoles, need) >= 0
}

// Allows tells whether r includes need.
func (r Role) Allows(need Role) bool { return r.rank() >= need.rank() }

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i
		}
	}
	return -1
}

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.rank() >= 0 {
		return r, nil
	}
	return "", &Error{Kind: Invalid, Message: fmt.Sprintf("role must be viewer, operator or admin, not %q", s), Details: []FieldError{{Field: "role", Message: "Choose viewer, operator or admin."}}}
}

// User is a person who signs in.
type User struct {
	ID        int64
	Name      string
	Role      Role
	Disabled  bool
	Columns   []string // Table Settings; nil = defaults
	Timezone  string   // IANA zone every time is shown in; "" until first set
	CreatedAt time.Time
}

var userName = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

func checkPassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > 72 {
		return &Error{Kind: Invalid, Message: fmt.Sprintf("the password must be %d to 72 characters long", MinPasswordLen), Details: []FieldError{{Field: "password", Message: fmt.Sprintf("A password is %d to 72 characters long.", MinPasswordLen)}}}
	}
	return nil
}

// CreateUser adds a user with a bcrypt-hashed password.
func (db *DB) CreateUser(ctx context.Context, actor, name, password string, role Role) (int64, error) {
	name = strings.TrimSpace(name)
	if !userName.MatchString(name) {
		return 0, &Error{Kind: Invalid, Message: "a user name is 1 to 64 letters, digits or . _ @ -", Details: []FieldError{{Field: "name", Message: "A user name is 1 to 64 letters, digits or . _ @ -."}}}
	}
	if _, err := ParseRole(string(role)); err != nil {
		return 0, err
	}
	if err := checkPassword(password); err != nil {
		return 0, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return 0, err
	}
	var id int64
	err = db.update(ctx, func(t *txn) error {
		err := t.QueryRow(`INSERT INTO users (name, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			name, string(hash), role, t.now.Unix()).Scan(&id)
		if err != nil {
			return uniqueName(err, "user", name)
		}
		return t.audit(actor, "user.create", fmt.Sprintf("created user %s (%s)", name, role), nil)
	})
	return id, err
}

// HasUsers tells whether any user exists (a new database has none).
func (db *DB) HasUsers(ctx context.Context) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1)`).Scan(&n)
	return n > 0, err
}

// ErrBadLogin is the one answer to any failed sign-in, so that it does not
// tell which user names exist.
var ErrBadLogin = &Error{Kind: Invalid, Message: "wrong user name or password"}

// dummyHash keeps a failed lookup as slow as a failed password check.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("patchready-timing-equaliser"), bcrypt.DefaultCost)

// Authenticate checks a user's password.
func (db *DB) Authenticate(ctx context.Context, name, password string) (*User, error) {
	var hash string
	u, err := db.userWhere(ctx, `name = ?`, name, &hash)
	if err != nil {
		if KindOf(err) == NotFound {
			bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
			return nil, ErrBadLogin
		}
		return nil, err
	}
	if hash == ssoPassword { // signs in through the identity provider only
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrSSOOnly
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || u.Disabled {
		return nil, ErrBadLogin
	}
	return u, nil
}

// ssoPassword is the password hash of users who sign in by SSO: no
// password matches it.
const ssoPassword = "!sso"

// ErrSSOOnly is a password sign-in by a user of the identity provider.
var ErrSSOOnly = errors.New("this user signs in with SSO")

// SSOUser finds or creates the user an identity provider vouches for, by
// issuer and subject, and gives it the role its groups map to. A local
// user of the same name is never taken over.
func (db *DB) SSOUser(ctx context.Context, subject, name string, role Role) (*User, error) {
	name = strings.TrimSpace(name)
	if !userName.MatchString(name) {
		return nil, errorf(Invalid, "the identity provider's user name %q is not a patchready user name (1 to 64 letters, digits or . _ @ -)", name)
	}
	var id int64
	err := db.update(ctx, func(t *txn) error {
		var oldRole Role
		var disabled bool
		err := t.QueryRow(`SELECT id, role, disabled FROM users WHERE sso_subject = ?`, subject).Scan(&id, &oldRole, &disabled)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			var exists bool
			if err := t.QueryRow(`SELECT EXISTS (SELECT 1 FROM users WHERE name = ?)`, name).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return errorf(Conflict, "a local user is named %s already; an admin must rename or remove it before %s can sign in with SSO", name, name)
			}
			if err := t.QueryRow(`INSERT INTO users (name, password_hash, role, created_at, sso_subject) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				name, ssoPassword, role, t.now.Unix(), subject).Scan(&id); err != nil {
				if strings.Contains(err.Error(), "UNIQUE") {
					// Two first sign-ins at once: the other made the user.
					return errorf(Conflict, "%s is signing in from another window at this moment; try again", name)
				}
				return err
			}
			return t.audit("sso", "user.create", fmt.Sprintf("created user %s (%s) at their first SSO sign-in", name, role), nil)
		case err != nil:
			return err
		case disabled:
			return errorf(Forbidden, "the user %s is disabled here", name)
		case oldRole != role:
			if _, err := t.Exec(`UPDATE users SET role = ? WHERE id = ?`, role, id); err != nil {
				return err
			}
			if _, err := t.Exec(`DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
			return t.audit("sso", "user.change", fmt.Sprintf("%s: role %s → %s from the identity provider's groups", name, oldRole, role), nil)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.User(ctx, id)
}

// User returns a user by id.
func (db *DB) User(ctx context.Context, id int64) (*User, error) {
	var hash string
	return db.userWhere(ctx, `id = ?`, id, &hash)
}

func (db *DB) userWhere(ctx context.Context, cond string, arg any, hash *string) (*User, error) {
	u := &User{}
	var cols *string
	var created int64
	err := db.queryRow(ctx, `SELECT id, name, role, disabled, columns, timezone, created_at, password_hash FROM users WHERE `+cond, arg).
		Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &cols, &u.Timezone, &created, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(NotFound, "no such user")
	} else if err != nil {
		return nil, err
	}
	if cols != nil {
		u.Columns = strings.Split(*cols, ",")
		if *cols == "" {
			u.Columns = []string{}
		}
	}
	u.CreatedAt = time.Unix(created, 0).UTC()
	return u, nil
}

// UserByName is the user of that name (any case).
func (db *DB) UserByName(ctx context.Context, name string) (*User, error) {
	var hash string
	return db.userWhere(ctx, `name = ?`, name, &hash)
}

// Users lists every user.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, name, role, disabled, created_at FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.ID, &u.Name, &u.Role, &u.Disabled, &created); err != nil {
			return nil, err
		}
		u.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserChange is one administrative change to a user; empty fields are left.
type UserChange struct {
	Role     Role
	Password string
	Disabled *bool
}

// ChangeUser changes a user's role, password or disabled flag.
func (db *DB) ChangeUser(ctx context.Context, actor string, id int64, ch UserChange) error {
	var hash []byte
	if ch.Password != "" {
		if err := checkPassword(ch.Password); err != nil {
			return err
		}
		var err error
		if hash, err = bcrypt.GenerateFromPassword([]byte(ch.Password), bcrypt.DefaultCost); err != nil {
			return err
		}
	}
	if ch.Role != "" {
		if _, err := ParseRole(string(ch.Role)); err != nil {
			return err
		}
	}
	return db.update(ctx, func(t *txn) error {
		var name string
		var role Role
		var disabled bool
		if err := t.QueryRow(`SELECT name, role, disabled FROM users WHERE id = ?`, id).Scan(&name, &role, &disabled); errors.Is(err, sql.ErrNoRows) {
			return errorf(NotFound, "user %d does not exist", id)
		} else if err != nil {
			return err
		}
		var what []string
		if ch.Role != "" && ch.Role != role {
			if _, err := t.Exec(`UPDATE users SET role = ? WHERE id = ?`, ch.Role, id); err != nil {
				return err
			}
			what = append(what, fmt.Sprintf("role %s → %s", role, ch.Role))
		}
		if hash != nil {
			if _, err := t.Exec(`UPDATE users SET password_hash = ? WHERE id = ?`, string(hash), id); err != nil {
				return err
			}
			what = append(what, "password reset")
		}
		if ch.Disabled != nil && *ch.Disabled != disabled {
			if _, err := t.Exec(`UPDATE users SET disabled = ? WHERE id = ?`, *ch.Disabled, id); err != nil {
				return err
			}
			what = append(what, fmt.Sprintf("disabled = %v", *ch.Disabled))
		}
		if err := t.keepAnAdmin(); err != nil {
			return err
		}
		if len(what) == 0 {
			return nil
		}
		// Whatever changed, the user's sessions end with it: a new role or
		// password takes effect at once, and a disabled user is signed out.
		if _, err := t.Exec(`DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return err
		}
		return t.audit(actor, "user.change", "user "+name+": "+strings.Join(what, ", "), nil)
	})
}

// keepAnAdmin refuses a change that would leave nobody able to administer.
func (t *txn) keepAnAdmin() error {
	var n int
	if err := t.QueryRow(`SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errorf(Conflict, "this would leave no active admin")
	}
	return nil
}

// SetColumns keeps a user's Table Settings.
func (db *DB) SetColumns(ctx context.Context, userID int64, cols []string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE users SET columns = ? WHERE id = ?`, strings.Join(cols, ","), userID)
	return err
}

// SetTimezone keeps the zone a user sees times in: an IANA name such as
// Europe/Berlin, or UTC.
func (db *DB) SetTimezone(ctx context.Context, userID int64, zone string) error {
	if _, err := LoadZone(zone); err != nil {
		return err
	}
	_, err := db.w.ExecContext(ctx, `UPDATE users SET timezone = ? WHERE id = ?`, zone, userID)
	return err
}

// LoadZone reads an IANA time zone name, refusing "" and "Local" (the
// server's zone means nothing to a user elsewhere).
func LoadZone(zone string) (*time.Location, error) {
	if zone == "" || zone == "Local" || len(zone) > 64 {
		return nil, &Error{Kind: Invalid, Message: fmt.Sprintf("%q is not a time zone; give an IANA name such as Europe/Berlin or UTC", zone),
			Details: []FieldError{{Field: "timezone", Message: "Give a time zone name such as Europe/Berlin."}}}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, &Error{Kind: Invalid, Message: fmt.Sprintf("%q is not a time zone we know; give an IANA name such as Europe/Berlin or UTC", zone),
			Details: []FieldError{{Field: "timezone", Message: "We do not know this time zone; give an IANA name such as Europe/Berlin."}}}
	}
	return loc, nil
}

// ChangeOwnPassword changes a user's password after checking the current
// one, and ends every session of the user but keep (the one in use).
func (db *DB) ChangeOwnPassword(ctx context.Context, userID int64, current, password, keep string) error {
	var hash string
	u, err := db.userWhere(ctx, `id = ?`, userID, &hash)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(current)) != nil {
		return &Error{Kind: Invalid, Message: "the current password is wrong", Details: []FieldError{{Field: "current", Message: "The current password is wrong."}}}
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	newHash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return db.update(ctx, func(t *txn) error {
		if _, err := t.Exec(`UPDATE users SET password_hash = ? WHERE id = ?`, string(newHash), userID); err != nil {
			return err
		}
		if _, err := t.Exec(`DELETE FROM sessions WHERE user_id = ? AND id_hash != ?`, userID, sessionHash(keep)); err != nil {
			return err
		}
		return t.audit(u.Name, "user.password", "changed own password; other sessions ended", nil)
	})
}
