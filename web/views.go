package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"patchready/store"
)

// Saved views: a named query of the Servers list. Every place that takes
// the list's filter takes view=ID too; the view's query comes first and the
// parameters given beside it add to it and win where both name one.

// viewOwner is who is asking for views: the signed-in user, or for an API
// token the user who created it (a token acts for them).
func (s *Server) viewOwner(c echo.Context) (*store.User, error) {
	if u := currentUser(c); u != nil {
		return u, nil
	}
	if tk, ok := c.Get(ctxToken).(*store.Token); ok {
		u, err := s.db.UserByName(c.Request().Context(), tk.CreatedBy)
		if store.KindOf(err) == store.NotFound {
			return nil, &store.Error{Kind: store.Forbidden, Message: "saved views belong to users: the user who created this token no longer exists"}
		}
		if err != nil {
			return nil, err
		}
		// The token acts for its creator, with no more than its own role.
		if !tk.Role.TokenAllows(u.Role) {
			u.Role = store.Viewer
			if tk.Role.TokenAllows(store.Operator) {
				u.Role = store.Operator
			}
		}
		return u, nil
	}
	return nil, &store.Error{Kind: store.Forbidden, Message: "sign in to use saved views"}
}

// listQuery is the list's query with a saved view (view=ID) expanded.
func (s *Server) listQuery(c echo.Context, q url.Values) (url.Values, *store.SavedView, error) {
	raw := q.Get("view")
	if raw == "" {
		return q, nil, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return nil, nil, badParam("view", raw, "the number of a saved view")
	}
	u, err := s.viewOwner(c)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.db.SavedView(c.Request().Context(), u.ID, id)
	if err != nil {
		return nil, nil, err
	}
	merged, err := url.ParseQuery(v.Query)
	if err != nil { // saved by us, checked when saved
		return nil, nil, err
	}
	for k, vs := range q {
		if k != "view" {
			merged[k] = vs
		}
	}
	return merged, v, nil
}

// filterOf reads the list's filter from a query, saved view included.
func (s *Server) filterOf(c echo.Context, q url.Values) (store.Filter, error) {
	q, _, err := s.listQuery(c, q)
	if err != nil {
		return store.Filter{}, err
	}
	return parseFilter(q)
}

// viewQuery checks a query to be saved and writes it in its canonical form:
// the filter, sort and columns, never a page position.
func (s *Server) viewQuery(c echo.Context, raw string) (string, error) {
	q, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	if err != nil {
		return "", &store.Error{Kind: store.Invalid, Message: "The query is not a query string like impact=cannot-patch&os=linux.",
			Details: []store.FieldError{{Field: "query", Message: "is not a query string"}}}
	}
	if q.Has("view") {
		return "", &store.Error{Kind: store.Invalid, Message: "A view cannot be built on another view; give its parameters instead.",
			Details: []store.FieldError{{Field: "query", Message: "has view="}}}
	}
	f, err := parseFilter(q)
	if err != nil {
		return "", err
	}
	out := filterValues(f)
	if cols := q.Get("columns"); cols != "" {
		keys, err := s.columnKeys(c, strings.Split(cols, ","))
		if err != nil {
			return "", err
		}
		out.Set("columns", strings.Join(keys, ","))
	}
	return out.Encode(), nil
}

func (s *Server) viewCreate(c echo.Context) error {
	query, err := s.viewQuery(c, c.FormValue("query"))
	if err == nil {
		var v store.SavedView
		v, err = s.db.CreateView(c.Request().Context(), currentUser(c), c.FormValue("name"), query, c.FormValue("shared") == "yes")
		if err == nil {
			return redirectWithFlash(c, "/servers?view="+strconv.FormatInt(v.ID, 10), "ok", "View “"+v.Name+"” saved.")
		}
	}
	if k := store.KindOf(err); k != store.Invalid && k != store.Conflict {
		return err
	}
	return redirectWithFlash(c, listURLFromQuery(c.FormValue("query")), "error", "The view was not saved: "+err.Error())
}

func (s *Server) viewDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.DeleteView(c.Request().Context(), currentUser(c), id); err != nil {
		return err
	}
	return redirectWithFlash(c, "/servers", "ok", "View deleted.")
}

// listURLFromQuery is the list at a query typed in a form, if it is one.
func listURLFromQuery(raw string) string {
	q, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	if err != nil {
		return "/servers"
	}
	return listURL(q)
}

// apiView is a saved view in the API.
type apiView struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Query  string `json:"query"`
	Shared bool   `json:"shared"`
	Owner  string `json:"owner"`
}

func toAPIView(v store.SavedView) apiView {
	return apiView{ID: v.ID, Name: v.Name, Query: v.Query, Shared: v.Shared, Owner: v.Owner}
}

func (s *Server) apiViews(c echo.Context) error {
	u, err := s.viewOwner(c)
	if err != nil {
		return err
	}
	vs, err := s.db.SavedViews(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	out := make([]apiView, 0, len(vs))
	for _, v := range vs {
		out = append(out, toAPIView(v))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiViewCreate(c echo.Context) error {
	var body struct {
		Name   string `json:"name"`
		Query  string `json:"query"`
		Shared bool   `json:"shared"`
	}
	if err := decodeStrict(c, &body, `{"name": "…", "query": "impact=cannot-patch&label=env:prod", "shared": false}`); err != nil {
		return err
	}
	u, err := s.viewOwner(c)
	if err != nil {
		return err
	}
	query, err := s.viewQuery(c, body.Query)
	if err != nil {
		return err
	}
	v, err := s.db.CreateView(c.Request().Context(), u, body.Name, query, body.Shared)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAPIView(v))
}

func (s *Server) apiViewDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.viewOwner(c)
	if err != nil {
		return err
	}
	if err := s.db.DeleteView(c.Request().Context(), u, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
