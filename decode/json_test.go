package decode

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testMessage is the forwarded IAM of sng_ss7mon_test3 as if carried by M3UA.
func testMessage(t testing.TB, isupHex string) *Message {
	m := &Message{
		TS:        1408627385596000000,
		Frame:     42,
		Transport: TransportM3UA,
		Src:       netip.MustParseAddrPort("10.0.0.1:2905"),
		Dst:       netip.MustParseAddrPort("10.0.0.2:2906"),
		HasRC:     true, RoutingContext: 7,
		Label: Label{NI: 2, SI: SIISUP, OPC: 2710, DPC: 3255, SLS: 5, PCBits: 14},
	}
	if r := DecodeISUP(mustHex(t, isupHex), &m.ISUP); r != ReasonNone {
		t.Fatalf("DecodeISUP: %v", r)
	}
	return m
}

func TestAppendJSONGolden(t *testing.T) {
	m := testMessage(t, hexIAMRedirected)
	got := string(AppendJSON(nil, m, "test3.pcap"))
	want := `{"ts":"2014-08-21T13:23:05.596000000Z","frame":42,"file":"test3.pcap","transport":"m3ua","protocol":"isup",` +
		`"src":"10.0.0.1:2905","dst":"10.0.0.2:2906","opc":2710,"dpc":3255,"opc_pc":"1.82.6","dpc_pc":"1.150.7",` +
		`"ni":2,"sls":5,"cic":1054,"type":"IAM","rc":7,` +
		`"called":{"digits":"662606897","nai":3,"npi":1,"inn":1},` +
		`"calling":{"digits":"581319700","nai":3,"npi":1,"ni":0,"apri":0,"si":3},` +
		`"redirecting":{"digits":"970129996","nai":3,"npi":1,"apri":0},` +
		`"redirection":{"indicator":3,"original_reason":12,"counter":1,"reason":3},"category":10}`
	if got != want {
		t.Errorf("AppendJSON =\n%s\nwant\n%s", got, want)
	}
}

func TestAppendJSONDecodes(t *testing.T) {
	var generic []byte
	for _, tc := range handBuilt {
		if tc.name == "every number type" {
			generic = tc.msg
		}
	}
	if generic == nil {
		t.Fatal("hand-built case missing")
	}
	type number struct {
		Digits    string `json:"digits"`
		Qualifier *int   `json:"qualifier"`
		NAI       *int   `json:"nai"`
		NPI       *int   `json:"npi"`
		INN       *int   `json:"inn"`
		NI        *int   `json:"ni"`
		APRI      *int   `json:"apri"`
		SI        *int   `json:"si"`
	}
	type record struct {
		TS                string           `json:"ts"`
		Frame             uint64           `json:"frame"`
		File              string           `json:"file"`
		Transport         string           `json:"transport"`
		OPC               uint32           `json:"opc"`
		DPC               uint32           `json:"dpc"`
		OPCPC             string           `json:"opc_pc"`
		DPCPC             string           `json:"dpc_pc"`
		CIC               uint32           `json:"cic"`
		Type              string           `json:"type"`
		RC                *uint32          `json:"rc"`
		Called            *number          `json:"called"`
		Calling           *number          `json:"calling"`
		Location          *number          `json:"location"`
		Connected         *number          `json:"connected"`
		OriginalCalled    *number          `json:"original_called"`
		RedirectionNumber *number          `json:"redirection_number"`
		Generic           []number         `json:"generic"`
		Redirection       map[string]uint8 `json:"redirection"`
		Cause             map[string]uint8 `json:"cause"`
		HopCounter        *uint8           `json:"hop_counter"`
		Event             *uint8           `json:"event"`
	}

	t.Run("IAM with every number, IPv6, awkward file name", func(t *testing.T) {
		m := testMessage(t, hex.EncodeToString(generic))
		m.Src = netip.MustParseAddrPort("[2001:db8::1]:2905")
		m.HasRC = false
		file := "dir/\"odd\\name\"\n\x01é\xff.pcap"
		out := AppendJSON([]byte("prefix"), m, file)[len("prefix"):]
		var all map[string]any
		if err := json.Unmarshal(out, &all); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		var r record
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		var wantFile string
		enc, _ := json.Marshal(file)
		json.Unmarshal(enc, &wantFile)
		want(t, "file", r.File, wantFile)
		want(t, "src", all["src"], any("[2001:db8::1]:2905"))
		want(t, "rc absent", r.RC == nil, true)
		want(t, "called", r.Called.Digits, "12345")
		want(t, "called inn", *r.Called.INN, 1)
		want(t, "called has no ni", r.Called.NI == nil, true)
		want(t, "calling", r.Calling.Digits, "1234F")
		want(t, "calling ni", *r.Calling.NI, 1)
		want(t, "calling has no inn", r.Calling.INN == nil, true)
		want(t, "generic count", len(r.Generic), 2)
		want(t, "generic qualifier", *r.Generic[0].Qualifier, 6)
		want(t, "generic digits", r.Generic[1].Digits, "99")
		want(t, "location si", *r.Location.SI, 2)
		want(t, "connected", r.Connected.Digits, "789")
		want(t, "original called apri", *r.OriginalCalled.APRI, 1)
		want(t, "redirection number", r.RedirectionNumber.Digits, "1234")
		want(t, "redirection", reflect.DeepEqual(r.Redirection, map[string]uint8{"indicator": 4, "original_reason": 1, "counter": 2, "reason": 2}), true)
		want(t, "hop counter", *r.HopCounter, uint8(31))
		want(t, "no charge", all["charge"] == nil, true)
	})

	t.Run("REL over MTP2", func(t *testing.T) {
		m := testMessage(t, hexREL19)
		m.Transport, m.Src, m.Dst, m.HasRC = TransportMTP2, netip.AddrPort{}, netip.AddrPort{}, false
		m.Label.PCBits, m.Label.OPC, m.Label.DPC = 24, 0x030201, 0xFFFFFF
		out := AppendJSON(nil, m, "e1.pcap")
		var all map[string]any
		if err := json.Unmarshal(out, &all); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		for _, absent := range []string{"src", "dst", "rc", "called", "calling", "generic", "category"} {
			if _, ok := all[absent]; ok {
				t.Errorf("%s present: %s", absent, out)
			}
		}
		want(t, "transport", all["transport"], any("mtp2"))
		want(t, "opc_pc", all["opc_pc"], any("3.2.1"))
		want(t, "dpc_pc", all["dpc_pc"], any("255.255.255"))
		want(t, "cause", reflect.DeepEqual(all["cause"], map[string]any{"value": 19.0, "location": 0.0}), true)
		want(t, "type", all["type"], any("REL"))
	})

	t.Run("unknown type and CPG event", func(t *testing.T) {
		out := AppendJSON(nil, testMessage(t, hexUnknown), "x")
		if !strings.Contains(string(out), `"type":"0xE1"`) {
			t.Errorf("unknown type not named: %s", out)
		}
		out = AppendJSON(nil, testMessage(t, hexCPGAlert), "x")
		var r record
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		want(t, "event", *r.Event, uint8(1))
	})
}

func TestAppendJSONSubsequentAndCharge(t *testing.T) {
	m := testMessage(t, "230102020003812143")
	out := string(AppendJSON(nil, m, "f"))
	if !strings.HasSuffix(out, `"type":"SAM","rc":7,"subsequent":{"digits":"123"}}`) {
		t.Errorf("SAM: %s", out)
	}
	iam := buildIAM([]byte{0x83, 0x10, 0x21, 0x43, 0x05}, param(ParamChargeNumber, 0x03, 0x10, 0x21, 0x43))
	m = testMessage(t, hex.EncodeToString(iam))
	out = string(AppendJSON(nil, m, "f"))
	if !strings.Contains(out, `,"charge":{"digits":"1234","nai":3,"npi":1},"category":10}`) {
		t.Errorf("charge: %s", out)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "中文.pcap", "bad\xffutf8\xc3", "\u2028"} {
		out := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Errorf("%q -> %s: %v", s, out, err)
			continue
		}
		enc, _ := json.Marshal(s)
		var wanted string
		json.Unmarshal(enc, &wanted)
		if got != wanted {
			t.Errorf("%q -> %q, encoding/json gives %q", s, got, wanted)
		}
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	m := testMessage(t, hexIAMRedirected)
	m.Src = netip.MustParseAddrPort("[2001:db8::1]:2905")
	buf := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(100, func() { buf = AppendJSON(buf[:0], m, "some/file.pcap") }); n != 0 {
		t.Errorf("AppendJSON allocates %v times", n)
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	m := testMessage(b, hexIAMRedirected)
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendJSON(buf[:0], m, "sng_ss7mon_test3.pcap")
	}
}

// TestAppendTimestampMatchesTime checks the hand-written calendar arithmetic
// against the standard library across leap years, era boundaries and
// negative times, and at random instants.
func TestAppendTimestampMatchesTime(t *testing.T) {
	cases := []int64{0, -1, 1, 951782400e9, 951868799999999999, 4107542399e9, -9223372036854775808, 9223372036854775807,
		time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC).UnixNano(),
		time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano(),
		time.Date(2100, 12, 31, 12, 0, 0, 1, time.UTC).UnixNano(),
		time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC).UnixNano()}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		cases = append(cases, r.Int64())
	}
	for _, ns := range cases {
		want := time.Unix(0, ns).UTC().AppendFormat(nil, tsLayout)
		if got := appendTimestamp(nil, ns); string(got) != string(want) {
			t.Fatalf("appendTimestamp(%d) = %s, want %s", ns, got, want)
		}
	}
}

func TestAppendUintMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := []uint64{0, 9, 10, 99, 100, 101, 999, 1000, 16383, 1<<24 - 1, 1<<64 - 1}
	for i := 0; i < 100000; i++ {
		vals = append(vals, r.Uint64()>>(r.IntN(64)))
	}
	for _, v := range vals {
		if got, want := string(appendUint(nil, v)), strconv.FormatUint(v, 10); got != want {
			t.Fatalf("appendUint(%d) = %s, want %s", v, got, want)
		}
	}
}

// TestJSONEncoderMatchesAppendJSON feeds one encoder messages across second
// boundaries, before the epoch, from two files and changing endpoints, and expects AppendJSON's bytes.
func TestJSONEncoderMatchesAppendJSON(t *testing.T) {
	m := testMessage(t, hexIAMRedirected)
	var e JSONEncoder
	files := []string{"a.pcap", `b "quoted".pcap`}
	r := rand.New(rand.NewPCG(5, 6))
	ts := []int64{-1, 0, 999999999, 1e9, 1e9 + 1, -1e9, -1e9 - 1}
	for i := 0; i < 2000; i++ {
		ts = append(ts, ts[len(ts)-1]+r.Int64N(3e8))
	}
	ends := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:2905"), netip.MustParseAddrPort("[2001:db8::1]:2905"), {}}
	for i, v := range ts {
		m.TS = v
		m.Src, m.Dst = ends[i/7%3], ends[i/5%3]
		f := files[i%3%2]
		want := AppendJSON(nil, m, f)
		if got := e.Append(nil, m, f); string(got) != string(want) {
			t.Fatalf("ts %d file %q:\n got %s\nwant %s", v, f, got, want)
		}
	}
}

// TestJSONEncoderManyLinks interleaves lines of more links than the encoder
// caches (so ways are evicted and sets shared) and expects AppendJSON's bytes
// on every line.
func TestJSONEncoderManyLinks(t *testing.T) {
	m := testMessage(t, hexIAMRedirected)
	var e JSONEncoder
	r := rand.New(rand.NewPCG(7, 8))
	ends := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:2905"), netip.MustParseAddrPort("198.51.100.7:2905"), netip.MustParseAddrPort("[2001:db8::1]:3565"), {}}
	for i := 0; i < 50000; i++ {
		m.Src, m.Dst = ends[r.IntN(len(ends))], ends[r.IntN(len(ends))]
		m.Label.OPC, m.Label.DPC = uint32(r.IntN(40)), uint32(r.IntN(40))
		m.Label.SLS, m.Label.NI = uint8(r.IntN(16)), uint8(r.IntN(4))
		want := AppendJSON(nil, m, "a.pcap")
		if got := e.Append(nil, m, "a.pcap"); string(got) != string(want) {
			t.Fatalf("line %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
