package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"patchready/store"
)

// OIDCConfig is single sign-on with an OpenID Connect provider.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret string
	RedirectURL                    string // …/auth/oidc/callback
	RoleClaim                      string // the claim holding the groups (default "groups")
	AdminGroups, OperatorGroups    []string
}

// sso is the provider, found by discovery at the first sign-in (so that
// the dashboard starts while the provider is down) and then kept.
type sso struct {
	cfg      OIDCConfig
	mu       sync.Mutex
	provider *oidc.Provider
}

func (o *sso) oauth(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
		if err != nil {
			return nil, nil, err
		}
		o.provider = p
	}
	return o.provider, &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: o.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email", "groups"}}, nil
}

// role maps the groups claim to a role: admin, operator, else viewer.
func (o *sso) role(groups []string) store.Role {
	in := func(list []string) bool {
		return slices.ContainsFunc(groups, func(g string) bool { return slices.Contains(list, g) })
	}
	switch {
	case in(o.cfg.AdminGroups):
		return store.Admin
	case in(o.cfg.OperatorGroups):
		return store.Operator
	}
	return store.Viewer
}

// oidcLogin sends the browser to the provider: authorization code with
// PKCE, a state against forged callbacks, a nonce against replayed tokens.
func (s *Server) oidcLogin(c echo.Context) error {
	_, conf, err := s.sso.oauth(c.Request().Context())
	if err != nil {
		s.log.Error("SSO provider", "err", err)
		return echo.NewHTTPError(http.StatusBadGateway, "The identity provider cannot be reached; try again, or sign in with a password if you have one.")
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	sess := session(c)
	sess.Values["oidc_state"], sess.Values["oidc_nonce"], sess.Values["oidc_verifier"] = state, nonce, verifier
	sess.Values["oidc_next"] = safeNext(c.QueryParam("next"))
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// oidcCallback finishes a sign-in: the state must be this browser's, the
// ID token valid (issuer, audience, expiry, signature) and carry the
// nonce; then the user is created or updated and a session begins.
func (s *Server) oidcCallback(c echo.Context) error {
	ctx := c.Request().Context()
	sess := session(c)
	state, _ := sess.Values["oidc_state"].(string)
	nonce, _ := sess.Values["oidc_nonce"].(string)
	verifier, _ := sess.Values["oidc_verifier"].(string)
	next, _ := sess.Values["oidc_next"].(string)
	for _, k := range []string{"oidc_state", "oidc_nonce", "oidc_verifier", "oidc_next"} {
		delete(sess.Values, k) // each sign-in's values are used once
	}
	sess.Save(c.Request(), c.Response())
	refuse := func(why string) error {
		s.log.Warn("SSO sign-in refused", "reason", why, "addr", c.RealIP())
		return echo.NewHTTPError(http.StatusUnauthorized, "The sign-in was refused: "+why+". Start again from the sign-in page.")
	}
	if e := c.QueryParam("error"); e != "" {
		return refuse("the identity provider said " + e + " " + c.QueryParam("error_description"))
	}
	if state == "" || c.QueryParam("state") != state {
		return refuse("it does not belong to this browser (state mismatch)")
	}
	provider, conf, err := s.sso.oauth(ctx)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadGateway, "The identity provider cannot be reached; try again.")
	}
	tok, err := conf.Exchange(ctx, c.QueryParam("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return refuse("the code was not accepted by the identity provider")
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return refuse("the identity provider sent no ID token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: s.cfg.OIDC.ClientID}).Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return refuse("the ID token has expired")
		}
		return refuse("the ID token is not valid (" + err.Error() + ")")
	}
	if idt.Nonce == "" || idt.Nonce != nonce {
		return refuse("the ID token was not issued for this sign-in (nonce mismatch)")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return refuse("the ID token's claims cannot be read")
	}
	name := firstString(claims, "preferred_username", "email", "name")
	if name == "" {
		name = idt.Subject
	}
	u, err := s.db.SSOUser(ctx, idt.Issuer+"|"+idt.Subject, name, s.sso.role(stringList(claims[s.sso.cfg.RoleClaim])))
	if k := store.KindOf(err); k == store.Conflict || k == store.Forbidden || k == store.Invalid {
		return refuse(err.Error())
	} else if err != nil {
		return err
	}
	return s.startSession(c, u, next)
}

func firstString(claims map[string]any, keys ...string) string {
	for _, k := range keys {
		if v, ok := claims[k].(string); ok && v != "" {
			return v
		}
	}
	return ""
}

// stringList reads a groups claim: a list of strings, or one string.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Split(x, ",")
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
