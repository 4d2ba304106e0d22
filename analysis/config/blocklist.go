package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHomeCountryCode is the country code LoadBlocklist assumes for
// national entries.
const DefaultHomeCountryCode = "86"

// Blocklist is a set of E.164 numbers (digits, no '+') reported by regulators
// or users. It is immutable and safe for concurrent use.
type Blocklist struct {
	numbers map[string]struct{}
}

// Contains reports whether e164 is listed. It does not allocate. A nil
// Blocklist contains nothing.
func (b *Blocklist) Contains(e164 []byte) bool {
	if b == nil || len(e164) == 0 {
		return false
	}
	_, ok := b.numbers[string(e164)]
	return ok
}

// Len is the number of listed numbers.
func (b *Blocklist) Len() int {
	if b == nil {
		return 0
	}
	return len(b.numbers)
}

// LoadBlocklist reads a blocklist whose national entries belong to country
// code 86 (see ParseBlocklist for the format).
func LoadBlocklist(path string) (*Blocklist, error) {
	return LoadBlocklistCC(path, DefaultHomeCountryCode)
}

// LoadBlocklistCC reads a blocklist, prefixing national entries with homeCC.
func LoadBlocklistCC(path, homeCC string) (*Blocklist, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseBlocklist(data, path, homeCC)
}

// ParseBlocklist reads one number per line; '#' starts a comment, blank
// lines are skipped. "+CCNSN" and "00CCNSN" are international; otherwise the
// entry is a national significant number (a leading trunk 0 is dropped) and
// homeCC is prepended, as numplan does for national numbers. name is used in
// error messages ("FILE:LINE: ...").
func ParseBlocklist(data []byte, name, homeCC string) (*Blocklist, error) {
	b := &Blocklist{numbers: map[string]struct{}{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		digits, international := text, true
		switch {
		case strings.HasPrefix(text, "+"):
			digits = text[1:]
		case strings.HasPrefix(text, "00"):
			digits = text[2:]
		case strings.HasPrefix(text, "0"):
			digits, international = text[1:], false
		default:
			international = false
		}
		if !isNumber(digits) {
			return nil, fmt.Errorf("%s:%d: %q is not a number (digits, optionally +CC or 00CC)", name, line, text)
		}
		e164 := digits
		if !international {
			e164 = homeCC + digits
		}
		b.numbers[e164] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return b, nil
}

// Reloader holds a blocklist file and re-reads it when it changes. Its
// Contains may be called from any goroutine while another calls Check.
type Reloader struct {
	path, homeCC string
	list         atomic.Pointer[Blocklist]

	mu        sync.Mutex
	lastCheck time.Time
	modTime   time.Time // of the file last read (good or bad)
	size      int64
	statErr   bool // the last stat failed; report the next failure only after a success
}

// NewReloader loads the file; it fails if the first load does.
func NewReloader(path, homeCC string) (*Reloader, error) {
	r := &Reloader{path: path, homeCC: homeCC}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	b, err := LoadBlocklistCC(path, homeCC)
	if err != nil {
		return nil, err
	}
	r.modTime, r.size = fi.ModTime(), fi.Size()
	r.list.Store(b)
	return r, nil
}

// NewBlocklistReloader returns a Reloader for the configured blocklist_file,
// or nil when there is none.
func (c *Config) NewBlocklistReloader() (*Reloader, error) {
	if c.BlocklistFile == "" {
		return nil, nil
	}
	return NewReloader(c.BlocklistFile, c.HomeCountryCode)
}

// Blocklist is the list currently in force.
func (r *Reloader) Blocklist() *Blocklist { return r.list.Load() }

// Contains reports whether e164 is on the list currently in force. It does
// not allocate.
func (r *Reloader) Contains(e164 []byte) bool { return r.list.Load().Contains(e164) }

// Path is the file being watched.
func (r *Reloader) Path() string { return r.path }

// Check re-reads the file if its modification time or size changed. now is
// wall-clock time, used only to look at the file at most once a second; it
// never affects what the rules decide for a packet. When the new content is
// invalid the old list stays in force and the error is returned once per
// change of the file.
func (r *Reloader) Check(now time.Time) (reloaded bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.lastCheck.IsZero() && now.Sub(r.lastCheck) < time.Second && now.After(r.lastCheck) {
		return false, nil
	}
	r.lastCheck = now
	fi, err := os.Stat(r.path)
	if err != nil {
		if r.statErr {
			return false, nil
		}
		r.statErr = true
		return false, fmt.Errorf("blocklist %s: %w (keeping the %d numbers loaded)", r.path, err, r.list.Load().Len())
	}
	r.statErr = false
	if fi.ModTime().Equal(r.modTime) && fi.Size() == r.size {
		return false, nil
	}
	r.modTime, r.size = fi.ModTime(), fi.Size()
	b, err := LoadBlocklistCC(r.path, r.homeCC)
	if err != nil {
		return false, errors.Join(err, fmt.Errorf("keeping the %d numbers loaded before", r.list.Load().Len()))
	}
	r.list.Store(b)
	return true, nil
}
