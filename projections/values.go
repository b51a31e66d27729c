package projections

import "encoding/json"

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
