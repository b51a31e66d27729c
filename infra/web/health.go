package web

import (
	"context"
	"net/http"
	"time"
)

// Check is one readiness probe: it returns a detail to show (may be nil) and
// an error when the dependency is not usable.
type Check struct {
	Name string
	Run  func(ctx context.Context) (detail any, err error)
}

type checkResult struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Detail any    `json:"detail,omitempty"`
}

// Healthz answers 200 while the process is alive.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz runs every check (bounded by two seconds) and answers 200 only when
// all pass, 503 otherwise, with each check's result.
func Readyz(checks ...Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		status, out := http.StatusOK, make(map[string]checkResult, len(checks))
		for _, c := range checks {
			detail, err := c.Run(ctx)
			res := checkResult{OK: err == nil, Detail: detail}
			if err != nil {
				res.Error = err.Error()
				status = http.StatusServiceUnavailable
			}
			out[c.Name] = res
		}
		word := "ready"
		if status != http.StatusOK {
			word = "not_ready"
		}
		WriteJSON(w, status, map[string]any{"status": word, "checks": out})
	}
}
