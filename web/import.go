package web

import (
	"bufio"
	"bytes"
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
	m := views.ImportPage{Page: s.page(c, "Import facts", "admin"), Columns: strings.Join(factColumnsCSV, ",")}
	for _, col := range factColumnsCSV {
		m.ColumnHelp = append(m.ColumnHelp, views.Fact{Label: col, Value: columnTakes(col)})
	}
	return m
}

// factColumnsCSV are the columns of a facts file: name, then every fact.
var factColumnsCSV = append([]string{"name"}, store.FactFields...)

// columnTakes says what a column of the facts file takes.
func columnTakes(col string) string {
	one := func(values []string) string { return "one of " + strings.Join(values, ", ") }
	switch col {
	case "name":
		return "the endpoint's host name (required; up to 253 characters, no slash)"
	case "os_family":
		return one(store.OSFamilies)
	case "protocol":
		return one(store.Protocols)
	case "credentials":
		return one(store.CredStates)
	case "connector":
		return one(store.Connectors)
	case "connection":
		return one(store.Connections)
	case "power":
		return one(store.PowerStates)
	case "ps_execution_policy":
		return one(store.PSPolicies)
	case "ps_version":
		return "a whole number, such as 5"
	case "drives":
		return "mount=used/total in bytes, several separated by ; — e.g. /=40000000000/100000000000;/var=9000000000/20000000000"
	case "labels":
		return "key:value or key, several separated by ; — e.g. env:prod;site:fra1;legacy"
	}
	switch reflect.TypeOf(store.Facts{}).Field(factFields[col]).Type {
	case reflect.TypeOf((*bool)(nil)):
		return "true or false (yes/no and 1/0 too)"
	case reflect.TypeOf((*time.Time)(nil)):
		return "a time in RFC 3339, such as 2026-11-24T12:00:00Z"
	}
	return "text"
}

// factsRecord writes an endpoint's facts as a row of the facts file.
func factsRecord(f *store.Facts, rec []string) []string {
	rec = append(rec[:0], f.Name)
	v := reflect.ValueOf(f).Elem()
	for i := range store.FactFields {
		field := v.Field(i + 1)
		cell := ""
		switch x := field.Interface().(type) {
		case *string:
			if x != nil {
				cell = *x
			}
		case *bool:
			if x != nil {
				cell = strconv.FormatBool(*x)
			}
		case *int:
			if x != nil {
				cell = strconv.Itoa(*x)
			}
		case *time.Time:
			if x != nil {
				cell = x.UTC().Format(time.RFC3339)
			}
		case []store.Drive:
			parts := make([]string, len(x))
			for j, d := range x {
				parts[j] = fmt.Sprintf("%s=%d/%d", d.Mount, d.UsedBytes, d.TotalBytes)
			}
			cell = strings.Join(parts, ";")
		case []string:
			cell = strings.Join(x, ";")
		}
		rec = append(rec, cell)
	}
	return rec
}

// importTemplate is a facts file with its header and one example row.
func (s *Server) importTemplate(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="patchready-facts-template.csv"`)
	str := func(v string) *string { return &v }
	yes, no := true, false
	seen := time.Now().UTC().Truncate(time.Minute)
	example := store.Facts{Name: "web-01.example.internal", IP: str("10.0.0.21"), OSFamily: str("linux"), OSName: str("Ubuntu 24.04 LTS"),
		PlatformSupported: &yes, Managed: &yes, Protocol: str("ssh"), Credentials: str("valid"), Connector: str("running"), Reachable: &yes,
		Connection: str("ok"), LastContactAt: &seen, Power: str("on"), VMFrozen: &no, AdvisoriesPresent: &yes,
		PackagesPresent: &yes, RepositoriesOK: &yes, SubscriptionValid: &yes, LastWindowTimedOut: &no,
		Drives: []store.Drive{{Mount: "/", UsedBytes: 40 << 30, TotalBytes: 100 << 30}}, Labels: []string{"env:prod", "site:fra1"}}
	w := csv.NewWriter(c.Response())
	w.Write(factColumnsCSV)
	w.Write(factsRecord(&example, nil))
	w.Flush()
	return w.Error()
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
			countIngest("import", res)
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
		if d.Field == "header" {
			where, d.Field = "line 1", "(the header)"
		}
		m.Problems = append(m.Problems, views.Fact{Label: strings.TrimSpace(where + " " + d.Field), Value: d.Message})
	}
	return render(c, http.StatusUnprocessableEntity, views.Import(m))
}

// decodeCSV reads facts from CSV as spreadsheets write it: a UTF-8
// byte-order mark is skipped, the delimiter is ";" or "," (whichever the
// header uses), fields may be quoted. The header names the facts, as in the
// API; a row sets the facts of the file's columns (an empty cell clears
// one) and leaves the others. drives holds "mount=used/total" pairs and
// labels the labels, each separated by ";". Each cell becomes the JSON
// value it stands for and is decoded exactly as the API decodes it.
// Problems of the file are details (the header's as line 1, once); err is
// a failure to read it at all.
func decodeCSV(r io.Reader) ([]store.Patch, []store.FieldError, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.Comma = sniffDelimiter(br)
	header, err := cr.Read()
	if err != nil {
		if readFailed(err) {
			return nil, nil, err
		}
		return nil, []store.FieldError{{Index: -1, Field: "header", Message: "the file has no header row of field names"}}, nil
	}
	header = append([]string(nil), header...)
	present, problem := csvHeader(header)
	if problem != "" {
		return nil, []store.FieldError{{Index: -1, Field: "header", Message: problem}}, nil
	}
	var items []store.Patch
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
		p := store.Patch{Present: present}
		details = append(details, decodeItem(i, fields, &p.Facts)...)
		items = append(items, p)
	}
	if len(items) == 0 && len(details) == 0 {
		details = append(details, store.FieldError{Index: -1, Message: "the file has no rows"})
	}
	return items, details, nil
}

// sniffDelimiter looks at the header line: spreadsheets in many locales
// write ";" where others write ",".
func sniffDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Buffered())
	if len(head) == 0 {
		head, _ = br.Peek(4096)
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	if bytes.Count(head, []byte(";")) > bytes.Count(head, []byte(",")) {
		return ';'
	}
	return ','
}

// csvHeader checks the header once: a name column, known facts, no column
// twice. It returns the facts the file sets.
func csvHeader(header []string) (store.FieldSet, string) {
	var present store.FieldSet
	var unknown, twice []string
	hasName := false
	seen := map[string]bool{}
	for _, h := range header {
		if seen[h] {
			twice = append(twice, h)
		}
		seen[h] = true
		if h == "name" {
			hasName = true
			continue
		}
		bit, ok := store.FieldOf(h)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", h))
			continue
		}
		present |= bit
	}
	switch {
	case len(unknown) > 0:
		return 0, "unknown column(s) " + strings.Join(unknown, ", ") + "; the columns are name, " + strings.Join(store.FactFields, ", ")
	case len(twice) > 0:
		return 0, "column(s) named twice: " + strings.Join(twice, ", ")
	case !hasName:
		return 0, "there is no name column: every row needs the endpoint's name"
	}
	return present, ""
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
	case reflect.TypeOf([]string{}): // labels
		var labels []string
		for _, l := range strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == ',' }) {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
		b, _ := json.Marshal(labels)
		return b
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
