package views

import "github.com/a-h/templ"

// fieldAttrs marks an input whose value was refused: assistive technology
// hears that it is invalid and reads its message (fieldError, id err-FIELD).
func fieldAttrs(errs map[string]string, field string) templ.Attributes {
	if errs[field] == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": "err-" + field}
}

// formOr is a value as the user typed it in a refused form, or else the
// value kept.
func formOr(form map[string]string, field, kept string) string {
	if v, ok := form[field]; ok {
		return v
	}
	return kept
}
