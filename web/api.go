package web

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/metrics"
	"patchready/store"
)

// apiExemption is a catalog entry in the API.
type apiExemption struct {
	Code    store.Code `json:"code"`
	Name    string     `json:"name"`
	Impact  string     `json:"impact"`
	Meaning string     `json:"meaning,omitempty"`
	Fix     []string   `json:"fix,omitempty"`
	KB      string     `json:"kb,omitempty"`
	Since   *time.Time `json:"since,omitempty"` // start of its current run, on an endpoint
}

// apiEndpoint is an endpoint in the API: its facts and what they mean.
type apiEndpoint struct {
	ID int64 `json:"id"`
	store.Facts
	ManualLabels []string       `json:"manual_labels"`
	Exemptions   []apiExemption `json:"exemptions"`
	Primary      *store.Code    `json:"primary"`
	Impact       string         `json:"impact"`
	Warnings     []store.Code   `json:"warnings"`
	DiskUsedPct  *float64       `json:"disk_used_pct"`
	Schedule     *apiSchedule   `json:"schedule"`
	Suspension   *apiSuspension `json:"suspension"`
	RebootAck    *time.Time     `json:"reboot_acknowledged_at"`
	ReportedAt   *time.Time     `json:"reported_at"` // the last report of any fact
	// Who reported each fact last, and when.
	Sources map[string]store.FactSource `json:"sources"`
}

type apiSchedule struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type apiSuspension struct {
	Cycles    *int       `json:"cycles_remaining,omitempty"`
	From      *time.Time `json:"from,omitempty"`
	Until     *time.Time `json:"until,omitempty"`
	Reason    string     `json:"reason"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	Active    bool       `json:"active"`
}

func toAPI(e *store.Endpoint, now time.Time) apiEndpoint {
	out := apiEndpoint{ID: e.ID, Facts: e.Facts, Impact: e.Impact.String(), DiskUsedPct: e.MaxDiskPct,
		Exemptions: []apiExemption{}, Warnings: []store.Code{}, RebootAck: e.RebootAckedAt, ManualLabels: e.ManualLabels}
	if out.Drives == nil {
		out.Drives = []store.Drive{}
	}
	if out.Labels == nil {
		out.Labels = []string{}
	}
	if out.ManualLabels == nil {
		out.ManualLabels = []string{}
	}
	for _, x := range e.Exemptions {
		en := x.Entry()
		since := x.Since
		out.Exemptions = append(out.Exemptions, apiExemption{Code: x.Code, Name: en.Name, Impact: en.Impact.String(), Since: &since})
	}
	if e.Primary != "" {
		p := e.Primary
		out.Primary = &p
	}
	if e.LowDisk {
		out.Warnings = append(out.Warnings, store.LowDiskSpace)
	}
	if e.StaleFacts {
		out.Warnings = append(out.Warnings, store.StaleFacts)
	}
	out.Sources = e.Sources
	if out.Sources == nil {
		out.Sources = map[string]store.FactSource{}
	}
	if !e.ReportedAt.IsZero() {
		t := e.ReportedAt
		out.ReportedAt = &t
	}
	if e.ScheduleID != 0 {
		out.Schedule = &apiSchedule{ID: e.ScheduleID, Name: e.ScheduleName}
	}
	if s := e.Suspension; s != nil {
		out.Suspension = &apiSuspension{Cycles: s.CyclesRemaining, From: s.From, Until: s.Until, Reason: s.Reason,
			CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, Active: s.ActiveAt(now)}
	}
	return out
}

func (s *Server) apiExemptions(c echo.Context) error {
	out := make([]apiExemption, 0, len(store.Catalog))
	for _, e := range store.Catalog {
		out = append(out, apiExemption{Code: e.Code, Name: e.Name, Impact: e.Impact.String(), Meaning: e.Meaning, Fix: e.Fix, KB: "/kb/" + e.Slug})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiListEndpoints(c echo.Context) error {
	f, err := s.filterOf(c, c.QueryParams())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.db.List(ctx, f, false)
	if err != nil {
		return err
	}
	ids := make([]int64, len(p.Rows))
	for i, r := range p.Rows {
		ids[i] = r.ID
	}
	es, err := s.db.Endpoints(ctx, ids)
	if err != nil {
		return err
	}
	now := time.Now()
	items := make([]apiEndpoint, len(es))
	for i, e := range es {
		items[i] = toAPI(e, now)
	}
	out := map[string]any{"items": items, "total": p.Total, "page": f.Page, "per_page": f.PerPage}
	// Opaque cursors for the neighbouring pages, in any sort order.
	if p.Next != "" {
		out["next_after"] = p.Next
	}
	if p.Prev != "" {
		out["prev_before"] = p.Prev
	}
	return c.JSON(http.StatusOK, out)
}

// apiFacets counts every filter option under the other filters, as the
// list's filter panel does.
func (s *Server) apiFacets(c echo.Context) error {
	f, err := s.filterOf(c, c.QueryParams())
	if err != nil {
		return err
	}
	fc, err := s.db.Facets(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := map[string]any{"total": fc.Total}
	for _, d := range store.Dimensions {
		counts := fc.Counts[d.Name]
		if counts == nil {
			counts = map[string]int64{}
		}
		out[d.Name] = counts
	}
	return c.JSON(http.StatusOK, out)
}

// apiLabels adds and removes an endpoint's operator labels.
func (s *Server) apiLabels(c echo.Context) error {
	var body struct {
		Add    []string `json:"add"`
		Remove []string `json:"remove"`
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return &store.Error{Kind: store.Invalid, Message: "the body must be {\"add\": [\"key:value\", …], \"remove\": [\"key\", …]}: " + jsonProblem(err)}
	}
	return s.apiAction(c, func(tg store.Target) (store.ActionResult, error) {
		return s.db.ChangeLabels(c.Request().Context(), actor(c), tg, body.Add, body.Remove)
	})
}

// endpointByName finds the endpoint named in the path. Echo leaves a
// parameter escaped when the path holds an escaped "/" (%2F), so the name
// is unescaped then: an older endpoint whose name has a slash stays reachable.
func (s *Server) endpointByName(c echo.Context) (*store.Endpoint, error) {
	name := c.Param("name")
	if c.Request().URL.RawPath != "" {
		var err error
		if name, err = url.PathUnescape(name); err != nil {
			return nil, badParam("name", name, "an endpoint name, with / written as %2F")
		}
	}
	return s.db.EndpointByName(c.Request().Context(), name)
}

// countIngest counts what a report did, for the metrics.
func countIngest(method string, res store.UpsertResult) {
	metrics.IngestEndpoints.WithLabelValues(method, "created").Add(float64(res.Created))
	metrics.IngestEndpoints.WithLabelValues(method, "updated").Add(float64(res.Updated))
	metrics.IngestEndpoints.WithLabelValues(method, "unchanged").Add(float64(res.Unchanged))
}

// tokenName is the source an API call reports as: its token's name.
func tokenName(c echo.Context) string {
	if tk, ok := c.Get(ctxToken).(*store.Token); ok {
		return tk.Name
	}
	return ""
}

func (s *Server) apiGetEndpoint(c echo.Context) error {
	e, err := s.endpointByName(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAPI(e, time.Now()))
}

// apiUpsertEndpoints takes a JSON array of up to 1000 endpoints' facts.
// Every item is checked field by field first; one bad item and nothing is
// written (422 with the problems of every item).
func (s *Server) apiUpsertEndpoints(c echo.Context) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the request body is too large (at most 4 MB)")
	}
	items, details := decodeFacts(body, c.Request().Method == http.MethodPatch)
	if len(details) > 0 {
		metrics.IngestEndpoints.WithLabelValues(strings.ToLower(c.Request().Method), "refused").Add(float64(len(items)))
		return c.JSON(http.StatusUnprocessableEntity, apiError{Error: fmt.Sprintf("%d problem(s) in the request; nothing was written", len(details)), Details: details})
	}
	res, err := s.db.ReportFacts(c.Request().Context(), tokenName(c), items)
	method := strings.ToLower(c.Request().Method)
	var se *store.Error
	if errors.As(err, &se) && se.Kind == store.Invalid {
		metrics.IngestEndpoints.WithLabelValues(method, "refused").Add(float64(len(items)))
		return c.JSON(http.StatusUnprocessableEntity, apiError{Error: se.Message, Details: se.Details})
	}
	if err != nil {
		return err
	}
	countIngest(method, res)
	return c.JSON(http.StatusOK, res)
}

// factFields maps each JSON field of Facts to its struct field index.
var factFields = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeOf(store.Facts{})
	for i := range t.NumField() {
		m[strings.Split(t.Field(i).Tag.Get("json"), ",")[0]] = i
	}
	return m
}()

// decodeFacts decodes a JSON array of facts, reporting every unknown field,
// wrong type and bad timestamp with its item index and field name. Values
// are then checked by Facts.Validate in the store. For a PUT every item
// reports every fact (an absent one is unknown); for a PATCH only the
// facts present, null clearing one.
func decodeFacts(body []byte, partial bool) ([]store.Patch, []store.FieldError) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, []store.FieldError{{Index: -1, Field: "", Message: "the body must be a JSON array of endpoints: " + jsonProblem(err)}}
	}
	if len(raw) > store.MaxBatch {
		return nil, []store.FieldError{{Index: -1, Message: fmt.Sprintf("at most %d endpoints per request, got %d", store.MaxBatch, len(raw))}}
	}
	if len(raw) == 0 {
		return nil, []store.FieldError{{Index: -1, Message: "the array is empty"}}
	}
	items := make([]store.Patch, len(raw))
	var details []store.FieldError
	for i, r := range raw {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(r, &fields); err != nil || fields == nil {
			details = append(details, store.FieldError{Index: i, Message: "each endpoint must be a JSON object"})
			continue
		}
		items[i].Present = store.AllFacts
		if partial {
			items[i].Present = 0
			for name := range fields {
				if bit, ok := store.FieldOf(name); ok {
					items[i].Present |= bit
				}
			}
		}
		details = append(details, decodeItem(i, fields, &items[i].Facts)...)
	}
	return items, details
}

// decodeItem decodes one endpoint's fields into f, field by field, so that
// every problem is reported against its field; then checks the values.
func decodeItem(index int, fields map[string]json.RawMessage, f *store.Facts) []store.FieldError {
	var details []store.FieldError
	v := reflect.ValueOf(f).Elem()
	for name, value := range fields {
		idx, ok := factFields[name]
		if !ok {
			details = append(details, store.FieldError{Index: index, Field: name, Message: "unknown field"})
			continue
		}
		if err := json.Unmarshal(value, v.Field(idx).Addr().Interface()); err != nil {
			details = append(details, store.FieldError{Index: index, Field: name, Message: jsonProblem(err)})
		}
	}
	for _, fe := range f.Validate() {
		fe.Index = index
		details = append(details, fe)
	}
	return details
}

// jsonProblem words a decoding error without Go type names.
// decodeStrict reads a JSON body with no unknown fields; shape is the body
// expected, for the message when it is not.
func decodeStrict(c echo.Context, v any, shape string) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &store.Error{Kind: store.Invalid, Message: "the body must be " + shape + ": " + jsonProblem(err)}
	}
	return nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return "wrong type: got a JSON " + te.Value
	case errors.As(err, &se):
		return "malformed JSON: " + se.Error()
	case strings.Contains(err.Error(), "parsing time"):
		return "not an RFC 3339 timestamp (e.g. 2026-11-24T12:00:00Z)"
	}
	return err.Error()
}

// suspendBody is the body of POST /suspend.
type suspendBody struct {
	Cycles *int       `json:"cycles"`
	From   *time.Time `json:"from"`
	Until  *time.Time `json:"until"`
	Reason string     `json:"reason"`
}

func (s *Server) apiSuspend(c echo.Context) error {
	var b suspendBody
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return &store.Error{Kind: store.Invalid, Message: "the body must be {\"cycles\": N, \"reason\": \"…\"} or {\"from\", \"until\", \"reason\"}: " + jsonProblem(err)}
	}
	in := store.SuspendInput{Cycles: b.Cycles, From: b.From, Until: b.Until, Reason: b.Reason}
	return s.apiAction(c, func(tg store.Target) (store.ActionResult, error) {
		return s.db.Suspend(c.Request().Context(), actor(c), tg, in)
	})
}

func (s *Server) apiUnsuspend(c echo.Context) error {
	return s.apiAction(c, func(tg store.Target) (store.ActionResult, error) {
		return s.db.Unsuspend(c.Request().Context(), actor(c), tg)
	})
}

func (s *Server) apiAcknowledgeReboot(c echo.Context) error {
	return s.apiAction(c, func(tg store.Target) (store.ActionResult, error) {
		return s.db.AcknowledgeReboot(c.Request().Context(), actor(c), tg)
	})
}

// apiAction runs an action on the named endpoint and answers with the
// endpoint as it is afterwards, plus whether anything changed.
func (s *Server) apiAction(c echo.Context, run func(store.Target) (store.ActionResult, error)) error {
	e, err := s.endpointByName(c)
	if err != nil {
		return err
	}
	res, err := run(store.Target{IDs: []int64{e.ID}})
	if err != nil {
		return err
	}
	if e, err = s.db.Endpoint(c.Request().Context(), e.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"changed": res.Changed > 0, "endpoint": toAPI(e, time.Now())})
}

//go:embed openapi.json
var openAPI []byte

func (s *Server) apiOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPI)
}
