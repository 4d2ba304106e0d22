//go:build !linux

package retention

// lowerSealPriority does nothing here: per-thread nice values are Linux's.
func lowerSealPriority() {}
