package console

import (
	"embed"
	"io/fs"
	"net/http"
)

// assets are the pages, embedded: nothing is fetched from anywhere else.
//
//go:embed assets
var assets embed.FS

func assetFS() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// staticHandler serves the stylesheet and the script. They change only with
// the binary, so a short cache keeps a reload cheap without serving a stale
// script after an upgrade for long.
func staticHandler() http.Handler {
	files := http.FileServerFS(assetFS())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// assetHandler serves one embedded file, the page shell.
func assetHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, assetFS(), name)
	})
}
