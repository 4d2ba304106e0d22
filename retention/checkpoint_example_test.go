package retention_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gatewarden/gatewarden/retention"
)

// An operator keeps a copy of checkpoints.log off the box (or the copies the
// alert sinks received) and later checks the store against it.
func ExampleVerifyCheckpoints() {
	dir, _ := os.MkdirTemp("", "store")
	defer os.RemoveAll(dir)
	s, err := retention.Open(dir, retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Close()

	f, _ := os.Open(filepath.Join(dir, "checkpoints.log")) // the off-box copy
	cps, _ := retention.ReadCheckpoints(f)
	f.Close()
	problems, _ := retention.VerifyCheckpoints(dir, cps)
	fmt.Println(len(cps) > 0, len(problems))

	os.Remove(filepath.Join(dir, "checkpoints.log")) // tampering inside the store
	problems, _ = retention.VerifyCheckpoints(dir, cps)
	fmt.Println(problems[0].Kind)
	// Output:
	// true 0
	// missing
}
