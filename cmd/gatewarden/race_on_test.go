//go:build race

package main

// raceEnabled: the race detector multiplies memory use, so memory bounds
// measured for the plain build do not apply.
const raceEnabled = true
