package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// AuditEntry is one line of the audit log: who asked what, when, and how
// many results they got. Field names are a public contract.
type AuditEntry struct {
	TS       string            `json:"ts"` // wall clock, RFC 3339
	User     string            `json:"user"`
	Role     string            `json:"role,omitempty"`
	Via      string            `json:"via,omitempty"` // session, token, basic
	Remote   string            `json:"remote"`
	Method   string            `json:"method"`
	Endpoint string            `json:"endpoint"`
	Params   map[string]string `json:"params,omitempty"` // what was searched
	Results  int               `json:"results"`
	Status   int               `json:"status"`
	// Suppressed, on a summary line, counts the failed unauthenticated
	// requests from Remote that were not written one by one since the
	// window that began at TS.
	Suppressed int `json:"suppressed,omitempty"`
}

// auditLog appends JSON lines to a file opened O_APPEND: entries are never
// rewritten, and each is written with one write call so concurrent
// requests do not interleave.
type auditLog struct {
	mu   sync.Mutex
	path string
	f    *os.File
}

func openAudit(path string) (*auditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &auditLog{path: path, f: f}, nil
}

func (a *auditLog) write(e *AuditEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err = a.f.Write(line)
	return err
}

// tail returns up to limit entries, newest first, reading the file backwards
// in blocks so a years-old log is not read whole.
func (a *auditLog) tail(limit int) ([]AuditEntry, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	const block = 64 << 10
	end := st.Size()
	var carry []byte
	out := []AuditEntry{}
	for end > 0 && len(out) < limit {
		start := max(end-block, 0)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return nil, err
		}
		buf = append(buf, carry...)
		lines := bytes.Split(buf, []byte{'\n'})
		// The first piece may be the end of a line that began in an earlier block.
		carry = append([]byte(nil), lines[0]...)
		if start == 0 {
			carry = nil
		} else {
			lines = lines[1:]
		}
		for i := len(lines) - 1; i >= 0 && len(out) < limit; i-- {
			if len(bytes.TrimSpace(lines[i])) == 0 {
				continue
			}
			var e AuditEntry
			if json.Unmarshal(lines[i], &e) == nil {
				out = append(out, e)
			}
		}
		end = start
	}
	return out, nil
}

func (a *auditLog) close() error { return a.f.Close() }

// Failed unauthenticated requests (bad logins, locked-out addresses) come
// from anyone, so they must not grow the audit log without bound: user
// names are cut to maxAuditName bytes, and from one address at most
// failsPerWindow failures per failWindow are written in full; the rest are
// counted and written as one summary line (Suppressed) when the window is
// over. At most failAddrs addresses are tracked; beyond that, failures are
// summarised under the remote "(other addresses)". Authenticated queries
// are always audited in full.
const (
	maxAuditName   = 64
	failsPerWindow = 10
	failWindow     = time.Minute
	failAddrs      = 4096
	otherAddrs     = "(other addresses)"
)

type failWin struct {
	start      time.Time
	written    int
	suppressed int
	method     string
	endpoint   string
}

type failThrottle struct {
	mu        sync.Mutex
	m         map[string]*failWin
	lastSweep time.Time
}

// cutName shortens a user-supplied name for the audit log, on a rune boundary.
func cutName(s string) string {
	if len(s) <= maxAuditName {
		return s
	}
	n := maxAuditName
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
}

// auditFailure writes e (a failed unauthenticated request from addr) unless
// addr has used up its window; then it is counted for the summary.
func (s *Server) auditFailure(addr string, e *AuditEntry) {
	t := &s.failAudit
	now := s.opt.Now()
	var out []*AuditEntry
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]*failWin{}
	}
	if now.Sub(t.lastSweep) >= failWindow {
		t.lastSweep = now
		out = t.sweep(now, false, out)
	}
	w := t.m[addr]
	if w == nil && len(t.m) >= failAddrs {
		addr, w = otherAddrs, t.m[otherAddrs]
	}
	if w != nil && now.Sub(w.start) >= failWindow {
		out = append(out, w.summary(addr))
		w = nil
	}
	if w == nil {
		w = &failWin{start: now, method: e.Method, endpoint: e.Endpoint}
		t.m[addr] = w
	}
	if w.written < failsPerWindow && addr != otherAddrs {
		w.written++
		out = append(out, e)
	} else {
		w.suppressed++
	}
	t.mu.Unlock()
	for _, e := range out {
		if err := s.audit.write(e); err != nil {
			s.log.Error("web: audit log write failed", "err", err)
		}
	}
}

func (w *failWin) summary(addr string) *AuditEntry {
	return &AuditEntry{TS: auditTime(w.start), Remote: addr, Method: w.method, Endpoint: w.endpoint,
		Status: 0, Suppressed: w.suppressed}
}

// sweep ends the windows that are over (all of them when all is set),
// appending summaries of those that suppressed anything.
func (t *failThrottle) sweep(now time.Time, all bool, out []*AuditEntry) []*AuditEntry {
	for addr, w := range t.m {
		if all || now.Sub(w.start) >= failWindow {
			if w.suppressed > 0 {
				out = append(out, w.summary(addr))
			}
			delete(t.m, addr)
		}
	}
	return out
}

// flushFailures writes the pending summaries (Close).
func (s *Server) flushFailures() {
	t := &s.failAudit
	t.mu.Lock()
	out := t.sweep(s.opt.Now(), true, nil)
	t.mu.Unlock()
	for _, e := range out {
		s.audit.write(e)
	}
}

// scanAudit reads a whole audit log (tests and tools).
func scanAudit(r io.Reader) ([]AuditEntry, error) {
	var out []AuditEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

func auditTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
