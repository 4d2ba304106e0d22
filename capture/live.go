package capture

import (
	"errors"
	"time"
)

// ErrLiveUnsupported is returned by OpenLive where there is no AF_PACKET.
var ErrLiveUnsupported = errors.New("live capture needs Linux (AF_PACKET)")

// LiveConfig configures live capture from network interfaces (Linux
// AF_PACKET, TPACKET_V3 rings).
type LiveConfig struct {
	// Interfaces to capture on; frame Source i is Interfaces[i].
	Interfaces []string
	// Workers is the number of PACKET_FANOUT_HASH members per interface
	// (default 1). The kernel's flow hash is symmetric, and worker w reads
	// member w of every interface, so both directions of an SCTP
	// association reach the same worker.
	Workers int
	// Filter is "" (none), a built-in expression or "@FILE" with tcpdump
	// -ddd output; see FilterHelp.
	Filter string
	// Promiscuous puts the interfaces in promiscuous mode (a tap or SPAN port
	// delivers frames addressed to others).
	Promiscuous bool
	// BlockSize and NumBlocks size each socket's ring (defaults 1 MiB × 32).
	BlockSize, NumBlocks int
	// BlockTimeout retires a partly filled ring block (default 20 ms): the
	// latency bound at low traffic.
	BlockTimeout time.Duration
}

// IfaceStats are the counters of one interface, summed over its fanout
// members. Drops are the kernel's: packets lost because the ring was full.
type IfaceStats struct {
	Name         string
	Index        int // kernel interface index
	LinkType     uint16
	Packets      uint64 // accepted by the filter (kernel count, drops included)
	Drops        uint64
	QueueFreezes uint64
	Delivered    uint64 // frames handed to the callback
}

const (
	defaultBlockSize    = 1 << 20
	defaultNumBlocks    = 32
	defaultBlockTimeout = 20 * time.Millisecond
	// liveFrameSize is tp_frame_size; with TPACKET_V3 frames are packed
	// into blocks and it only bounds the header, not the packet.
	liveFrameSize = 4096
)
