// Package fnv1a is the FNV-1a hash (draft-eastlake-fnv) over a string or a
// byte slice, without hash/fnv's interface value, so that hot paths hash
// without allocating. Values are stable across processes and releases: the
// store keeps some on disk (number index, SIP dialog codes).
package fnv1a

const (
	offset64 = 14695981039346656037
	prime64  = 1099511628211
	offset32 = 2166136261
	prime32  = 16777619
)

// Sum64 is the 64-bit FNV-1a hash of b.
func Sum64[T ~string | ~[]byte](b T) uint64 {
	h := uint64(offset64)
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= prime64
	}
	return h
}

// Sum32 is the 32-bit FNV-1a hash of b.
func Sum32[T ~string | ~[]byte](b T) uint32 {
	h := uint32(offset32)
	for i := 0; i < len(b); i++ {
		h ^= uint32(b[i])
		h *= prime32
	}
	return h
}
