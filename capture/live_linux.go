package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"

	"github.com/gatewarden/gatewarden/decode"
)

// ARPHRD types (if_arp.h) whose packet-socket frames carry an Ethernet header.
const (
	arphrdEther    = 1
	arphrdLoopback = 772
)

// liveBatch bounds how many frames a worker takes from one socket before it
// looks at its other interfaces.
const liveBatch = 256

// Live captures from network interfaces through AF_PACKET TPACKET_V3 rings.
type Live struct {
	cfg     LiveConfig
	ifaces  []*liveIface
	stop    atomic.Bool
	running atomic.Bool
	closed  bool
	final   []IfaceStats // counters taken at Close
}

type liveIface struct {
	name      string
	index     int
	linkType  uint16
	sockets   []*afpacket.TPacket // one per worker (fanout member)
	frames    atomic.Uint64
	delivered atomic.Uint64
}

// OpenLive opens every interface with cfg.Workers fanout members each and
// attaches the filter. It needs CAP_NET_RAW.
func OpenLive(cfg LiveConfig) (*Live, error) {
	if len(cfg.Interfaces) == 0 {
		return nil, errors.New("live capture: no interfaces")
	}
	if len(cfg.Interfaces) > 1<<16-1 {
		return nil, fmt.Errorf("live capture: %d interfaces", len(cfg.Interfaces))
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = defaultBlockSize
	}
	if cfg.NumBlocks <= 0 {
		cfg.NumBlocks = defaultNumBlocks
	}
	if cfg.BlockTimeout <= 0 {
		cfg.BlockTimeout = defaultBlockTimeout
	}
	l := &Live{cfg: cfg}
	for i, name := range cfg.Interfaces {
		li, err := l.openIface(i, name)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("live capture on %s: %w", name, err)
		}
		l.ifaces = append(l.ifaces, li)
	}
	return l, nil
}

func (l *Live) openIface(position int, name string) (*liveIface, error) {
	ni, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	li := &liveIface{name: name, index: ni.Index, linkType: decode.LinkTypeEthernet}
	sockType := afpacket.SocketRaw
	if !hasEthernetHeader(ni) {
		// No Ethernet header to speak of (tun, IP-in-IP, …): let the kernel
		// strip the link header and deliver raw IP.
		li.linkType = decode.LinkTypeRaw
		sockType = afpacket.SocketDgram
	}
	prog, err := LoadFilter(l.cfg.Filter, li.linkType)
	if err != nil {
		return nil, err
	}
	// A worker polls each of its sockets in turn: split its wait between them.
	poll := 50 * time.Millisecond / time.Duration(len(l.cfg.Interfaces))
	if poll < time.Millisecond {
		poll = time.Millisecond
	}
	fanoutID := uint16(os.Getpid()*31 + position*7919)
	for w := 0; w < l.cfg.Workers; w++ {
		tp, err := afpacket.NewTPacket(
			afpacket.OptInterface(name),
			afpacket.TPacketVersion3,
			sockType,
			afpacket.OptFrameSize(liveFrameSize),
			afpacket.OptBlockSize(l.cfg.BlockSize),
			afpacket.OptNumBlocks(l.cfg.NumBlocks),
			afpacket.OptBlockTimeout(l.cfg.BlockTimeout),
			afpacket.OptPollTimeout(poll),
		)
		if err != nil {
			li.close()
			return nil, err
		}
		li.sockets = append(li.sockets, tp)
		if len(prog) > 0 {
			if err := tp.SetBPF(prog); err != nil {
				li.close()
				return nil, fmt.Errorf("attach filter: %w", err)
			}
		}
		if l.cfg.Workers > 1 {
			if fanoutID, err = joinFanout(tp, fanoutID, w == 0); err != nil {
				li.close()
				return nil, fmt.Errorf("fanout: %w", err)
			}
		}
		if l.cfg.Promiscuous {
			if err := tp.SetPromiscuous(true); err != nil {
				li.close()
				return nil, fmt.Errorf("promiscuous mode: %w", err)
			}
		}
	}
	return li, nil
}

// joinFanout adds tp to a PACKET_FANOUT_HASH group. The first member looks
// for an id no other socket on the machine uses (ids are global).
func joinFanout(tp *afpacket.TPacket, id uint16, first bool) (uint16, error) {
	var err error
	for try := 0; try < 16; try++ {
		if err = tp.SetFanout(afpacket.FanoutHash, id); err == nil || !first {
			return id, err
		}
		id += 4099
	}
	return id, err
}

// hasEthernetHeader reports whether SOCK_RAW frames of the interface start
// with an Ethernet header (Ethernet proper and loopback).
func hasEthernetHeader(ni *net.Interface) bool {
	if b, err := os.ReadFile("/sys/class/net/" + ni.Name + "/type"); err == nil {
		if t, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return t == arphrdEther || t == arphrdLoopback
		}
	}
	return len(ni.HardwareAddr) == 6 || ni.Flags&net.FlagLoopback != 0
}

// SourceName is the name of interface i.
func (l *Live) SourceName(i uint16) string {
	if int(i) < len(l.cfg.Interfaces) {
		return l.cfg.Interfaces[i]
	}
	return fmt.Sprintf("source %d", i)
}

// LinkType is the link type of frames from interface i.
func (l *Live) LinkType(i uint16) uint16 {
	if int(i) < len(l.ifaces) {
		return l.ifaces[i].linkType
	}
	return 0
}

// Workers is the number of worker goroutines Run starts.
func (l *Live) Workers() int { return l.cfg.Workers }

// Run delivers frames until Stop: worker w (0 ≤ w < Workers) calls handle
// with its own frames, one at a time; different workers call it concurrently.
// f.Data points into the kernel ring and is valid only during the call.
// Source is the interface's position in LiveConfig.Interfaces, Iface its
// kernel index, Frame a per-interface counter (unique, not ordered across
// workers). Run returns when every worker has stopped.
func (l *Live) Run(handle func(worker int, f *decode.Frame)) error {
	if l.closed {
		return errors.New("live capture: closed")
	}
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("live capture: already running")
	}
	defer l.running.Store(false)
	errs := make([]error, l.cfg.Workers)
	var wg sync.WaitGroup
	for w := 0; w < l.cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = l.worker(w, handle)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (l *Live) worker(w int, handle func(int, *decode.Frame)) error {
	var (
		f    decode.Frame
		errs []error
	)
	dead := make([]bool, len(l.ifaces))
	alive := len(l.ifaces)
	for alive > 0 && !l.stop.Load() {
		for i, li := range l.ifaces {
			if dead[i] {
				continue
			}
			tp := li.sockets[w]
			for n := 0; n < liveBatch; n++ {
				data, ci, err := tp.ZeroCopyReadPacketData()
				if err == afpacket.ErrTimeout {
					break
				}
				if err != nil {
					// POLLERR: the interface went away or down.
					errs = append(errs, fmt.Errorf("live capture on %s (worker %d): %w", li.name, w, err))
					dead[i] = true
					alive--
					break
				}
				f = decode.Frame{
					TS:       ci.Timestamp.UnixNano(),
					LinkType: li.linkType,
					Source:   uint16(i),
					Frame:    li.frames.Add(1),
					Iface:    uint16(ci.InterfaceIndex),
					FCSLen:   -1,
					Data:     data,
				}
				handle(w, &f)
				li.delivered.Add(1)
			}
		}
	}
	return errors.Join(errs...)
}

// Stop asks Run to return; workers notice within one poll interval.
func (l *Live) Stop() { l.stop.Store(true) }

// Stats reads the kernel's counters of every interface (summed over its
// fanout members). Safe to call while Run is going; after Close it returns
// the counters taken at Close.
func (l *Live) Stats() []IfaceStats {
	if l.closed {
		return l.final
	}
	out := make([]IfaceStats, len(l.ifaces))
	for i, li := range l.ifaces {
		s := &out[i]
		s.Name, s.Index, s.LinkType = li.name, li.index, li.linkType
		s.Delivered = li.delivered.Load()
		for _, tp := range li.sockets {
			// The kernel resets its counters on every read; TPacket keeps the
			// running totals.
			_, v3, err := tp.SocketStats()
			if err != nil {
				continue
			}
			s.Packets += uint64(v3.Packets())
			s.Drops += uint64(v3.Drops())
			s.QueueFreezes += uint64(v3.QueueFreezes())
		}
	}
	return out
}

// Close releases every socket. Call it after Run has returned (the rings are
// unmapped).
func (l *Live) Close() error {
	if l.closed {
		return nil
	}
	if l.running.Load() {
		return errors.New("live capture: Close while running; Stop and wait for Run first")
	}
	l.final = l.Stats()
	l.closed = true
	for _, li := range l.ifaces {
		li.close()
	}
	return nil
}

func (li *liveIface) close() {
	for _, tp := range li.sockets {
		tp.Close()
	}
	li.sockets = nil
}
