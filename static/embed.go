// Package static holds the stylesheet, script and icons, embedded in the
// binary and served under content-hashed names so browsers cache them for good.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"strings"
)

//go:embed *.css *.js *.svg
var files embed.FS

// hashed maps a file name to its content-hashed name, and back.
var hashed, original = func() (map[string]string, map[string]string) {
	h, o := map[string]string{}, map[string]string{}
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		b, _ := files.ReadFile(e.Name())
		sum := sha256.Sum256(b)
		dot := strings.LastIndexByte(e.Name(), '.')
		name := e.Name()[:dot] + "." + hex.EncodeToString(sum[:6]) + e.Name()[dot:]
		h[e.Name()], o[name] = name, e.Name()
	}
	return h, o
}()

// Path is the URL of a static file, e.g. Path("app.css") = "/static/app.3fa2….css".
func Path(name string) string { return "/static/" + hashed[name] }

// Open returns the content of a hashed file name, and whether it exists.
func Open(hashedName string) ([]byte, bool) {
	name, ok := original[hashedName]
	if !ok {
		return nil, false
	}
	b, err := files.ReadFile(name)
	return b, err == nil
}
