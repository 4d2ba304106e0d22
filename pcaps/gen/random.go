package gen

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// RandomSource produces realistic interconnect calls: Chinese and foreign
// numbers in the formats each kind of partner sends, the usual mix of
// answered, busy, unanswered, abandoned and failed calls, and occasional
// bursts of near-simultaneous calls. It is deterministic for a seed.
type RandomSource struct {
	rng      *rand.Rand
	partners []Partner
	left     int
	at       time.Time
	// the previous call, which a burst repeats partner, link and direction of
	prev     int
	prevLink int
	prevDir  Direction
	bursting bool
}

// NewRandomSource returns n calls over partners starting after start.
func NewRandomSource(seed int64, n int, partners []Partner, start time.Time) *RandomSource {
	return &RandomSource{
		rng:      rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
		partners: partners, left: n, at: start,
	}
}

func (s *RandomSource) ms(lo, hi int) time.Duration {
	return time.Duration(lo+s.rng.IntN(hi-lo+1)) * time.Millisecond
}

func (s *RandomSource) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + s.rng.IntN(10))
	}
	return string(b)
}

func (s *RandomSource) pick(list []string) string { return list[s.rng.IntN(len(list))] }

var (
	mobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "147", "150",
		"151", "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181",
		"182", "183", "185", "186", "187", "188", "189", "191", "198", "199"}
	areas2 = []string{"10", "20", "21", "22", "23", "24", "25", "27", "28", "29"}
	areas3 = []string{"311", "351", "371", "431", "451", "531", "551", "571", "591", "731", "755", "769", "871", "898"}
)

// cnMobile is an 11-digit national mobile number.
func (s *RandomSource) cnMobile() string { return s.pick(mobilePrefixes) + s.digits(8) }

// cnFixed is a national fixed number: area code without 0 and a subscriber
// number that starts 2-8.
func (s *RandomSource) cnFixed() (area, subscriber string) {
	if s.rng.IntN(2) == 0 {
		return s.pick(areas2), strconv.Itoa(2+s.rng.IntN(7)) + s.digits(7)
	}
	n := 7 + s.rng.IntN(2)
	return s.pick(areas3), strconv.Itoa(2+s.rng.IntN(7)) + s.digits(n-1)
}

func (s *RandomSource) cnNational() string {
	if s.rng.IntN(10) < 7 {
		return s.cnMobile()
	}
	a, sub := s.cnFixed()
	return a + sub
}

// foreign is an international number (country code + NSN) from the region.
func (s *RandomSource) foreign() string {
	switch s.rng.IntN(5) {
	case 0:
		return "852" + strconv.Itoa([]int{5, 6, 9, 2}[s.rng.IntN(4)]) + s.digits(7)
	case 1:
		return "1" + strconv.Itoa(2+s.rng.IntN(8)) + s.digits(2) + strconv.Itoa(2+s.rng.IntN(8)) + s.digits(6)
	case 2:
		return "447" + s.digits(9)
	case 3:
		return "65" + strconv.Itoa(8+s.rng.IntN(2)) + s.digits(7)
	}
	return "81" + []string{"70", "80", "90"}[s.rng.IntN(3)] + s.digits(8)
}

// enterprise numbers registered on the leased line: a Beijing DID block and a
// 95 customer-service number.
func (s *RandomSource) enterprise() string {
	if s.rng.IntN(6) == 0 {
		return "95" + "0188"
	}
	return "106588" + s.digits(4)
}

func (s *RandomSource) calling(nai uint8, digits string) *Number {
	n := &Number{Digits: digits, NAI: nai, NPI: NPIISDN, SI: SIUserPassed}
	if s.rng.IntN(20) == 0 {
		n.APRI = APRIRestricted
	}
	if s.rng.IntN(4) == 0 {
		n.SI = SINetworkProvided
	}
	return n
}

// Next implements CallSource.
func (s *RandomSource) Next() (Call, bool) {
	if s.left <= 0 {
		return Call{}, false
	}
	s.left--
	r := s.rng
	var pi int
	if r.IntN(100) < 15 {
		// a burst: the next call follows within 2 ms from the same partner
		s.at = s.at.Add(time.Duration(r.IntN(2000)) * time.Microsecond)
		pi = s.prev
		s.bursting = true
	} else {
		s.bursting = false
		s.at = s.at.Add(time.Duration(r.ExpFloat64() * float64(250*time.Millisecond)))
		w := r.IntN(10)
		switch {
		case w < 3:
			pi = 0
		case w < 8:
			pi = 1
		default:
			pi = 2
		}
		pi %= len(s.partners)
	}
	s.prev = pi
	p := &s.partners[pi]
	c := Call{Start: s.at, Partner: p.Name, Link: r.IntN(len(p.Links))}
	if s.bursting {
		c.Link = s.prevLink
	}
	iam := &c.IAM
	iam.NatureOfConnection = 0x00
	iam.ForwardCallIndicators = 0x0160 // ISUP used all the way, ISDN access
	iam.TransmissionMedium = 0x00      // speech
	iam.Category = CategoryOrdinary
	switch k := r.IntN(100); {
	case k < 3:
		iam.Category = CategoryPayphone
	case k < 5:
		iam.Category = CategoryPriority
	case k < 6:
		iam.Category = CategoryTest
	}
	if r.IntN(2) == 0 {
		iam.HopCounter = uint8(20 + r.IntN(12))
	}

	switch p.Kind {
	case KindInternational:
		iam.ForwardCallIndicators |= 0x01 // international call
		iam.NatureOfConnection = 0x10     // echo control device included
		if r.IntN(10) < 6 {
			c.Direction = Ingress
			iam.Called = Number{Digits: "86" + s.cnNational(), NAI: NAIInternational, NPI: NPIISDN}
			cli := s.foreign()
			if r.IntN(25) == 0 {
				cli = "86" + s.cnMobile() // home subscriber roaming abroad
			}
			iam.Calling = s.calling(NAIInternational, cli)
		} else {
			c.Direction = Egress
			iam.Called = Number{Digits: s.foreign(), NAI: NAIInternational, NPI: NPIISDN}
			iam.Calling = s.calling(NAIInternational, "86"+s.cnNational())
		}
	case KindInterconnect:
		c.Direction = Direction(r.IntN(2))
		iam.Called = Number{Digits: s.cnNational(), NAI: NAINational, NPI: NPIISDN}
		switch k := r.IntN(20); {
		case k == 0:
			_, sub := s.cnFixed()
			iam.Calling = s.calling(NAISubscriber, sub)
		case k == 1:
			a, sub := s.cnFixed()
			iam.Calling = s.calling(NAIUnknown, "0"+a+sub)
		default:
			iam.Calling = s.calling(NAINational, s.cnNational())
		}
		if r.IntN(7) == 0 {
			a, _ := s.cnFixed()
			iam.Location = &Number{Digits: a + s.digits(4), NAI: NAINational, NPI: NPIISDN, INN: 1, SI: SINetworkProvided}
		}
	case KindLeasedLine:
		if r.IntN(10) < 7 {
			c.Direction = Ingress
			iam.Called = Number{Digits: s.cnNational(), NAI: NAINational, NPI: NPIISDN}
			iam.Calling = s.calling(NAINational, s.enterprise())
		} else {
			c.Direction = Egress
			iam.Called = Number{Digits: s.enterprise(), NAI: NAINational, NPI: NPIISDN}
			iam.Calling = s.calling(NAINational, s.cnMobile())
		}
	}
	if s.bursting && c.Direction != s.prevDir {
		// keep the burst on one association and direction; the numbers of
		// the other direction's form are close enough for load
		c.Direction = s.prevDir
		iam.Called, *iam.Calling = *iam.Calling, iam.Called
		iam.Called.APRI, iam.Called.SI = 0, 0
		iam.Calling.SI = SIUserPassed
	}
	s.prevLink, s.prevDir = c.Link, c.Direction
	if r.IntN(50) == 0 {
		iam.Calling = nil
	}
	if p.Kind != KindInternational && r.IntN(100) < 12 {
		s.redirect(iam, p.Kind == KindLeasedLine)
	}
	if r.IntN(20) == 0 {
		iam.Generic = append(iam.Generic, Number{Qualifier: QualifierAdditionalCalling, Digits: s.cnNational(),
			NAI: NAINational, NPI: NPIISDN, SI: SIUserNotScreened})
		if r.IntN(4) == 0 {
			iam.Generic = append(iam.Generic, Number{Qualifier: QualifierAdditionalCalled, Digits: s.cnNational(),
				NAI: NAINational, NPI: NPIISDN})
		}
	}
	if r.IntN(16) == 0 && len(iam.Called.Digits) > 6 {
		// overlap sending: the last digits follow in a SAM
		k := 1 + r.IntN(4)
		d := iam.Called.Digits
		iam.Called.Digits, c.SAMDigits = d[:len(d)-k], d[len(d)-k:]
		c.SAMDelay = s.ms(80, 900)
	} else if r.IntN(10) < 3 {
		iam.Called.Digits += "F" // end of pulsing
	}
	s.outcome(&c)
	return c, true
}

// redirect makes the call a forwarded one: redirecting and original called
// number plus redirection information.
func (s *RandomSource) redirect(iam *IAM, leased bool) {
	r := s.rng
	orig := &Number{Digits: s.cnNational(), NAI: NAINational, NPI: NPIISDN}
	if leased {
		orig.Digits = s.enterprise()
	}
	reason := uint8(1 + r.IntN(3)) // busy, no reply, unconditional
	red := &Redirection{Indicator: 3, OriginalReason: reason, Counter: 1, Reason: reason}
	redirecting := *orig
	if r.IntN(4) == 0 {
		red.Counter = 2
		red.Reason = uint8(1 + r.IntN(3))
		redirecting.Digits = s.cnNational()
	}
	if r.IntN(10) == 0 {
		redirecting.APRI = APRIRestricted
	}
	iam.OriginalCalled, iam.Redirecting, iam.Redirection = orig, &redirecting, red
}

// outcome sets the ladder timing of a call.
func (s *RandomSource) outcome(c *Call) {
	r := s.rng
	c.RLCDelay = s.ms(4, 40)
	acm := s.ms(400, 4000)
	if c.SAMDigits != "" {
		acm += c.SAMDelay
	}
	alert := acm
	if r.IntN(3) > 0 {
		alert = acm + s.ms(20, 900)
	}
	switch k := r.IntN(100); {
	case k < 55: // answered
		c.ACM, c.Alerting = acm, alert
		c.Answer = alert + s.ms(2000, 20000)
		talk := time.Duration(r.ExpFloat64()*float64(45*time.Second)) + time.Second
		if talk > 10*time.Minute {
			talk = 10 * time.Minute
		}
		c.Release = c.Answer + talk
		c.ReleasedBy = Side(r.IntN(2))
		c.Cause = Cause{Value: CauseNormal, Location: LocationPublicLocal}
		if c.ReleasedBy == SideCalled {
			c.Cause.Location = LocationPublicRem
		}
	case k < 65: // busy
		c.Release = acm
		c.ReleasedBy = SideCalled
		c.Cause = Cause{Value: CauseBusy, Location: LocationUser}
	case k < 73: // no answer: network timer
		c.ACM, c.Alerting = acm, alert
		c.Release = alert + s.ms(30000, 60000)
		c.ReleasedBy = SideCalled
		c.Cause = Cause{Value: CauseNoAnswer, Location: LocationPublicRem}
	case k < 82: // no answer: the caller gives up while it rings
		c.ACM, c.Alerting = acm, alert
		c.Release = alert + s.ms(3000, 25000)
		c.ReleasedBy = SideCalling
		c.Cause = Cause{Value: CauseNormal, Location: LocationUser}
	case k < 88: // abandoned before the network said anything
		c.Release = s.ms(300, 3000)
		if c.SAMDigits != "" {
			c.Release += c.SAMDelay
		}
		c.ReleasedBy = SideCalling
		c.Cause = Cause{Value: CauseNormal, Location: LocationUser}
		if r.IntN(2) == 0 {
			c.Cause.Value = CauseNormalUnspec
		}
	default: // failed
		c.Release = s.ms(30, 2500)
		if c.SAMDigits != "" {
			c.Release += c.SAMDelay
		}
		c.ReleasedBy = SideCalled
		causes := []uint8{CauseUnallocated, CauseNoRoute, CauseInvalidFormat, CauseNoCircuit, CauseTemporary, CauseCongestion, CauseRedirected}
		c.Cause = Cause{Value: causes[r.IntN(len(causes))], Location: LocationTransit}
		if c.Cause.Value == CauseRedirected {
			c.RedirectionNumber = &Number{Digits: s.cnNational(), NAI: NAINational, NPI: NPIISDN}
			c.RELRedirection = &Redirection{Indicator: 4, OriginalReason: 3, Counter: 1, Reason: 3}
		}
	}
}
