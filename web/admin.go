package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

func (s *Server) settingsForm(c echo.Context) error {
	set := s.db.Settings()
	m := views.SettingsPage{Page: s.page(c, "Settings", "admin"), LowDiskPct: strconv.FormatFloat(set.LowDiskPct, 'f', -1, 64),
		DisconnectAfter: strconv.FormatFloat(set.DisconnectAfter.Minutes(), 'f', -1, 64), WSUSAfter: strconv.FormatFloat(set.WSUSAfter.Hours(), 'f', -1, 64),
		StaleAfter: strconv.FormatFloat(set.StaleAfter.Hours(), 'f', -1, 64), DigestLead: strconv.FormatFloat(set.DigestLead.Hours(), 'f', -1, 64)}
	return render(c, http.StatusOK, views.Settings(m))
}

func (s *Server) settingsSave(c echo.Context) error {
	m := views.SettingsPage{Page: s.page(c, "Settings", "admin"), LowDiskPct: c.FormValue("low_disk_pct"),
		DisconnectAfter: c.FormValue("disconnect_after_minutes"), WSUSAfter: c.FormValue("wsus_after_hours"), StaleAfter: c.FormValue("stale_after_hours"),
		DigestLead: c.FormValue("digest_lead_hours"), Errors: map[string]string{}}
	num := func(field, v string) float64 {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			m.Errors[field] = "Give a number."
		}
		return f
	}
	set := store.Settings{LowDiskPct: num("low_disk_pct", m.LowDiskPct),
		DisconnectAfter: time.Duration(num("disconnect_after_minutes", m.DisconnectAfter) * float64(time.Minute)),
		WSUSAfter:       time.Duration(num("wsus_after_hours", m.WSUSAfter) * float64(time.Hour)),
		StaleAfter:      time.Duration(num("stale_after_hours", m.StaleAfter) * float64(time.Hour)),
		DigestLead:      time.Duration(num("digest_lead_hours", m.DigestLead) * float64(time.Hour))}
	var err error
	if len(m.Errors) == 0 {
		err = s.db.UpdateSettings(c.Request().Context(), actor(c), set)
	}
	if store.KindOf(err) == store.Invalid || len(m.Errors) > 0 {
		for k, v := range fieldErrors(err) {
			m.Errors[k] = v
		}
		m.Flash, m.FlashKind = "The settings were not saved: correct the fields marked below.", "error"
		delete(m.Errors, "_")
		return render(c, http.StatusUnprocessableEntity, views.Settings(m))
	} else if err != nil {
		return err
	}
	return redirectWithFlash(c, "/settings", "ok", "Settings saved. Every endpoint is being re-evaluated in the background.")
}

func (s *Server) usersList(c echo.Context) error { return s.renderUsers(c, http.StatusOK, nil, nil) }

func (s *Server) renderUsers(c echo.Context, status int, errs, form map[string]string) error {
	users, err := s.db.Users(c.Request().Context())
	if err != nil {
		return err
	}
	m := views.UsersPage{Page: s.page(c, "Users", "admin"), Errors: errs, Form: form}
	for _, r := range store.Roles {
		m.Roles = append(m.Roles, string(r))
	}
	for _, u := range users {
		m.Users = append(m.Users, views.UserRow{ID: u.ID, Name: u.Name, Role: string(u.Role), Disabled: u.Disabled, Created: stamp(c, u.CreatedAt)})
	}
	if msg, ok := errs["_"]; ok {
		m.Flash, m.FlashKind = msg, "error"
	}
	return render(c, status, views.Users(m))
}

func (s *Server) userCreate(c echo.Context) error {
	form := map[string]string{"name": c.FormValue("name"), "role": c.FormValue("role")}
	_, err := s.db.CreateUser(c.Request().Context(), actor(c), c.FormValue("name"), c.FormValue("password"), store.Role(c.FormValue("role")))
	if k := store.KindOf(err); k == store.Invalid || k == store.Conflict {
		return s.renderUsers(c, statusOf[k], fieldErrors(err), form)
	} else if err != nil {
		return err
	}
	return redirectWithFlash(c, "/users", "ok", "User "+form["name"]+" added.")
}

func (s *Server) userChange(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	disabled := c.FormValue("disabled") == "1"
	err = s.db.ChangeUser(c.Request().Context(), actor(c), id, store.UserChange{Role: store.Role(c.FormValue("role")),
		Password: c.FormValue("password"), Disabled: &disabled})
	if k := store.KindOf(err); k == store.Invalid || k == store.Conflict {
		return s.renderUsers(c, statusOf[k], fieldErrors(err), nil)
	} else if err != nil {
		return err
	}
	return redirectWithFlash(c, "/users", "ok", "User saved.")
}

func (s *Server) tokensList(c echo.Context) error {
	name, secret, err := s.takeReveal(c)
	if err != nil {
		return err
	}
	return s.renderTokens(c, http.StatusOK, name, secret, nil)
}

// takeReveal takes out a secret kept for the page the browser was sent to
// after creating it: it is shown once.
func (s *Server) takeReveal(c echo.Context) (name, secret string, err error) {
	sess := session(c)
	key, _ := sess.Values["reveal"].(string)
	if key == "" {
		return "", "", nil
	}
	delete(sess.Values, "reveal")
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return "", "", err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	name, secret, _ = s.reveals.take(key, time.Now())
	return name, secret, nil
}

func (s *Server) renderTokens(c echo.Context, status int, name, secret string, errs map[string]string) error {
	tokens, err := s.db.Tokens(c.Request().Context())
	if err != nil {
		return err
	}
	m := views.TokensPage{Page: s.page(c, "API tokens", "admin"), NewName: name, NewSecret: secret, Errors: errs}
	for _, t := range tokens {
		row := views.TokenRow{ID: t.ID, Name: t.Name, Role: string(t.Role), CreatedBy: t.CreatedBy, Created: stamp(c, t.CreatedAt), LastUsed: "never", Revoked: t.RevokedAt != nil}
		if t.LastUsedAt != nil {
			row.LastUsed = stamp(c, *t.LastUsedAt)
		}
		m.Tokens = append(m.Tokens, row)
	}
	return render(c, status, views.Tokens(m))
}

func (s *Server) tokenCreate(c echo.Context) error {
	name := c.FormValue("name")
	role := store.Role(c.FormValue("role"))
	if role == "" {
		role = store.Reporter
	}
	secret, err := s.db.CreateTokenWithRole(c.Request().Context(), actor(c), name, role)
	if k := store.KindOf(err); k == store.Invalid || k == store.Conflict {
		return s.renderTokens(c, statusOf[k], "", "", fieldErrors(err))
	} else if err != nil {
		return err
	}
	// The secret is shown once, on the page this redirects to; reloading
	// that page neither shows it again nor creates another token.
	sess := session(c)
	sess.Values["reveal"] = s.reveals.put(name, secret, time.Now())
	return redirectWithFlash(c, "/tokens", "ok", "Token created.")
}

func (s *Server) tokenRevoke(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		tokens, err := s.db.Tokens(c.Request().Context())
		if err != nil {
			return err
		}
		name := ""
		for _, t := range tokens {
			if t.ID == id {
				name = t.Name
			}
		}
		if name == "" {
			return &store.Error{Kind: store.NotFound, Message: "There is no such token."}
		}
		return s.confirm(c, views.ConfirmPage{Heading: "Revoke the token “" + name + "”?", Count: -1,
			Consequences: []string{"Every program using this token is refused from now on, with 401 Unauthorized.",
				"A revoked token cannot be restored: its programs need a new token."},
			Action: "/tokens/" + strconv.FormatInt(id, 10) + "/revoke", Button: "Revoke " + name, Danger: true, BackURL: "/tokens"})
	}
	if err := s.db.RevokeToken(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirectWithFlash(c, "/tokens", "ok", "Token revoked.")
}

// sourcesList shows every source of facts, silent ones first.
func (s *Server) sourcesList(c echo.Context) error {
	all, err := s.db.Sources(c.Request().Context())
	if err != nil {
		return err
	}
	now := time.Now()
	m := views.SourcesPage{Page: s.page(c, "Sources", "admin"), Threshold: span(s.db.Settings().StaleAfter)}
	for _, src := range all {
		m.Sources = append(m.Sources, views.SourceRow{Name: src.Name, Kind: src.Kind, Silent: src.Silent, SilentFor: span(src.SilentFor),
			LastReport: stamp(c, src.LastReport) + " (" + ago(src.LastReport, now) + ")", FirstReport: stamp(c, src.FirstReport),
			Endpoints: src.Endpoints, Reports: src.Reports})
	}
	return render(c, http.StatusOK, views.Sources(m))
}
