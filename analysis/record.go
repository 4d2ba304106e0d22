// Package analysis assembles ISUP messages into calls and judges them: caller-ID,
// forwarding and behaviour rules. Time comes from packet timestamps only, so a
// replay always gives the same result.
package analysis

import "github.com/gatewarden/gatewarden/decode"

// Outcome is how a call ended.
type Outcome uint8

const (
	OutcomeOpen      Outcome = iota // still in progress (never in a closed record)
	OutcomeAnswered                 // ANM/CON seen
	OutcomeBusy                     // released before answer with cause 17 (user busy)
	OutcomeNoAnswer                 // alerted, released before answer (cause 18/19, or 16 after ACM)
	OutcomeAbandoned                // released by the calling side before answer
	OutcomeFailed                   // released before answer for any other reason, reset, or timed out
)

var outcomeNames = [...]string{"open", "answered", "busy", "no_answer", "abandoned", "failed"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Direction says whether a call entered the network from a partner or left it.
type Direction uint8

const (
	DirectionUnknown Direction = iota // neither side matches a configured partner
	DirectionIngress                  // IAM sent by a partner (its address or OPC)
	DirectionEgress                   // IAM sent towards a partner
)

var directionNames = [...]string{"unknown", "ingress", "egress"}

func (d Direction) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return "unknown"
}

// Side says which end released a call.
type Side uint8

const (
	SideNone    Side = iota
	SideCalling      // REL sent by the side that sent the IAM
	SideCalled       // REL sent by the other side
	SideReset        // circuit reset (RSC/GRS) or timeout
)

var sideNames = [...]string{"", "calling", "called", "reset"}

func (s Side) String() string {
	if int(s) < len(sideNames) {
		return sideNames[s]
	}
	return "unknown"
}

// PartyNumber is a number from the IAM in a form fit for records and rules.
type PartyNumber struct {
	Digits string `json:"digits"` // as presented on the wire (hex signals kept)
	NAI    uint8  `json:"nai"`
	APRI   uint8  `json:"apri,omitempty"`
	E164   string `json:"e164,omitempty"` // normalised, when the plan can
}

// Call is one call attempt on one circuit, from IAM to release.
// Times are Unix nanoseconds of capture time; zero means "did not happen".
type Call struct {
	ID         string    `json:"call_id"` // stable: derived from first IAM's source, frame and circuit
	Start      int64     `json:"start"`   // IAM
	Alerting   int64     `json:"alerting,omitempty"`
	Answer     int64     `json:"answer,omitempty"`
	Release    int64     `json:"release,omitempty"`
	End        int64     `json:"end,omitempty"` // RLC or close
	Outcome    Outcome   `json:"-"`
	Cause      uint8     `json:"cause,omitempty"`
	ReleasedBy Side      `json:"-"`
	Partner    string    `json:"partner,omitempty"`
	Link       string    `json:"link,omitempty"` // "src>dst" address pair or MTP2 source/link
	Direction  Direction `json:"-"`
	OPC        uint32    `json:"opc"` // of the IAM
	DPC        uint32    `json:"dpc"`
	CIC        uint32    `json:"cic"`
	RC         uint32    `json:"rc,omitempty"` // M3UA routing context of the IAM
	// Protocol is the call control that carried the call (ISUP, BICC, …).
	Protocol decode.Protocol `json:"-"`

	Calling        *PartyNumber  `json:"calling,omitempty"`
	Called         *PartyNumber  `json:"called,omitempty"`
	Redirecting    *PartyNumber  `json:"redirecting,omitempty"`
	OriginalCalled *PartyNumber  `json:"original_called,omitempty"`
	Generic        []PartyNumber `json:"generic,omitempty"`
	Category       uint8         `json:"category"`
	RedirCounter   uint8         `json:"redirection_counter,omitempty"`
	Redirected     bool          `json:"redirected,omitempty"`

	Messages int `json:"messages"` // ISUP, BICC or SIP messages seen on this call

	// HeaderCalling is, for a SIP-I call, the caller identity its SIP
	// headers assert (P-Asserted-Identity, or From without one), next to
	// Calling from the encapsulated ISUP; nil otherwise.
	HeaderCalling *PartyNumber `json:"header_calling,omitempty"`

	// Transit legs inside this gateway (see package transit): TransitOf is
	// the ID of the ingress call an egress call continues, TransitTo the ID
	// of the egress call an ingress call became. Empty when not linked.
	TransitOf string `json:"transit_of,omitempty"`
	TransitTo string `json:"transit_to,omitempty"`
	// OriginCountry is the ISO 3166-1 alpha-2 code of the country an
	// international call comes from (the caller's country code, else the
	// international partner's configured country); "" for domestic calls.
	OriginCountry string `json:"origin_country,omitempty"`

	// Ref is the store's reference of the IAM that opened the call (set by
	// the pipeline when it stores the IAM; 0 when not stored). Messages,
	// the call record and its alerts are linked in the store through it.
	Ref uint64 `json:"-"`
}

// RingNanos is the time from alerting to answer or release (0 when not alerted).
func (c *Call) RingNanos() int64 {
	if c.Alerting == 0 {
		return 0
	}
	end := c.Answer
	if end == 0 {
		end = c.Release
	}
	if end < c.Alerting {
		return 0
	}
	return end - c.Alerting
}

// TalkNanos is the time from answer to release (0 when not answered).
func (c *Call) TalkNanos() int64 {
	if c.Answer == 0 || c.Release < c.Answer {
		return 0
	}
	return c.Release - c.Answer
}

// Severity of an alert.
type Severity uint8

const (
	SeverityInfo Severity = iota
	SeverityWarning
	SeverityCritical
)

var severityNames = [...]string{"info", "warning", "critical"}

func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "unknown"
}

// Alert is one rule firing. JSON field names are a public contract.
type Alert struct {
	TS          int64  // capture time of the message that triggered it
	Rule        string // stable rule ID, e.g. "cli.missing"
	Severity    Severity
	Partner     string
	Direction   Direction
	Calling     string // digits as presented
	Called      string
	Redirecting string
	OPC, DPC    uint32
	CIC         uint32
	CallID      string
	Outcome     Outcome // of the call, when known at alert time
	Count       int     // behaviour alerts: events in the window
	WindowS     int     // behaviour alerts: window length in seconds
	Detail      string
	// OriginCountry of the call (ISO 3166-1 alpha-2), when international.
	OriginCountry string
	// Link of a route alert (route.*), which has no call.
	Link    string
	CallRef uint64 // the call's Ref (Call.Ref), 0 when not stored
}
