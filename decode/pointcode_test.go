package decode

import "testing"

func TestFormatPC(t *testing.T) {
	tests := []struct {
		pc   uint32
		bits uint8
		want string
	}{
		{2710, 14, "1.82.6"},    // sng_ss7mon OPC: 0b001_01010010_110
		{3255, 14, "1.150.7"},   // 0b001_10010110_111
		{0x3FFF, 14, "7.255.7"}, // all bits
		{0, 14, "0.0.0"},
		{0x030201, 24, "3.2.1"}, // tshark: 3-2-1 with mtp3.standard "Chinese ITU"
		{0xFFFFFF, 24, "255.255.255"},
		{12345, 16, "12345"}, // Japan: decimal
		{77, 0, "77"},
	}
	for _, tc := range tests {
		if got := FormatPC(tc.pc, tc.bits); got != tc.want {
			t.Errorf("FormatPC(%d, %d) = %q, want %q", tc.pc, tc.bits, got, tc.want)
		}
		if got := string(AppendPC([]byte("x="), tc.pc, tc.bits)); got != "x="+tc.want {
			t.Errorf("AppendPC(%d, %d) = %q", tc.pc, tc.bits, got)
		}
	}
}

func TestAppendPCAllocs(t *testing.T) {
	buf := make([]byte, 0, 32)
	if n := testing.AllocsPerRun(100, func() { buf = AppendPC(buf[:0], 0x3FFF, 14) }); n != 0 {
		t.Errorf("AppendPC allocates %v times", n)
	}
}
