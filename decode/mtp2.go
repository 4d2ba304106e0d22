package decode

import "hash/maphash"

// mtp2Key names one direction of one signalling link.
type mtp2Key struct {
	source, iface, link uint16
	dir                 uint8
}

// mtp2Link remembers the last MSU delivered in one direction, to recognise
// link-level retransmissions (basic and preventive cyclic retransmission).
type mtp2Link struct {
	fsn  uint8
	hash uint64
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
	h := maphash.Bytes(d.seed, msu)
	if last, ok := d.mtp2[key]; ok && last.fsn == fsn && last.hash == h {
		d.count(SkipMTP2Retransmission)
		return
	}
	if len(d.mtp2) >= maxMTP2Links {
		if _, ok := d.mtp2[key]; !ok {
			clear(d.mtp2)
		}
	}
	d.mtp2[key] = mtp2Link{fsn: fsn, hash: h}
	m := d.beginMessage(TransportMTP2)
	m.Link = link
	d.decodeMTP3(m, msu)
}
