package credentials

import (
	"go.yaml.in/yaml/v3"
)

// parseYAML decodes the first document of data into a node tree and
// returns its root, or nil. The YAML library refuses alias bombs; a panic in
// it on hostile input is turned into "not YAML" rather than a crash.
func parseYAML(data []byte) (root *yaml.Node) {
	defer func() {
		if recover() != nil {
			root = nil
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return resolve(doc.Content[0])
	}
	return nil
}

// resolve follows aliases (a few hops: a cycle ends as nil).
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 8 {
			return nil
		}
		n = n.Alias
	}
	return n
}

// eachPair calls fn for every key/value of mapping m, including those
// merged in with "<<" (one level deep). fn returns false to stop.
func eachPair(m *yaml.Node, fn func(key string, val *yaml.Node) bool) bool {
	return eachPairDepth(m, fn, 0)
}

func eachPairDepth(m *yaml.Node, fn func(key string, val *yaml.Node) bool, depth int) bool {
	m = resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return true
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := resolve(m.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			if depth > 0 {
				continue
			}
			v := resolve(m.Content[i+1])
			if v == nil {
				continue
			}
			if v.Kind == yaml.SequenceNode {
				for _, s := range v.Content {
					if !eachPairDepth(s, fn, depth+1) {
						return false
					}
				}
			} else if !eachPairDepth(v, fn, depth+1) {
				return false
			}
			continue
		}
		if !fn(k.Value, m.Content[i+1]) {
			return false
		}
	}
	return true
}

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	var out *yaml.Node
	eachPair(m, func(k string, v *yaml.Node) bool {
		if k == key {
			out = resolve(v)
			return false
		}
		return true
	})
	return out
}

// scalar returns a scalar node's text; false for other nodes and null.
func scalar(n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// str is scalar without the flag.
func str(n *yaml.Node) string {
	s, _ := scalar(n)
	return s
}

// items returns a sequence's elements, or nil.
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// lineOf is a node's 1-based line, or 0.
func lineOf(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// yamlNode is the YAML library's node, named once here.
type yamlNode = yaml.Node
