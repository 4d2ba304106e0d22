package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// An offline appliance with any Go 1.26.x must build the module: a go line
// naming a later patch release, or a toolchain line, makes the go command
// download a newer toolchain.
func TestGoModBuildsWithAnyGo126(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	mod := string(b)
	if !regexp.MustCompile(`(?m)^go 1\.26(\.0)?$`).MatchString(mod) {
		t.Errorf("go.mod: want `go 1.26` or `go 1.26.0`, got %q", regexp.MustCompile(`(?m)^go .*$`).FindString(mod))
	}
	if regexp.MustCompile(`(?m)^toolchain `).MatchString(mod) {
		t.Error("go.mod has a toolchain line: an offline build with an older 1.26.x would try to download it")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "first `go run` compiles") {
		t.Error("README quick start does not say the first go run compiles for a while")
	}
}
