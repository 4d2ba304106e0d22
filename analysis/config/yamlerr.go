package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports schema mismatches by line only. These recover the key path
// so every error reads "FILE: key partners[0].match: reason".
var (
	yamlUnknownField = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("^line ([0-9]+): field (\\S+) not found in type .*$")
	})
	yamlWrongType = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("^line ([0-9]+): cannot unmarshal (\\S+)(?: `(.*)`)? into (\\S+)$")
	})
)

// explainTypeError rewrites one yaml.v3 type error message using the parsed
// document root; messages it cannot place are returned with the file name only.
func explainTypeError(root *yaml.Node, file, msg string) error {
	if m := yamlUnknownField().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		name := m[2]
		path, ok := findPath(root, "", func(k, _ *yaml.Node) bool { return k != nil && k.Line == line && k.Value == name })
		if ok {
			return fmt.Errorf("%s: key %s: unknown key (line %d)", file, path, line)
		}
		return fmt.Errorf("%s: line %d: unknown key %s", file, line, name)
	}
	if m := yamlWrongType().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		value, goType := m[3], m[4]
		truncated := strings.HasSuffix(value, "...")
		value = strings.TrimSuffix(value, "...")
		path, ok := findPath(root, "", func(_, v *yaml.Node) bool {
			if v.Line != line {
				return false
			}
			if v.Kind != yaml.ScalarNode {
				return value == ""
			}
			return v.Value == value || truncated && strings.HasPrefix(v.Value, value)
		})
		if ok {
			shown := value
			if truncated {
				shown += "..."
			}
			if shown == "" {
				return fmt.Errorf("%s: key %s: must be %s (line %d)", file, path, describeType(goType), line)
			}
			return fmt.Errorf("%s: key %s: %q is not %s (line %d)", file, path, shown, describeType(goType), line)
		}
	}
	return fmt.Errorf("%s: %s", file, msg)
}

// findPath walks the document and returns the key path of the first node
// match accepts; match gets the mapping key (nil for sequence items) and the value.
func findPath(n *yaml.Node, path string, match func(key, value *yaml.Node) bool) (string, bool) {
	var found string
	ok := walkPaths(n, path, func(p string, k, v *yaml.Node) bool {
		if match(k, v) {
			found = p
			return true
		}
		return false
	})
	return found, ok
}

// describeType names a Go type of the schema in the file's terms.
func describeType(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map[") || strings.HasPrefix(t, "config.") || strings.HasPrefix(t, "struct"):
		return "a mapping"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		return "an integer"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	}
	return "a " + t
}

// lineOf is the line of the key path (as problems and findPath spell it:
// "a.b[2].c") in the document, or of its nearest present ancestor when the
// key itself is absent (a missing setting); 0 when nothing matches.
func lineOf(root *yaml.Node, key string) int {
	if root == nil {
		return 0
	}
	for key != "" {
		line := 0
		walkPaths(root, "", func(path string, k, v *yaml.Node) bool {
			if path != key {
				return false
			}
			if k != nil {
				line = k.Line
			} else {
				line = v.Line
			}
			return true
		})
		if line > 0 {
			return line
		}
		i := strings.LastIndexAny(key, ".[")
		if i <= 0 {
			return 0
		}
		key = key[:i]
	}
	return 0
}

// walkPaths calls fn with each node's key path, as findPath builds it, until
// fn returns true.
func walkPaths(n *yaml.Node, path string, fn func(path string, key, value *yaml.Node) bool) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if walkPaths(c, path, fn) {
				return true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if fn(p, k, v) || walkPaths(v, p, fn) {
				return true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if fn(p, nil, c) || walkPaths(c, p, fn) {
				return true
			}
		}
	}
	return false
}
