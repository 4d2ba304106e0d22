package gen

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"testing"
)

func TestCRC32cKnownVectors(t *testing.T) {
	// RFC 3720 appendix B.4 and the usual check value.
	inc := make([]byte, 32)
	dec := make([]byte, 32)
	ones := bytes.Repeat([]byte{0xff}, 32)
	for i := range inc {
		inc[i] = byte(i)
		dec[i] = byte(31 - i)
	}
	for _, c := range []struct {
		name string
		in   []byte
		want uint32
	}{
		{"check", []byte("123456789"), 0xe3069283},
		{"zeros", make([]byte, 32), 0x8a9136aa},
		{"ones", ones, 0x62a8ab43},
		{"incrementing", inc, 0x46dd794e},
		{"decrementing", dec, 0x113fdb5c},
	} {
		if got := CRC32c(c.in); got != c.want {
			t.Errorf("%s: CRC32c = %#08x, want %#08x", c.name, got, c.want)
		}
	}
}

func TestSCTPChecksumOverZeroedField(t *testing.T) {
	p := appendSCTPHeader(nil, 2905, 2905, 0x01020304)
	p = appendChunk(p, chunkCOOKIEACK, 0, nil)
	p[8], p[9] = 0xde, 0xad // garbage from a reused buffer must not count
	finishSCTP(p)
	stored := binary.LittleEndian.Uint32(p[8:])
	q := append([]byte(nil), p...)
	q[8], q[9], q[10], q[11] = 0, 0, 0, 0
	if want := CRC32c(q); stored != want {
		t.Fatalf("stored %#08x, want CRC over zeroed field %#08x", stored, want)
	}
}

func TestIPv4Checksum(t *testing.T) {
	// Classic example header (Wikipedia/RFC 1071 style): checksum 0xb861.
	h, _ := hex.DecodeString("450000730000400040110000c0a80001c0a800c7")
	if got := IPv4Checksum(h); got != 0xb861 {
		t.Fatalf("checksum %#04x, want 0xb861", got)
	}
	b := appendIPv4(nil, 7, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"))
	finishIPv4(b, 60)
	if IPv4Checksum(b) != 0 {
		t.Fatalf("header with checksum does not sum to zero: % x", b)
	}
}

func TestAppendBCD(t *testing.T) {
	for _, c := range []struct {
		digits string
		want   string
		odd    bool
	}{
		{"", "", false},
		{"1", "01", true},
		{"12", "21", false},
		{"13800138000", "310810830000", true},
		{"8613800138000", "68310810830000", true},
		{"1234F", "21430f", true},
		{"0A", "a0", false},
	} {
		got, odd := AppendBCD(nil, c.digits)
		if hex.EncodeToString(got) != c.want || odd != c.odd {
			t.Errorf("AppendBCD(%q) = %x odd=%v, want %s odd=%v", c.digits, got, odd, c.want, c.odd)
		}
	}
}

func TestAppendIAM(t *testing.T) {
	m := &IAM{
		NatureOfConnection: 0x10, ForwardCallIndicators: 0x0160, Category: CategoryOrdinary,
		Called:     Number{Digits: "8613800138000", NAI: NAIInternational, NPI: NPIISDN},
		Calling:    &Number{Digits: "85291234567", NAI: NAIInternational, NPI: NPIISDN, APRI: APRIRestricted, SI: SINetworkProvided},
		Generic:    []Number{{Qualifier: QualifierAdditionalCalling, Digits: "1065881234", NAI: NAINational, NPI: NPIISDN, SI: SIUserPassed}},
		HopCounter: 25,
	}
	got := hex.EncodeToString(AppendIAM(nil, 0x123, m))
	want := "2301" + "01" + // CIC 0x123, IAM
		"10" + "6001" + "0a" + "00" + // NCI, FCI, category, TMR
		"02" + "0b" + // pointers: called, optional part
		"09" + "84" + "10" + "68310810830000" + // called: odd, NAI 4; NPI 1
		"0a" + "08" + "84" + "17" + "5892214365" + "07" + // calling: APRI 1, SI 3
		"c0" + "08" + "06" + "03" + "11" + "0156882143" + // generic: qualifier 6, even, NAI 3, NPI 1 SI 1
		"3d" + "01" + "19" + // hop counter 25
		"00" // end of optional parameters
	if got != want {
		t.Fatalf("IAM\n got %s\nwant %s", got, want)
	}
}

func TestAppendOtherMessages(t *testing.T) {
	for _, c := range []struct {
		name string
		got  []byte
		want string
	}{
		{"SAM", AppendSAM(nil, 7, "123"), "0700" + "02" + "0200" + "03" + "80" + "2103"},
		{"ACM", AppendACM(nil, 7, 0x1416), "0700" + "06" + "1614" + "00"},
		{"CPG", AppendCPG(nil, 7, alertingEvent), "0700" + "2c" + "01" + "00"},
		{"ANM", AppendANM(nil, 7), "0700" + "09" + "00"},
		{"REL", AppendREL(nil, 7, Cause{Value: CauseBusy, Location: LocationUser}, nil, nil), "0700" + "0c" + "0200" + "02" + "8091"},
		{"REL redirected", AppendREL(nil, 7, Cause{Value: CauseRedirected, Location: LocationTransit},
			&Number{Digits: "10086", NAI: NAINational, NPI: NPIISDN}, &Redirection{Indicator: 4, OriginalReason: 3, Counter: 1, Reason: 3}),
			"0700" + "0c" + "0204" + "02" + "8397" + "0c" + "05" + "83" + "10" + "018006" + "13" + "02" + "34" + "31" + "00"},
		{"RLC", AppendRLC(nil, 0xfff), "ff0f" + "10" + "00"},
	} {
		if got := hex.EncodeToString(c.got); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestAppendMTP3Labels(t *testing.T) {
	l := Label{OPC: ITUPC(4, 120, 1), DPC: ITUPC(3, 12, 5), NI: 2, SLS: 9, PCBits: 14}
	got := AppendMTP3(nil, l, []byte{0xaa})
	// SIO 0x85; label little-endian: DPC bits 0-13, OPC 14-27, SLS 28-31
	v := uint32(l.DPC) | uint32(l.OPC)<<14 | 9<<28
	want := []byte{0x85, byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), 0xaa}
	if !bytes.Equal(got, want) {
		t.Errorf("14-bit label % x, want % x", got, want)
	}
	l = Label{OPC: ChinaPC(86, 10, 1), DPC: ChinaPC(86, 21, 2), NI: 2, SLS: 3, PCBits: 24}
	got = AppendMTP3(nil, l, nil)
	if want := "85" + "021556" + "010a56" + "03"; hex.EncodeToString(got) != want {
		t.Errorf("24-bit label %x, want %s", got, want)
	}
}

func TestM2PAUserData(t *testing.T) {
	l := Label{OPC: 1, DPC: 2, NI: 2, SLS: 0, PCBits: 14}
	got := AppendM2PAUserData(nil, 5, 6, l, []byte{1, 2, 3})
	want := "01000b01" + "00000019" + "00000005" + "00000006" + "00" + "85" + hex.EncodeToString(AppendMTP3(nil, l, nil)[1:]) + "010203"
	if hex.EncodeToString(got) != want {
		t.Errorf("user data %x, want %s", got, want)
	}
	if len(got) != 0x19 {
		t.Errorf("length %d, header says 0x19", len(got))
	}
}

func TestM3UADataLayout(t *testing.T) {
	l := Label{OPC: 100, DPC: 200, NI: 2, SLS: 7, PCBits: 14}
	b, err := M3UAData(201, 8, true, l, []byte{0x01, 0x00, 0x10, 0x00, 0x00})
	if err != nil {
		t.Fatal(err)
	}
	// header: version 1, class 1 (transfer), type 1 (DATA), length
	if b[0] != 1 || b[2] != 1 || b[3] != 1 || int(binary.BigEndian.Uint32(b[4:])) != len(b) {
		t.Fatalf("bad header % x", b[:8])
	}
	// NA (0x0200), RC (0x0006), protocol data (0x0210) in that order
	off := 8
	for _, tag := range []uint16{0x0200, 0x0006, 0x0210} {
		if got := binary.BigEndian.Uint16(b[off:]); got != tag {
			t.Fatalf("tag at %d = %#04x, want %#04x", off, got, tag)
		}
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		off += (n + 3) &^ 3
	}
	if off != len(b) {
		t.Fatalf("parameters end at %d, message is %d", off, len(b))
	}
	pd := b[8+8+8:]
	if binary.BigEndian.Uint32(pd[4:]) != 100 || binary.BigEndian.Uint32(pd[8:]) != 200 || pd[12] != 5 || pd[13] != 2 || pd[15] != 7 {
		t.Fatalf("protocol data % x", pd[:16])
	}
}

func TestEthernetVLANs(t *testing.T) {
	var d, s [6]byte
	if got := hex.EncodeToString(appendEthernet(nil, d, s, []uint16{200, 31})[12:]); got != "88a800c88100001f0800" {
		t.Errorf("QinQ tags %s", got)
	}
	if got := hex.EncodeToString(appendEthernet(nil, d, s, []uint16{110})[12:]); got != "8100006e0800" {
		t.Errorf("802.1Q tag %s", got)
	}
}
