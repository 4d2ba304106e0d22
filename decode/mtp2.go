package decode

import "hash/maphash"

// mtp2Key names one direction of one signalling link.
type mtp2Key struct {
	source, iface, link uint16
	dir                 uint8
}

// mtp2Link remembers, for one direction of a link, a hash of the MSU last
// delivered under each of the 128 forward sequence numbers. Q.703 5.3 resends
// every unacknowledged MSU in order, and preventive cyclic retransmission
// (6.3) cycles through all of them, so a resend can repeat any of the last
// 127 MSUs, not only the latest. A zero slot is empty.
type mtp2Link struct {
	sent [128]uint64
}

// decodeMTP2 decodes one MTP2 signal unit. dir is the pseudo-header's sent
// octet (0 without one); fcsLen < 0 means Config.MTP2FCSLen.
func (d *Decoder) decodeMTP2(b []byte, iface, link uint16, dir uint8, fcsLen int8) {
	if fcsLen < 0 {
		fcsLen = d.cfg.MTP2FCSLen
	}
	if int(fcsLen) > len(b) {
		d.count(DropMTP2Truncated)
		return
	}
	b = b[:len(b)-int(fcsLen)]
	if len(b) < 3 {
		d.count(DropMTP2Truncated)
		return
	}
	fsn := b[1] & 0x7f
	li := int(b[2] & 0x3f)
	switch {
	case li == 0:
		d.count(SkipMTP2FISU)
		return
	case li <= 2:
		d.count(SkipMTP2LSSU)
		return
	}
	msu := b[3:]
	// LI 63 means "63 or more"; below that it must match what was captured.
	if len(msu) < li {
		d.count(DropMTP2Truncated)
		return
	}
	key := mtp2Key{source: d.frame.Source, iface: iface, link: link, dir: dir}
	l := d.mtp2[key]
	if l == nil {
		if len(d.mtp2) >= maxMTP2Links {
			clear(d.mtp2)
		}
		l = new(mtp2Link)
		d.mtp2[key] = l
	}
	h := maphash.Bytes(d.seed, msu) | 1
	if l.sent[fsn] == h {
		d.count(SkipMTP2Retransmission)
		return
	}
	l.sent[fsn] = h
	// The slot 127 behind this one is now outside any retransmission window:
	// forget it, so that when the sequence numbers come round again an MSU
	// that happens to repeat old bytes is not taken for a resend.
	l.sent[(fsn+1)&0x7f] = 0
	m := d.beginMessage(TransportMTP2)
	m.Link = link
	d.decodeMTP3(m, msu)
}
