//go:build !unix

package capture

import "os"

// mapFile maps nothing here: files are read.
func mapFile(*os.File) []byte { return nil }

func unmapFile([]byte) {}
