// Package migrations holds the numbered SQL files that build the schema.
// Applied files are never edited: a change is a new file.
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
