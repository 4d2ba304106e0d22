package decode

// AppendPC appends the point code in the usual dotted form: 3-8-3 for ITU
// 14-bit codes (zone.area.signalling point), 8-8-8 for 24-bit codes
// (network.cluster.member, China and ANSI), and decimal for any other width.
func AppendPC(dst []byte, pc uint32, bits uint8) []byte {
	switch bits {
	case 14:
		dst = appendUint(dst, uint64(pc>>11&0x07))
		dst = append(dst, '.')
		dst = appendUint(dst, uint64(pc>>3&0xFF))
		dst = append(dst, '.')
		return appendUint(dst, uint64(pc&0x07))
	case 24:
		dst = appendUint(dst, uint64(pc>>16&0xFF))
		dst = append(dst, '.')
		dst = appendUint(dst, uint64(pc>>8&0xFF))
		dst = append(dst, '.')
		return appendUint(dst, uint64(pc&0xFF))
	}
	return appendUint(dst, uint64(pc))
}

// FormatPC returns AppendPC's text as a string.
func FormatPC(pc uint32, bits uint8) string {
	var buf [16]byte
	return string(AppendPC(buf[:0], pc, bits))
}
