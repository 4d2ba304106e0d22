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
