package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"patchready/store"
	"patchready/views"
)

func (s *Server) importForm(c echo.Context) error {
	return render(c, http.StatusOK, views.Import(s.importModel(c)))
}

func (s *Server) importModel(c echo.Context) views.ImportPage {
	cols := make([]string, 0, len(factFields))
	t := reflect.TypeOf(store.Facts{})
	for i := range t.NumField() {
		cols = append(cols, strings.Split(t.Field(i).Tag.Get("json"), ",")[0])
	}
	return views.ImportPage{Page: s.page(c, "Import facts", "admin"), Columns: strings.Join(cols, ",")}
}

// importCSV replaces facts from an uploaded CSV, all or nothing: any row
// with a problem and nothing is written, and every problem is listed. The
// upload is read as a stream, part by part, straight into the CSV decoder:
// it is never held whole in memory or in a temporary file.
func (s *Server) importCSV(c echo.Context) error {
	m := s.importModel(c)
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxImportBytes)
	tooBig := func(err error) bool { var mb *http.MaxBytesError; return errors.As(err, &mb) }
	mr, err := r.MultipartReader()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Send the file as a form upload (multipart/form-data) in a field named file.")
	}
	var file *multipart.Part
	for file == nil {
		part, err := mr.NextPart()
		switch {
		case err == io.EOF:
			m.Flash, m.FlashKind = "Choose a CSV file to import.", "error"
			return render(c, http.StatusBadRequest, views.Import(m))
		case tooBig(err):
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d MiB; split it into several imports.", s.cfg.MaxImportBytes>>20))
		case err != nil:
			return echo.NewHTTPError(http.StatusBadRequest, "The upload could not be read: "+err.Error()+".")
		case part.FormName() == "file":
			file = part
		}
	}
	items, details, err := decodeCSV(file)
	if tooBig(err) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than %d MiB; split it into several imports.", s.cfg.MaxImportBytes>>20))
	} else if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The upload could not be read: "+err.Error()+".")
	}
	if len(details) == 0 {
		var res store.UpsertResult
		res, err = s.db.ImportFacts(c.Request().Context(), actor(c), items)
		var se *store.Error
		switch {
		case errors.As(err, &se) && se.Kind == store.Invalid:
			details = se.Details
			if len(details) == 0 {
				details = []store.FieldError{{Index: -1, Message: se.Message}}
			}
		case err != nil:
			return err
		default:
			return redirectWithFlash(c, "/import", "ok", fmt.Sprintf("Imported %d rows: %d new endpoints, %d updated, %d unchanged.",
				len(items), res.Created, res.Updated, res.Unchanged))
		}
	}
	m.Flash, m.FlashKind = fmt.Sprintf("Nothing was imported: %d problem(s) in %s.", len(details), file.FileName()), "error"
	for _, d := range details {
		where := "file"
		if d.Index >= 0 {
			where = fmt.Sprintf("line %d", d.Index+2) // +1 for the header, +1 to count from 1
		}
		if len(m.Problems) == 100 {
			m.Problems = append(m.Problems, views.Fact{Label: "…", Value: fmt.Sprintf("and %d more", len(details)-100)})
			break
		}
		m.Problems = append(m.Problems, views.Fact{Label: strings.TrimSpace(where + " " + d.Field), Value: d.Message})
	}
	return render(c, http.StatusUnprocessableEntity, views.Import(m))
}

// decodeCSV reads facts from CSV whose header names the fact fields, as in
// the API. An empty cell is an unknown fact. drives holds
// "mount=used/total" pairs separated by ";". Each cell becomes the JSON
// value it stands for, and is then decoded exactly as the API decodes it.
// Problems of the file are details; err is a failure to read it at all.
func decodeCSV(r io.Reader) ([]store.Facts, []store.FieldError, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if readFailed(err) {
			return nil, nil, err
		}
		return nil, []store.FieldError{{Index: -1, Message: "the file has no header row of field names"}}, nil
	}
	header = append([]string(nil), header...)
	var items []store.Facts
	var details []store.FieldError
	for i := 0; ; i++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if readFailed(err) {
			return nil, nil, err
		} else if err != nil {
			return nil, append(details, store.FieldError{Index: i, Message: "not valid CSV: " + err.Error()}), nil
		}
		if len(items) >= store.MaxImport {
			return nil, []store.FieldError{{Index: -1, Message: fmt.Sprintf("at most %d rows per import", store.MaxImport)}}, nil
		}
		fields := map[string]json.RawMessage{}
		for j, cell := range rec {
			if cell = strings.TrimSpace(cell); cell != "" {
				fields[header[j]] = csvValue(header[j], cell)
			}
		}
		var f store.Facts
		details = append(details, decodeItem(i, fields, &f)...)
		items = append(items, f)
	}
	if len(items) == 0 && len(details) == 0 {
		details = append(details, store.FieldError{Index: -1, Message: "the file has no rows"})
	}
	return items, details, nil
}

// readFailed tells a failure to read the upload from a problem in its CSV.
func readFailed(err error) bool {
	var pe *csv.ParseError
	return err != nil && err != io.EOF && !errors.As(err, &pe)
}

// csvValue turns a cell into JSON of the type its field has; a cell that
// does not convert stays a string, so decoding reports it against its field.
func csvValue(field, cell string) json.RawMessage {
	quoted, _ := json.Marshal(cell)
	idx, ok := factFields[field]
	if !ok {
		return quoted
	}
	switch reflect.TypeOf(store.Facts{}).Field(idx).Type {
	case reflect.TypeOf((*bool)(nil)):
		switch strings.ToLower(cell) {
		case "true", "yes", "1":
			return json.RawMessage("true")
		case "false", "no", "0":
			return json.RawMessage("false")
		}
	case reflect.TypeOf((*int)(nil)):
		if _, err := strconv.Atoi(cell); err == nil {
			return json.RawMessage(cell)
		}
	case reflect.TypeOf((*time.Time)(nil)):
		return quoted
	case reflect.TypeOf([]store.Drive{}):
		var drives []store.Drive
		for _, part := range strings.Split(cell, ";") {
			mount, sizes, ok1 := strings.Cut(strings.TrimSpace(part), "=")
			used, total, ok2 := strings.Cut(sizes, "/")
			u, err1 := strconv.ParseInt(strings.TrimSpace(used), 10, 64)
			t, err2 := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
			if !ok1 || !ok2 || err1 != nil || err2 != nil {
				return quoted // reported as the wrong type for drives
			}
			drives = append(drives, store.Drive{Mount: mount, UsedBytes: u, TotalBytes: t})
		}
		b, _ := json.Marshal(drives)
		return b
	}
	return quoted
}
