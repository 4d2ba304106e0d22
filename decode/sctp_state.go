package decode

// sctpState is all the state of the SCTP layer (decodeSCTP and sctpData in
// sctp.go keep none): the association table with its duplicate check
// (sctp_assoc.go), the user messages under reassembly (sctp_reasm.go) and the
// fragments that came before their predecessors (sctp_early.go).
type sctpState struct {
	cur sctpCur

	assocs           map[assocKey]*assoc
	lruHead, lruTail *assoc
	// recent holds associations by a cheap hash of their key, in front of
	// assocs: a tap interleaves the packets of a few busy associations, and
	// hashing the whole key for the map was most of a lookup.
	recent    [assocRecent]*assoc
	freeAssoc []*assoc

	oldest, newest *sctpReasm
	fragments      int // fragments held across all associations
	bytes          int // octets held
	freeReasm      []*sctpReasm

	early  []earlyFrag // fragments that came before their predecessors
	nEarly int         // entries of early in use
}

func (s *sctpState) init() { s.assocs = make(map[assocKey]*assoc) }
