package decode_test

import (
	"testing"

	"github.com/gatewarden/gatewarden/decode"
)

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
