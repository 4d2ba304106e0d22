package fnv1a_test

import (
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/gatewarden/gatewarden/internal/fnv1a"
)

// TestMatchesHashFNV: the same values as the standard library's FNV-1a, for
// strings and byte slices alike.
func TestMatchesHashFNV(t *testing.T) {
	for _, s := range []string{"", "a", "foobar", "13812345678", "a84b4c76e66710@pc33.atlanta.example.com"} {
		h64, h32 := fnv.New64a(), fnv.New32a()
		h64.Write([]byte(s))
		h32.Write([]byte(s))
		if got := fnv1a.Sum64(s); got != h64.Sum64() {
			t.Errorf("Sum64(%q) = %#x, want %#x", s, got, h64.Sum64())
		}
		if got := fnv1a.Sum64([]byte(s)); got != h64.Sum64() {
			t.Errorf("Sum64([]byte(%q)) = %#x, want %#x", s, got, h64.Sum64())
		}
		if got := fnv1a.Sum32([]byte(s)); got != h32.Sum32() {
			t.Errorf("Sum32(%q) = %#x, want %#x", s, got, h32.Sum32())
		}
	}
}

func TestAllocatesNothing(t *testing.T) {
	b := []byte("13812345678")
	if n := testing.AllocsPerRun(100, func() { fnv1a.Sum64(b); fnv1a.Sum32(b); fnv1a.Sum64("x") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func ExampleSum64() {
	fmt.Printf("%#x %v\n", fnv1a.Sum64("a"), fnv1a.Sum64("13812345678") == fnv1a.Sum64([]byte("13812345678")))
	// Output: 0xaf63dc4c8601ec8c true
}
