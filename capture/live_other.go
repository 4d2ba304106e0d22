//go:build !linux

package capture

import "github.com/gatewarden/gatewarden/decode"

// Live is live capture; it exists only on Linux.
type Live struct{}

// OpenLive fails: live capture needs Linux.
func OpenLive(LiveConfig) (*Live, error) { return nil, ErrLiveUnsupported }

func (l *Live) SourceName(uint16) string                    { return "" }
func (l *Live) LinkType(uint16) uint16                      { return 0 }
func (l *Live) Workers() int                                { return 0 }
func (l *Live) Run(func(worker int, f *decode.Frame)) error { return ErrLiveUnsupported }
func (l *Live) Stop()                                       {}
func (l *Live) Stats() []IfaceStats                         { return nil }
func (l *Live) Close() error                                { return nil }
