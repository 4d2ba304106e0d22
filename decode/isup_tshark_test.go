package decode

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tsharkFields are the isup fields compared with our decoding, in order.
var tsharkFields = []string{
	"isup.cic", "isup.message_type", "isup.called", "isup.calling", "isup.redirecting",
	"isup.original_called_number", "isup.redirection_number", "isup.location_number",
	"isup.connected_number", "isup.generic_number", "isup.subsequent_number",
	"isup.calling_partys_category", "isup.hop_counter", "isup.cause_indicator", "isup.event_ind",
	"isup.redirecting_ind", "isup.original_redirection_reason", "isup.redirection_counter",
	"isup.redirection_reason",
}

// ourFields renders u the way `tshark -T fields` shows tsharkFields. Known and
// deliberate differences: the charge number (0xEB) is ANSI and tshark's ITU
// dissector leaves it undecoded, so it is not compared; the range is not
// compared because tshark shows range+1 (see the GRS case).
func ourFields(u *ISUP) []string {
	num := func(n *Number) string {
		if !n.Present {
			return ""
		}
		return string(n.DigitBytes())
	}
	opt := func(has bool, format string, v uint8) string {
		if !has {
			return ""
		}
		return fmt.Sprintf(format, v)
	}
	generic := make([]string, u.NGeneric)
	for i := range generic {
		generic[i] = num(&u.Generic[i])
	}
	r := &u.Redirection
	return []string{
		fmt.Sprint(u.CIC), fmt.Sprint(u.Type), num(&u.Called), num(&u.Calling), num(&u.Redirecting),
		num(&u.OriginalCalled), num(&u.RedirectionNumber), num(&u.Location),
		num(&u.Connected), strings.Join(generic, ","), num(&u.Subsequent),
		opt(u.HasCategory, "0x%02x", u.Category), opt(u.HasHopCounter, "%d", u.HopCounter),
		opt(u.Cause.Present, "%d", u.Cause.Value), opt(u.HasEventInformation, "%d", u.EventInformation),
		opt(r.Present, "%d", r.Indicator), opt(r.Present, "%d", r.OriginalReason),
		opt(r.Present, "%d", r.Counter), opt(r.Present, "%d", r.Reason),
	}
}

// keptOccurrences trims tshark's list of every occurrence of a field to what
// DecodeISUP deliberately keeps: the first occurrence of a parameter, and the
// first MaxGeneric generic numbers. Digits never contain the comma.
func keptOccurrences(field, v string) string {
	keep := 1
	switch field {
	case "isup.generic_number":
		keep = MaxGeneric
	}
	parts := strings.SplitN(v, ",", keep+1)
	if len(parts) > keep {
		parts = parts[:keep]
	}
	return strings.Join(parts, ",")
}

// writeMTP3Pcap writes each ISUP message as one frame of LINKTYPE_MTP3 (141)
// behind the given SIO and routing label.
func writeMTP3Pcap(t *testing.T, path string, label []byte, msgs [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	hdr := []uint32{0xa1b2c3d4, 0x00040002, 0, 0, 65535, LinkTypeMTP3}
	binary.Write(&buf, binary.LittleEndian, hdr)
	for i, m := range msgs {
		frame := append(append([]byte(nil), label...), m...)
		binary.Write(&buf, binary.LittleEndian, []uint32{uint32(i), 0, uint32(len(frame)), uint32(len(frame))})
		buf.Write(frame)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestAgainstTshark decodes the real and hand-built messages with tshark (the
// project's reference) and requires the same CIC, type, digits of every
// number and indicator values. The same holds with mtp3.standard set to
// "Chinese ITU": tshark has no Chinese ISUP variant and dissects it as Q.763.
func TestAgainstTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	var msgs [][]byte
	for _, h := range []string{hexIAMRedirected, hexIAMTest2, hexIAMPayphone, hexIAMNoCalling, hexIAMST,
		hexIAMLoad, hexACMUUI, hexCPGAT, hexANMUUI, hexUnknown, hexREL16, hexREL19, hexCPGAlert, hexRLCPad, hexACM} {
		msgs = append(msgs, mustHex(t, h))
	}
	for _, tc := range handBuilt {
		if tc.reason == ReasonNone {
			msgs = append(msgs, tc.msg)
		}
	}
	t.Run("ITU", func(t *testing.T) {
		compareWithTshark(t, tshark, msgs, []byte{0x85, 0x01, 0x40, 0x00, 0x00})
	})
	t.Run("Chinese ITU", func(t *testing.T) {
		compareWithTshark(t, tshark, msgs, []byte{0x85, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07},
			"-o", "mtp3.standard:Chinese ITU")
	})
}

func compareWithTshark(t *testing.T, tshark string, msgs [][]byte, label []byte, opts ...string) {
	path := filepath.Join(t.TempDir(), "isup.pcap")
	writeMTP3Pcap(t, path, label, msgs)

	args := append([]string{"-r", path}, opts...)
	args = append(args, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,")
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != len(msgs) {
		t.Fatalf("tshark printed %d lines for %d frames", len(lines), len(msgs))
	}
	for i, line := range lines {
		theirs := strings.Split(line, "\t")
		var u ISUP
		if r := DecodeISUP(msgs[i], &u); r != ReasonNone {
			t.Errorf("frame %d: DecodeISUP = %v", i+1, r)
			continue
		}
		ours := ourFields(&u)
		for j, f := range tsharkFields {
			got := ""
			if j < len(theirs) {
				got = keptOccurrences(f, theirs[j])
			}
			if got != ours[j] {
				t.Errorf("frame %d (% x): %s: tshark %q, ours %q", i+1, msgs[i], f, got, ours[j])
			}
		}
	}
}
