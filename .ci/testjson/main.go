// Command testjson reads `go test -json` on standard input and prints what
// plain `go test` prints (each package's closing line, the output of every
// failed test, build errors), then every skipped test with its reason. A
// skipped test fails the run unless the allowlist names it.
//
// The allowlist has one entry a line, "PACKAGE TEST  reason" (PACKAGE relative
// to the module, e.g. web/e2e; TEST a top-level test, which covers its
// subtests, or a subtest's full name); '#' starts a comment.
//
//	go test -json ./... | go run ./.ci/testjson -allow .ci/allowed-skips
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Output     string
}

type allowEntry struct {
	pkg, test, reason string
	used              bool
}

func main() {
	allowPath := flag.String("allow", "", "allowlist of skipped tests")
	module := flag.String("module", "", "module path, stripped from package names in the allowlist")
	flag.Parse()
	allow, err := readAllow(*allowPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testjson:", err)
		os.Exit(2)
	}
	code := run(os.Stdin, os.Stdout, allow, *module)
	os.Exit(code)
}

func readAllow(path string) ([]*allowEntry, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*allowEntry
	for i, line := range strings.Split(string(b), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: want \"PACKAGE TEST  reason\"", path, i+1)
		}
		out = append(out, &allowEntry{pkg: f[0], test: f[1], reason: strings.Join(f[2:], " ")})
	}
	return out, nil
}

type skip struct {
	pkg, test, reason string
	allowed           *allowEntry
}

func run(in io.Reader, out io.Writer, allow []*allowEntry, module string) int {
	buf := map[string]*strings.Builder{}
	key := func(e *event) string { return e.Package + " " + e.Test }
	var passed, failed, skipped int
	var skips []skip
	badInput := 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not an event (e.g. a vet or link error printed by go itself).
			fmt.Fprintln(out, sc.Text())
			badInput++
			continue
		}
		switch {
		case e.Action == "build-output":
			fmt.Fprint(out, e.Output)
		case e.Test == "" && e.Action == "output":
			if e.Output != "PASS\n" {
				fmt.Fprint(out, e.Output)
			}
		case e.Test == "":
		case e.Action == "output":
			b := buf[key(&e)]
			if b == nil {
				b = &strings.Builder{}
				buf[key(&e)] = b
			}
			b.WriteString(e.Output)
		case e.Action == "pass":
			passed++
			delete(buf, key(&e))
		case e.Action == "fail":
			failed++
			if b := buf[key(&e)]; b != nil {
				fmt.Fprint(out, b.String())
			}
			delete(buf, key(&e))
		case e.Action == "skip":
			skipped++
			pkg := strings.TrimPrefix(strings.TrimPrefix(e.Package, module), "/")
			if pkg == "" {
				pkg = "."
			}
			s := skip{pkg: pkg, test: e.Test, reason: skipReason(buf[key(&e)])}
			for _, a := range allow {
				if a.pkg == pkg && (a.test == e.Test || strings.HasPrefix(e.Test, a.test+"/")) {
					s.allowed, a.used = a, true
					break
				}
			}
			skips = append(skips, s)
			delete(buf, key(&e))
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(out, "testjson: reading go test -json:", err)
		return 1
	}
	code := 0
	if failed > 0 || badInput > 0 {
		code = 1
	}
	sort.Slice(skips, func(i, j int) bool {
		if skips[i].pkg != skips[j].pkg {
			return skips[i].pkg < skips[j].pkg
		}
		return skips[i].test < skips[j].test
	})
	unlisted := 0
	if len(skips) > 0 {
		fmt.Fprintln(out, "\nskipped tests:")
		for _, s := range skips {
			mark := "ALLOWED"
			if s.allowed == nil {
				mark = "NOT ALLOWED"
				unlisted++
			}
			fmt.Fprintf(out, "  %-11s %s %s: %s\n", mark, s.pkg, s.test, s.reason)
		}
	}
	for _, a := range allow {
		if !a.used {
			fmt.Fprintf(out, "allowlist entry %s %s did not skip (remove it if it no longer applies)\n", a.pkg, a.test)
		}
	}
	if unlisted > 0 {
		fmt.Fprintf(out, "%d skipped tests are not on the allowlist: in CI every tool is installed, so a skip hides a test that did not run\n", unlisted)
		code = 1
	}
	fmt.Fprintf(out, "\n%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	return code
}

// skipReason is the message logged by t.Skip: the test's output lines other
// than the "=== RUN" and "--- SKIP" markers.
func skipReason(b *strings.Builder) string {
	if b == nil {
		return "(no reason given)"
	}
	var reason []string
	for _, l := range strings.Split(b.String(), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		reason = append(reason, l)
	}
	if len(reason) == 0 {
		return "(no reason given)"
	}
	return strings.Join(reason, " / ")
}
