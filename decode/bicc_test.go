package decode

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// widenCIC turns an ISUP message into the BICC message with the same type and
// parameters: the 2-octet CIC becomes a 4-octet call instance code.
func widenCIC(isup []byte, cic uint32) []byte {
	if len(isup) < isupCICLen {
		return isup
	}
	b := binary.LittleEndian.AppendUint32(nil, cic)
	return append(b, isup[isupCICLen:]...)
}

// TestBICCDecodesAsISUP: every ISUP test message, re-framed with a 32-bit
// call instance code, decodes to the same message type and parameters
// (Q.1902.4 uses the Q.763 formats); only the CIC differs, and it is kept
// whole (no 12-bit mask).
func TestBICCDecodesAsISUP(t *testing.T) {
	for _, h := range []string{hexIAMRedirected, hexIAMTest2, hexIAMPayphone, hexIAMNoCalling, hexIAMST,
		hexIAMLoad, hexACMUUI, hexCPGAT, hexANMUUI, hexUnknown, hexREL16, hexREL19, hexCPGAlert, hexRLCPad, hexACM} {
		isup := mustHex(t, h)
		var want, got ISUP
		if r := DecodeISUP(isup, &want); r != ReasonNone {
			t.Fatalf("%s: ISUP %v", h, r)
		}
		const cic = 0xfedcba98
		bicc := widenCIC(isup, cic)
		if r := DecodeBICC(bicc, &got); r != ReasonNone {
			t.Fatalf("%s: BICC %v", h, r)
		}
		if got.CIC != cic {
			t.Errorf("%s: call instance code %#x, want %#x", h, got.CIC, uint32(cic))
		}
		if !bytes.Equal(got.Raw, bicc) {
			t.Errorf("%s: Raw % x", h, got.Raw)
		}
		got.CIC, got.Raw, want.Raw = want.CIC, nil, nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: BICC decodes to\n%+v\nISUP to\n%+v", h, got, want)
		}
	}
}

func TestBICCTruncated(t *testing.T) {
	var u ISUP
	for _, b := range [][]byte{nil, {1}, {1, 0, 0, 0}} {
		if r := DecodeBICC(b, &u); r != DropISUPTruncated {
			t.Errorf("% x: %v, want %v", b, r, DropISUPTruncated)
		}
	}
	// Four octets of CIC and a type: an RLC without its optional pointer.
	if r := DecodeBICC([]byte{1, 0, 0, 0, 0x10}, &u); r != DropISUPTruncated {
		t.Errorf("RLC without pointer: %v", r)
	}
	if r := DecodeBICC([]byte{1, 0, 0, 0, 0x10, 0}, &u); r != ReasonNone || u.CIC != 1 || u.Type != 0x10 {
		t.Errorf("RLC: %v %+v", r, u)
	}
}

// TestDecodeBICCOverMTP3AndM3UA: SI 13 is delivered as BICC with the
// protocol set, over an MTP3 link and over M3UA, and the rebuilt MTP3 keeps
// the BICC SIO.
func TestDecodeBICCOverMTP3AndM3UA(t *testing.T) {
	isup := isupMessage(0x123, 0x10)
	bicc := widenCIC(isup, 0x00abcdef)
	for _, c := range []struct {
		name  string
		frame Frame
		cfg   Config
		tr    Transport
	}{
		{"mtp3", Frame{LinkType: LinkTypeMTP3, FCSLen: -1, Data: mtp3ITU(0x8d, 1, 2, 3, bicc)}, Config{}, TransportMTP3},
		{"m3ua", ethSCTPFrame(m3uaDATA(5, 0x050801, 0x012805, SIBICC, 2, 0, 2, bicc), ppidM3UA, 1), Config{PCBits: 24}, TransportM3UA},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, st := decodeOne(t, c.cfg, c.frame)
			if len(got) != 1 {
				t.Fatalf("%d messages: %s", len(got), st.Summary())
			}
			m := got[0]
			if m.Protocol != ProtocolBICC || m.Transport != c.tr || m.Label.SI != SIBICC {
				t.Errorf("protocol %v transport %v SI %d", m.Protocol, m.Transport, m.Label.SI)
			}
			if m.ISUP.CIC != 0x00abcdef || m.ISUP.Type != 0x10 {
				t.Errorf("cic %#x type %#x", m.ISUP.CIC, m.ISUP.Type)
			}
			if m.MTP3[0]&0x0f != SIBICC || !bytes.HasSuffix(m.MTP3, bicc) {
				t.Errorf("MTP3 % x", m.MTP3)
			}
			j := AppendJSON(nil, &m, "x.pcap")
			if !bytes.Contains(j, []byte(`"protocol":"bicc"`)) || !bytes.Contains(j, []byte(`"cic":11259375`)) {
				t.Errorf("JSON %s", j)
			}
		})
	}
	// An ISUP message on the same path says so.
	got, _ := decodeOne(t, Config{}, Frame{LinkType: LinkTypeMTP3, FCSLen: -1, Data: mtp3ITU(0x85, 1, 2, 3, isup)})
	if len(got) != 1 || got[0].Protocol != ProtocolISUP {
		t.Fatalf("ISUP: %+v", got)
	}
}
