package deliver

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gatewarden/gatewarden/analysis"
)

// sdID names gatewarden's RFC 5424 structured data element. 32473 is the
// private enterprise number RFC 5612 reserves for documentation: operators
// who need their own can rewrite it in their collector.
const sdID = "gatewarden@32473"

// Syslog sends alerts as RFC 5424 messages over UDP (one per datagram) or
// TCP (RFC 6587 octet counting: "LEN SP MSG"), reconnecting as needed.
type Syslog struct {
	network, addr string
	facility      int
	hostname, app string
	procID        string
	timeout       time.Duration

	conn net.Conn
	buf  []byte
}

// NewSyslog prepares a sender; the connection is made on first use, so a
// collector that is down at start does not stop the daemon.
func NewSyslog(network, addr string, facility int, hostname, app string) (*Syslog, error) {
	if network != "udp" && network != "tcp" {
		return nil, fmt.Errorf("syslog: network %q is not udp or tcp", network)
	}
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	if hostname == "" {
		hostname = "-"
	}
	if app == "" {
		app = "gatewarden"
	}
	return &Syslog{network: network, addr: addr, facility: facility, hostname: printable(hostname, 255),
		app: printable(app, 48), procID: strconv.Itoa(os.Getpid()), timeout: 5 * time.Second}, nil
}

func (s *Syslog) Name() string { return "syslog_" + s.network }

// severityCode maps alert severity to RFC 5424 severities: critical (2),
// warning (4), informational (6).
func severityCode(sev analysis.Severity) int {
	switch sev {
	case analysis.SeverityCritical:
		return 2
	case analysis.SeverityWarning:
		return 4
	}
	return 6
}

// AppendSyslog appends the RFC 5424 message for e (no framing). The
// timestamp is the alert's capture time; MSGID is the rule ID; the message
// is the alert's JSON.
func AppendSyslog(b []byte, e *Event, facility int, hostname, app, procID string) []byte {
	a := &e.Alert
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(facility*8+severityCode(a.Severity)), 10)
	b = append(b, ">1 "...)
	b = time.Unix(0, a.TS).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, ' ')
	b = append(b, hostname...)
	b = append(b, ' ')
	b = append(b, app...)
	b = append(b, ' ')
	b = append(b, procID...)
	b = append(b, ' ')
	b = append(b, printable(a.Rule, 32)...)
	b = append(b, " ["...)
	b = append(b, sdID...)
	b = appendSDParam(b, "rule", a.Rule)
	b = appendSDParam(b, "severity", a.Severity.String())
	b = appendSDParam(b, "partner", a.Partner)
	b = appendSDParam(b, "calling", a.Calling)
	b = appendSDParam(b, "called", a.Called)
	b = appendSDParam(b, "call_id", a.CallID)
	b = append(b, "] "...)
	return append(b, e.JSON...)
}

// appendSDParam appends ` name="value"`, escaping '"', '\' and ']' (RFC 5424
// 6.3.3); empty values are left out.
func appendSDParam(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '"' || c == '\\' || c == ']' {
			b = append(b, '\\')
		}
		b = append(b, v[i])
	}
	return append(b, '"')
}

// printable keeps the header fields to PRINTUSASCII without spaces, as RFC
// 5424 requires, and within their maximum length.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 33 || r > 126 {
			return '_'
		}
		return r
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	if s == "" {
		return "-"
	}
	return s
}

func (s *Syslog) Deliver(ctx context.Context, e *Event) error {
	msg := AppendSyslog(s.buf[:0], e, s.facility, s.hostname, s.app, s.procID)
	if s.network == "tcp" {
		// RFC 6587 3.4.1 octet counting: the frame is the length, a space, the message.
		framed := strconv.AppendInt(make([]byte, 0, len(msg)+8), int64(len(msg)), 10)
		framed = append(framed, ' ')
		msg = append(framed, msg...)
	}
	s.buf = msg[:0]
	// One reconnect per message: a TCP collector restart costs no alert.
	var err error
	for try := 0; try < 2; try++ {
		if s.conn != nil && s.network == "tcp" && peerClosed(s.conn) {
			s.conn.Close()
			s.conn = nil
		}
		if s.conn == nil {
			d := net.Dialer{Timeout: s.timeout}
			if s.conn, err = d.DialContext(ctx, s.network, s.addr); err != nil {
				s.conn = nil
				return err
			}
		}
		s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
		if _, err = s.conn.Write(msg); err == nil {
			return nil
		}
		s.conn.Close()
		s.conn = nil
	}
	return err
}

// peerClosed looks, without waiting, for the collector having closed the
// connection: a write into a connection the peer closed succeeds locally and
// its message is lost. A collector never sends, so a peek that finds the end
// of the stream or an error means the connection is gone.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var one [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = (n == 0 && rerr == nil) || (rerr != nil && rerr != syscall.EAGAIN && rerr != syscall.EINTR)
		return true // never wait for readiness
	})
	return closed || err != nil
}

func (s *Syslog) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
