package credentials

import "encoding/json"

// parseJSON decodes data into generic values, or nil. The decoder bounds
// nesting; values are type-asserted where used, so a field of the wrong type
// is skipped rather than failing the file.
func parseJSON(data []byte) any {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	return v
}

// obj returns v as an object, or nil.
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// arr returns v as an array, or nil.
func arr(v any) []any {
	a, _ := v.([]any)
	return a
}

// jstr returns m[key] when it is a string.
func jstr(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// jsonBudget bounds a walk over a decoded document.
const jsonBudget = 200000

// walkObjects calls fn for every object in v, depth first, with the keys
// that lead to it; at most jsonBudget values are visited.
func walkObjects(v any, fn func(path []string, m map[string]any) bool) {
	budget := jsonBudget
	var walk func(v any, path []string) bool
	walk = func(v any, path []string) bool {
		if budget--; budget < 0 {
			return false
		}
		switch t := v.(type) {
		case map[string]any:
			if !fn(path, t) {
				return false
			}
			for k, c := range t {
				if !walk(c, append(path, k)) {
					return false
				}
			}
		case []any:
			for _, c := range t {
				if !walk(c, path) {
					return false
				}
			}
		}
		return true
	}
	walk(v, nil)
}
