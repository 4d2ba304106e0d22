// Command gatewarden is a passive SS7/ISUP signalling monitor for interconnect
// and international gateway exchanges. Each subcommand lives in its own file
// and registers itself in init.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit codes shared by the commands.
const (
	exitOK     = 0
	exitFailed = 1 // an input could not be read, output failed, or verification failed
	exitUsage  = 2 // bad flags, arguments or configuration
	// exitDamaged: an input was damaged part-way (a truncated or corrupt
	// capture); what could be read was processed, so output is partial.
	exitDamaged = 3
)

type command struct {
	summary string
	run     func(args []string) int // returns the process exit code
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) int) {
	if _, dup := commands[name]; dup {
		panic("gatewarden: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

// usage lists the commands on w.
func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: gatewarden COMMAND [flags] [args]   (flags may follow the arguments)\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'gatewarden COMMAND --help' for a command's flags; 'gatewarden --version' for the build.\n"+
		"Exit status: 0 ok, 1 failure, 2 usage error, 3 an input was damaged part-way (the rest was processed).\n")
}

func main() { os.Exit(mainArgs(os.Args[1:], os.Stdout, os.Stderr)) }

// mainArgs dispatches a command line (without the program name).
func mainArgs(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"--help"})
			}
			fmt.Fprintf(stderr, "gatewarden: unknown command %q\n\n", args[1])
			usage(stderr)
			return exitUsage
		}
		usage(stdout)
		return exitOK
	case "-version", "--version":
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "gatewarden: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(args[1:])
}
