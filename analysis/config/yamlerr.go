package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports schema mismatches by line only. These recover the key path
// so every error reads "FILE: key partners[0].match: reason".
var (
	yamlUnknownField = regexp.MustCompile("^line ([0-9]+): field (\\S+) not found in type .*$")
	yamlWrongType    = regexp.MustCompile("^line ([0-9]+): cannot unmarshal (\\S+)(?: `(.*)`)? into (\\S+)$")
)

// explainTypeError rewrites one yaml.v3 type error message using the parsed
// document root; messages it cannot place are returned with the file name only.
func explainTypeError(root *yaml.Node, file, msg string) error {
	if m := yamlUnknownField.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		name := m[2]
		path, ok := findPath(root, "", func(k, _ *yaml.Node) bool { return k != nil && k.Line == line && k.Value == name })
		if ok {
			return fmt.Errorf("%s: key %s: unknown key (line %d)", file, path, line)
		}
		return fmt.Errorf("%s: line %d: unknown key %s", file, line, name)
	}
	if m := yamlWrongType.FindStringSubmatch(msg); m != nil {
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
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := findPath(c, path, match); ok {
				return p, true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if match(k, v) {
				return p, true
			}
			if q, ok := findPath(v, p, match); ok {
				return q, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if match(nil, c) {
				return p, true
			}
			if q, ok := findPath(c, p, match); ok {
				return q, true
			}
		}
	}
	return "", false
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
