package decode_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gatewarden/gatewarden/decode"
)

func TestValueName(t *testing.T) {
	for _, c := range []struct {
		path string
		v    uint64
		want string
	}{
		{"calling.nai", 3, "national (significant) number"},
		{"called.nai", 4, "international number"},
		{"generic[0].nai", 4, "international number"},
		{"generic[0].qualifier", 6, "additional calling party number"},
		{"calling.apri", 1, "presentation restricted"},
		{"calling.si", 3, "network provided"},
		{"calling.npi", 1, "ISDN (telephony) numbering plan (E.164)"},
		{"category", 10, "ordinary calling subscriber"},
		{"cause.value", 16, "Normal call clearing"},
		{"cause.value", 120, "Unassigned cause 120"},
		{"cause.location", 4, "public network serving the remote user"},
		{"location.nai", 3, "national (significant) number"}, // the location number, not the cause location
		{"redirection.indicator", 3, "call diverted"},
		{"redirection.reason", 1, "user busy"},
		{"redirection.original_reason", 2, "no reply (national use)"},
		{"event", 1, "ALERTING"},
		{"category", 200, "spare"},
		{"cic", 7, ""},
		{"hop_counter", 7, ""},
	} {
		if got := decode.ValueName(c.path, c.v); got != c.want {
			t.Errorf("ValueName(%q, %d) = %q, want %q", c.path, c.v, got, c.want)
		}
	}
}

// TestValueNamesCoverTshark: every code tshark names (other than its spare,
// reserved and unallocated entries) has a name here too, for each field
// the call page names. Wording follows Q.763/Q.850 and may differ.
func TestValueNamesCoverTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	out, err := exec.Command("tshark", "-G", "values").Output()
	if err != nil {
		t.Fatalf("tshark -G values: %v", err)
	}
	fields := map[string]string{
		"isup.calling_party_nature_of_address_indicator": "calling.nai",
		"isup.called_party_nature_of_address_indicator":  "called.nai",
		"isup.numbering_plan_indicator":                  "calling.npi",
		"isup.address_presentation_restricted_indicator": "calling.apri",
		"isup.screening_indicator":                       "calling.si",
		"isup.calling_partys_category":                   "category",
		"isup.cause_indicator":                           "cause.value",
		"isup.cause_location":                            "cause.location",
		"isup.redirecting_ind":                           "redirection.indicator",
		"isup.original_redirection_reason":               "redirection.original_reason",
		"isup.redirection_reason":                        "redirection.reason",
		"isup.event_ind":                                 "event",
	}
	// Deliberate differences: Q.763 3.9 has NPI 0 as spare (Wireshark:
	// "Unknown (national use)"); cause values 0, 33 and 56 are not in Q.850
	// Table 1 (Wireshark takes them from ANSI and national variants).
	skip := map[string]bool{"calling.npi/0": true, "cause.value/0": true, "cause.value/33": true, "cause.value/56": true}
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 4 || f[0] != "V" {
			continue
		}
		path, ok := fields[f[1]]
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(f[2], 10, 8)
		if err != nil {
			continue
		}
		low := strings.ToLower(f[3])
		if strings.Contains(low, "spare") || strings.Contains(low, "reserved") || strings.Contains(low, "unallocated") || strings.Contains(low, "unassigned") || skip[path+"/"+f[2]] {
			continue
		}
		seen[path]++
		if got := decode.ValueName(path, v); got == "" || got == "spare" {
			t.Errorf("%s %d: tshark names it %q, we have %q", path, v, f[3], got)
		}
	}
	for _, path := range fields {
		if seen[path] == 0 {
			t.Errorf("tshark names no value of %s: field renamed?", path)
		}
	}
}

func TestCauseName(t *testing.T) {
	for v, want := range map[uint8]string{
		16: "Normal call clearing", 17: "User busy", 19: "No answer from user (user alerted)",
		34: "No circuit/channel available", 127: "Interworking, unspecified", 0: "Unassigned cause 0", 120: "Unassigned cause 120",
	} {
		if got := decode.CauseName(v); got != want {
			t.Errorf("CauseName(%d) = %q, want %q", v, got, want)
		}
	}
}
