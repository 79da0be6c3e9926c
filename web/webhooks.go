package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

func (s *Server) webhooksPage(c echo.Context) error {
	name, secret, err := s.takeReveal(c)
	if err != nil || name != "webhook" {
		secret = ""
	}
	return s.renderWebhooks(c, http.StatusOK, nil, nil, secret)
}

func (s *Server) renderWebhooks(c echo.Context, status int, errs, form map[string]string, secret string) error {
	ctx := c.Request().Context()
	hooks, err := s.db.Webhooks(ctx)
	if err != nil {
		return err
	}
	m := views.WebhooksPage{Page: s.page(c, "Webhooks", "admin"), Errors: errs, Form: form, NewSecret: secret, Events: store.WebhookEvents}
	if m.Form == nil {
		m.Form = map[string]string{"events": strings.Join(store.WebhookEvents, ",")}
	}
	now := time.Now()
	for _, h := range hooks {
		row := views.WebhookRow{ID: h.ID, URL: h.URL, Events: strings.Join(h.Events, ", "), Format: h.Format, CreatedBy: h.CreatedBy}
		log, err := s.db.Deliveries(ctx, h.ID, 10)
		if err != nil {
			return err
		}
		for _, d := range log {
			when := d.CreatedAt
			if !d.LastAt.IsZero() {
				when = d.LastAt // the last attempt is what the log is read for
			}
			line := views.DeliveryRow{Event: d.Event, Status: d.Status, When: stamp(c, when) + " (" + ago(when, now) + ")",
				Attempts: d.Attempts, Problem: d.LastError}
			if d.LastCode != 0 {
				line.Code = strconv.Itoa(d.LastCode)
			}
			if d.Changes > 0 {
				line.Event += fmt.Sprintf(" (%d)", d.Changes)
			}
			row.Deliveries = append(row.Deliveries, line)
		}
		m.Hooks = append(m.Hooks, row)
	}
	return render(c, status, views.Webhooks(m))
}

func (s *Server) webhookCreate(c echo.Context) error {
	form, _ := c.FormParams()
	in := store.WebhookInput{URL: form.Get("url"), Events: form["events"], Secret: form.Get("secret"), Format: form.Get("format")}
	_, secret, err := s.db.CreateWebhook(c.Request().Context(), actor(c), in)
	if k := store.KindOf(err); k == store.Invalid {
		return s.renderWebhooks(c, http.StatusUnprocessableEntity, fieldErrors(err),
			map[string]string{"url": in.URL, "events": strings.Join(in.Events, ","), "format": in.Format}, "")
	} else if err != nil {
		return err
	}
	if in.Secret != "" {
		return redirectWithFlash(c, "/webhooks", "ok", "Webhook added; deliveries are signed with the secret you gave.")
	}
	// A made-up secret is shown once, on the page the browser lands on.
	session(c).Values["reveal"] = s.reveals.put("webhook", secret, time.Now())
	return redirectWithFlash(c, "/webhooks", "ok", "Webhook added.")
}

func (s *Server) webhookDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return s.confirm(c, views.ConfirmPage{Heading: "Delete this webhook?", Count: -1,
			Consequences: []string{"Its receiver gets nothing more, and deliveries still waiting or being retried are dropped."},
			Action:       fmt.Sprintf("/webhooks/%d/delete", id), Button: "Delete the webhook", Danger: true, BackURL: "/webhooks"})
	}
	if err := s.db.DeleteWebhook(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirectWithFlash(c, "/webhooks", "ok", "Webhook deleted.")
}

func (s *Server) webhookTest(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.SendTest(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirectWithFlash(c, "/webhooks", "ok", "A test delivery is on its way; its result shows below within seconds.")
}

// The API.

func (s *Server) apiWebhooks(c echo.Context) error {
	hooks, err := s.db.Webhooks(c.Request().Context())
	if err != nil {
		return err
	}
	if hooks == nil {
		hooks = []store.Webhook{}
	}
	return c.JSON(http.StatusOK, hooks)
}

func (s *Server) apiWebhookCreate(c echo.Context) error {
	var body struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
		Secret string   `json:"secret"`
		Format string   `json:"format"`
	}
	if err := decodeStrict(c, &body, `{"url": "https://…", "events": ["impact-changed", "window-digest"], "secret": "…", "format": "json"}`); err != nil {
		return err
	}
	h, secret, err := s.db.CreateWebhook(c.Request().Context(), actor(c), store.WebhookInput{URL: body.URL, Events: body.Events, Secret: body.Secret, Format: body.Format})
	if err != nil {
		return err
	}
	out := map[string]any{"id": h.ID, "url": h.URL, "events": h.Events, "format": h.Format, "created_by": h.CreatedBy, "created_at": h.CreatedAt}
	if body.Secret == "" {
		out["secret"] = secret // made here: shown this once
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiWebhookDelete(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.db.DeleteWebhook(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
