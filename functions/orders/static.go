package orders

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// registerStatic serves the built workbench; unknown paths fall back to
// index.html so client-side routes survive a reload.
func (f *Function) registerStatic() {
	if f.staticDir == "" {
		return
	}
	fs := http.FileServer(http.Dir(f.staticDir))
	f.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			http.NotFound(w, r)
			return
		}
		p := filepath.Join(f.staticDir, filepath.Clean("/"+r.URL.Path))
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			index := filepath.Join(f.staticDir, "index.html")
			if _, err := os.Stat(index); err != nil {
				http.Error(w, "the UI is not built: run `make web`", http.StatusNotFound)
				return
			}
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFile(w, r, index)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		fs.ServeHTTP(w, r)
	})
}
