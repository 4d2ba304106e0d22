package decode

import (
	"bytes"
	"encoding/binary"
	hexpkg "encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// tsharkFields are the isup fields compared with our decoding, in order.
var tsharkFields = []string{
	"isup.cic", "isup.message_type", "isup.called", "isup.calling", "isup.redirecting",
	"isup.original_called_number", "isup.redirection_number", "isup.location_number",
	"isup.connected_number", "isup.generic_number", "isup.subsequent_number",
	"isup.calling_partys_category", "isup.hop_counter", "isup.cause_indicator", "isup.event_ind",
	"isup.redirecting_ind", "isup.original_redirection_reason", "isup.redirection_counter",
	"isup.redirection_reason", "e164.called_party_number.digits", "e164.calling_party_number.digits",
	"q931.cause_location", "isup.range_indicator",
}

// ourFields renders u the way `tshark -T fields` shows tsharkFields. Known and
// deliberate differences: the charge number (0xEB) is ANSI and tshark's ITU
// dissector leaves it undecoded, so it is not compared; tshark shows the
// number of circuits, range+1, where Range keeps the code (Q.763 3.43).
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
	rangeField := ""
	if u.HasRange {
		rangeField = fmt.Sprint(int(u.Range) + 1)
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
		num(&u.Called), num(&u.Calling), // tshark's E.164 view shows the same signals, ST included
		opt(u.Cause.Present, "%d", u.Cause.Location), rangeField,
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

// kv is one member of a JSON object, kept in document order.
type kv struct {
	key string
	val any
}

// decodeOrdered reads one JSON value, keeping object members in order
// (tshark lists repeated parameters in message order).
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var obj []kv
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, kv{k.(string), v})
		}
		_, err = dec.Token()
		return obj, err
	case json.Delim('['):
		var arr []any
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err = dec.Token()
		return arr, err
	}
	return tok, nil
}

func member(obj any, key string) any {
	o, _ := obj.([]kv)
	for _, m := range o {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

// collectFields appends every string value of the wanted keys under v, in order.
func collectFields(v any, wanted map[string]bool, into map[string][]string) {
	switch v := v.(type) {
	case []kv:
		for _, m := range v {
			if wanted[m.key] {
				switch val := m.val.(type) {
				case string:
					into[m.key] = append(into[m.key], val)
				case []any: // merged duplicate keys
					for _, e := range val {
						if s, ok := e.(string); ok {
							into[m.key] = append(into[m.key], s)
						}
					}
				}
				continue
			}
			collectFields(m.val, wanted, into)
		}
	case []any:
		for _, e := range v {
			collectFields(e, wanted, into)
		}
	}
}

// tsharkMessage is one ISUP message as tshark saw it in a capture.
type tsharkMessage struct {
	frame  string
	raw    []byte
	fields map[string][]string
}

// tsharkISUP runs tshark over a capture and returns its ISUP messages.
func tsharkISUP(t *testing.T, tshark, pcap string, opts []string) []tsharkMessage {
	args := append([]string{"-r", pcap, "-Y", "isup", "-T", "json", "-x", "-J", "frame isup", "--no-duplicate-keys"}, opts...)
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	doc, err := decodeOrdered(json.NewDecoder(bytes.NewReader(out)))
	if err != nil {
		t.Fatalf("tshark JSON: %v", err)
	}
	wanted := map[string]bool{}
	for _, f := range tsharkFields {
		wanted[f] = true
	}
	var msgs []tsharkMessage
	packets, _ := doc.([]any)
	for _, p := range packets {
		layers := member(member(p, "_source"), "layers")
		frame, _ := member(member(layers, "frame"), "frame.number").(string)
		raws, trees := member(layers, "isup_raw"), member(layers, "isup")
		// One ISUP per frame gives a raw array and an object; several give arrays of both.
		rawList, treeList := []any{raws}, []any{trees}
		if r, ok := raws.([]any); ok && len(r) > 0 {
			if _, nested := r[0].([]any); nested {
				rawList, _ = raws.([]any)
				treeList, _ = trees.([]any)
			}
		}
		for i, r := range rawList {
			ra, _ := r.([]any)
			if len(ra) == 0 || i >= len(treeList) {
				t.Fatalf("%s frame %s: unexpected isup_raw shape", pcap, frame)
			}
			b, err := hexpkg.DecodeString(ra[0].(string))
			if err != nil {
				t.Fatal(err)
			}
			m := tsharkMessage{frame: frame, raw: b, fields: map[string][]string{}}
			collectFields(treeList[i], wanted, m.fields)
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// TestSharedPcapsAgainstTshark decodes every ISUP message of the shared real
// captures and compares it with tshark, field by field.
func TestSharedPcapsAgainstTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: runs tshark over the shared captures")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	dir := filepath.Join("..", "..", "shared", "pcaps")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("shared captures absent (part of the test contract: lay shared/ beside the repository): %v", err)
	}
	// The captures that carry ISUP (see the README there); the others hold
	// none, which the decoder's own tests cover.
	pcaps := []string{"isup_load_generator.pcap", "sng_ss7mon_test1.pcap", "sng_ss7mon_test2.pcap",
		"sng_ss7mon_test3.pcap", "mod_isup_validate.pcap", "mod_isup_m3ua_mgcp.pcap", "xdr_tester_m2pa.pcap"}
	var total atomic.Int64
	t.Cleanup(func() {
		if n := total.Load(); n < 5300 && !t.Failed() {
			t.Errorf("only %d ISUP messages in the shared captures; the load generator alone has 5265", n)
		}
	})
	for _, name := range pcaps {
		pcap := filepath.Join(dir, name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var opts []string
			if a, err := os.ReadFile(pcap + ".tshark-args"); err == nil {
				opts = strings.Fields(string(a))
			}
			msgs := tsharkISUP(t, tshark, pcap, opts)
			if len(msgs) == 0 {
				t.Errorf("tshark found no ISUP in %s", name)
			}
			total.Add(int64(len(msgs)))
			for _, m := range msgs {
				var u ISUP
				if r := DecodeISUP(m.raw, &u); r != ReasonNone {
					t.Errorf("frame %s: DecodeISUP(% x) = %v", m.frame, m.raw, r)
					continue
				}
				ours := ourFields(&u)
				for j, f := range tsharkFields {
					theirs := keptOccurrences(f, strings.Join(m.fields[f], ","))
					if theirs != ours[j] {
						t.Errorf("frame %s (% x): %s: tshark %q, ours %q", m.frame, m.raw, f, theirs, ours[j])
					}
				}
			}
		})
	}

}
