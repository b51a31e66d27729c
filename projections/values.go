package projections

import (
	"encoding/json"
	"time"
)

// ValidID reports whether id can stand inside a key: 1 to 64 letters,
// digits, '-' or '_' (UUIDs are). Anything else (':', '*', spaces) could
// address another document.
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// MustJSON encodes a value that always encodes (strings, numbers, bools,
// times and plain structs of them).
func MustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ParseTime reads a time stored as RFC 3339 (the zero time when absent).
func ParseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// ParseTimePtr reads a stored time, nil when absent.
func ParseTimePtr(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return &t
}

// Fields pairs the fields asked of an HMGET with its answers (absent
// fields are left out).
func Fields(fields []string, vals []any) map[string]string {
	h := make(map[string]string, len(fields))
	for i, f := range fields {
		if i < len(vals) {
			if s, ok := vals[i].(string); ok {
				h[f] = s
			}
		}
	}
	return h
}
