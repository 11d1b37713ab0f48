package ghtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
)

// specVersion changes whenever PrepareSpec's output for the same input does.
const specVersion = "4"

// SpecFiles are the descriptions inside @octokit/openapi's generated folder.
const (
	DotcomSpec = "api.github.com.json"
	GHECSpec   = "ghec.json"
)

// PrepareSpec writes, from @octokit/openapi's generated folder, the
// description Prism serves: only the operations in ghc.Endpoints (taken from
// api.github.com.json, or ghec.json for those marked so), the components they
// reach, no webhooks, and the two rewrites without which Prism silently skips
// validation (TESTINFRA.md): a schema with nullable: true and no type becomes
// anyOf [schema, {type: null}], and null examples are removed.
func PrepareSpec(generatedDir, out string) error {
	load := func(name string) (map[string]any, error) {
		b, err := os.ReadFile(filepath.Join(generatedDir, name))
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return doc, nil
	}
	dotcom, err := load(DotcomSpec)
	if err != nil {
		return err
	}
	ghec, err := load(GHECSpec)
	if err != nil {
		return err
	}
	trimmed, err := trimSpec(dotcom, ghec, ghc.Endpoints)
	if err != nil {
		return err
	}
	b, err := json.Marshal(trimmed)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", out, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// specKey names a prepared description by its inputs: the endpoint list and
// the sizes of the source files.
func specKey(generatedDir string) string {
	h := sha256.New()
	fmt.Fprintln(h, specVersion)
	for _, e := range ghc.Endpoints {
		fmt.Fprintln(h, e.ID, e.Method, e.Path, e.Spec)
	}
	for _, n := range []string{DotcomSpec, GHECSpec} {
		if st, err := os.Stat(filepath.Join(generatedDir, n)); err == nil {
			fmt.Fprintln(h, n, st.Size())
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func trimSpec(dotcom, ghec map[string]any, eps []ghc.Endpoint) (map[string]any, error) {
	out := map[string]any{
		"openapi": dotcom["openapi"],
		"info":    dotcom["info"],
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   map[string]any{},
	}
	paths := out["paths"].(map[string]any)
	type origin struct {
		doc   map[string]any
		other map[string]any
	}
	var queue []any
	var origins []origin
	for _, e := range eps {
		src, other := dotcom, ghec
		if e.Spec == "ghec" {
			src, other = ghec, dotcom
		}
		srcPaths, _ := src["paths"].(map[string]any)
		item, _ := srcPaths[e.Path].(map[string]any)
		op, _ := item[strings.ToLower(e.Method)].(map[string]any)
		if op == nil {
			return nil, fmt.Errorf("%s %s (%s) is not in the description", e.Method, e.Path, e.ID)
		}
		if got, _ := op["operationId"].(string); got != e.ID {
			return nil, fmt.Errorf("%s %s: operationId is %q in the description, not %q", e.Method, e.Path, got, e.ID)
		}
		dst, _ := paths[e.Path].(map[string]any)
		if dst == nil {
			dst = map[string]any{}
			if ps, ok := item["parameters"]; ok {
				dst["parameters"] = ps
			}
			paths[e.Path] = dst
		}
		dst[strings.ToLower(e.Method)] = op
		queue = append(queue, dst)
		origins = append(origins, origin{src, other})
	}
	// Copy every component the kept operations reach, transitively; a
	// component is looked up in the operation's description first.
	components := map[string]any{}
	seen := map[string]bool{}
	var walk func(v any, doc, other map[string]any)
	walk = func(v any, doc, other map[string]any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#/components/") && !seen[ref] {
				seen[ref] = true
				parts := strings.SplitN(strings.TrimPrefix(ref, "#/components/"), "/", 2)
				if len(parts) == 2 {
					val, from, alt := lookup(doc, parts), doc, other
					if val == nil {
						val, from, alt = lookup(other, parts), other, doc
					}
					if val != nil {
						sec, _ := components[parts[0]].(map[string]any)
						if sec == nil {
							sec = map[string]any{}
							components[parts[0]] = sec
						}
						sec[parts[1]] = val
						walk(val, from, alt)
					}
				}
			}
			for _, k := range sortedKeys(x) {
				walk(x[k], doc, other)
			}
		case []any:
			for _, y := range x {
				walk(y, doc, other)
			}
		}
	}
	for i, q := range queue {
		walk(q, origins[i].doc, origins[i].other)
	}
	out["components"] = components
	fixSchemas(out)
	expandMultiSegment(paths)
	return out, nil
}

// expandMultiSegment works around Prism's router, which matches a path
// parameter against one segment only: GitHub's {path} (x-multi-segment:
// true, e.g. .github/workflows/ci.yml) would never route. For each such
// operation the same operation is added under templates of 2 to 5 segments
// ({path1}/{path2}...), each a plain string, so the request we send with
// literal slashes (as go-github does, and as GitHub requires for
// fine-grained tokens) is routed and validated. Real GitHub is not changed.
func expandMultiSegment(paths map[string]any) {
	for _, p := range sortedKeys(paths) {
		if !strings.HasSuffix(p, "/{path}") {
			continue
		}
		item := paths[p].(map[string]any)
		for n := 2; n <= 5; n++ {
			var names []string
			for i := 1; i <= n; i++ {
				names = append(names, fmt.Sprintf("{path%d}", i))
			}
			np := strings.TrimSuffix(p, "{path}") + strings.Join(names, "/")
			nitem := map[string]any{}
			for method, opAny := range item {
				op, ok := opAny.(map[string]any)
				if !ok {
					continue
				}
				b, _ := json.Marshal(op)
				var cp map[string]any
				_ = json.Unmarshal(b, &cp)
				cp["operationId"] = fmt.Sprintf("%s--%dseg", op["operationId"], n)
				var params []any
				for _, prm := range cp["parameters"].([]any) {
					if m, ok := prm.(map[string]any); ok && m["name"] == "path" && m["in"] == "path" {
						for i := 1; i <= n; i++ {
							params = append(params, map[string]any{"name": fmt.Sprintf("path%d", i), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
						}
						continue
					}
					params = append(params, prm)
				}
				cp["parameters"] = params
				nitem[method] = cp
			}
			paths[np] = nitem
		}
	}
}

func lookup(doc map[string]any, parts []string) any {
	comps, _ := doc["components"].(map[string]any)
	sec, _ := comps[parts[0]].(map[string]any)
	return sec[parts[1]]
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fixSchemas applies the two rewrites Prism needs, in place.
func fixSchemas(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			x[k] = fixSchemas(x[k])
		}
		if ex, ok := x["example"]; ok && ex == nil {
			delete(x, "example")
		}
		if exs, ok := x["examples"].(map[string]any); ok {
			for k, e := range exs {
				if em, ok := e.(map[string]any); ok {
					if val, ok := em["value"]; ok && val == nil {
						delete(exs, k)
					}
				}
			}
			if len(exs) == 0 {
				delete(x, "examples")
			}
		}
		if n, ok := x["nullable"].(bool); ok && n {
			if _, typed := x["type"]; !typed {
				inner := map[string]any{}
				for k, val := range x {
					if k != "nullable" && k != "description" {
						inner[k] = val
					}
				}
				repl := map[string]any{"anyOf": []any{inner, map[string]any{"type": "null"}}}
				if d, ok := x["description"]; ok {
					repl["description"] = d
				}
				return repl
			}
		}
		return x
	case []any:
		for i := range x {
			x[i] = fixSchemas(x[i])
		}
		return x
	}
	return v
}
