//go:build ignore

// floor serves one file's bytes from memory as text/html: the fastest this
// machine can answer with a page of that size, to compare the real page with.
// Usage: go run bench/floor.go FILE ADDR
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	body, err := os.ReadFile(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(os.Args[2], http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	})))
}
