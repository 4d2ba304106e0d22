package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // display_time_zone on hosts without a zone database

	"github.com/gatewarden/gatewarden/analysis/config"
	"gopkg.in/yaml.v3"
)

// Role is what an authenticated principal may see and do.
type Role uint8

const (
	RoleViewer       Role = iota + 1 // numbers masked, no pcap, no audit
	RoleInvestigator                 // numbers in clear, pcap download
	RoleAdmin                        // investigator plus the audit log
)

var roleNames = map[Role]string{RoleViewer: "viewer", RoleInvestigator: "investigator", RoleAdmin: "admin"}

func (r Role) String() string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return "none"
}

// ParseRole accepts viewer, investigator and admin.
func ParseRole(s string) (Role, bool) {
	for r, n := range roleNames {
		if n == s {
			return r, true
		}
	}
	return 0, false
}

// User logs in with a password; only its bcrypt hash is kept.
type User struct {
	Name         string
	Role         Role
	PasswordHash string // bcrypt ($2a$/$2b$/$2y$)
}

// Token is an API bearer token; only its SHA-256 is kept, so a leaked
// config file does not leak the token.
type Token struct {
	Name   string
	Role   Role
	SHA256 [32]byte
}

// TLS names the certificate and key files; both empty means plain HTTP.
type TLS struct {
	Cert, Key string
}

// Config is the `daemon.web:` section of the gatewarden config file: who may
// log in, TLS, and where the audit log goes. It is the single source of truth
// for both `gatewarden serve` and `gatewarden run`.
type Config struct {
	Listen     string // daemon.listen.web, when set
	Users      []User
	Tokens     []Token
	TLS        TLS
	AuditLog   string
	SessionTTL time.Duration
	// HomeCountryCode is the file's top-level home_country_code (the one
	// country code of the configuration, also used by analysis and the
	// blocklist): number searches try every form of a number with it.
	HomeCountryCode string
	// DisplayZone is the IANA time zone the UI shows times in
	// (daemon.web.display_time_zone, e.g. Asia/Shanghai; default UTC). The
	// API speaks UTC whatever it is.
	DisplayZone string
}

type fileWeb struct {
	Users []struct {
		Name           string `yaml:"name"`
		Role           string `yaml:"role"`
		PasswordBcrypt string `yaml:"password_bcrypt"`
	} `yaml:"users"`
	Tokens []struct {
		Name        string `yaml:"name"`
		Role        string `yaml:"role"`
		TokenSHA256 string `yaml:"token_sha256"`
	} `yaml:"tokens"`
	TLS struct {
		Cert string `yaml:"cert"`
		Key  string `yaml:"key"`
	} `yaml:"tls"`
	AuditLog    string `yaml:"audit_log"`
	SessionTTL  string `yaml:"session_ttl"`
	DisplayZone string `yaml:"display_time_zone"`
	// CountryCode is refused with a pointer to home_country_code.
	CountryCode *string `yaml:"country_code"`
}

// LoadConfig reads the daemon.web section (and daemon.listen.web) of the
// config file at path. Relative paths are resolved against the file's
// directory. The rest of the file is left to analysis/config.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("web config: %w", err)
	}
	return ParseConfig(data, filepath.Dir(path))
}

// ParseConfig is LoadConfig on bytes already read; dir resolves relative paths.
func ParseConfig(data []byte, dir string) (Config, error) {
	var outer struct {
		HomeCountryCode *string `yaml:"home_country_code"`
		Daemon          struct {
			Listen struct {
				Web string `yaml:"web"`
			} `yaml:"listen"`
			Web yaml.Node `yaml:"web"`
		} `yaml:"daemon"`
	}
	if err := yaml.Unmarshal(data, &outer); err != nil {
		return Config{}, fmt.Errorf("web config: %w", err)
	}
	var f fileWeb
	if outer.Daemon.Web.Kind != 0 {
		raw, err := yaml.Marshal(&outer.Daemon.Web)
		if err != nil {
			return Config{}, fmt.Errorf("web config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true) // a misspelt key must not silently drop a user
		if err := dec.Decode(&f); err != nil {
			return Config{}, fmt.Errorf("web config: daemon.web: %w", err)
		}
	}
	resolve := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c := Config{Listen: outer.Daemon.Listen.Web, SessionTTL: 12 * time.Hour, HomeCountryCode: config.DefaultHomeCountryCode, DisplayZone: "UTC"}
	if outer.HomeCountryCode != nil {
		c.HomeCountryCode = *outer.HomeCountryCode
	}
	var probs []string
	if f.CountryCode != nil {
		probs = append(probs, "daemon.web.country_code: removed; number searches use the top-level home_country_code")
	}
	if f.DisplayZone != "" {
		if _, err := time.LoadLocation(f.DisplayZone); err != nil {
			probs = append(probs, "daemon.web.display_time_zone: "+f.DisplayZone+" is not an IANA time zone (e.g. Asia/Shanghai)")
		} else {
			c.DisplayZone = f.DisplayZone
		}
	}
	seen := map[string]bool{}
	for i, u := range f.Users {
		key := fmt.Sprintf("daemon.web.users[%d]", i)
		r, ok := ParseRole(u.Role)
		switch {
		case u.Name == "" || strings.ContainsAny(u.Name, ": \t"):
			probs = append(probs, key+": name is empty or contains ':' or spaces")
		case seen[u.Name]:
			probs = append(probs, key+": user "+u.Name+" listed twice")
		case !ok:
			probs = append(probs, key+": role "+u.Role+" is not viewer, investigator or admin")
		case !strings.HasPrefix(u.PasswordBcrypt, "$2"):
			probs = append(probs, key+": password_bcrypt is not a bcrypt hash (make one with `gatewarden passwd`)")
		}
		seen[u.Name] = true
		c.Users = append(c.Users, User{Name: u.Name, Role: r, PasswordHash: u.PasswordBcrypt})
	}
	for i, t := range f.Tokens {
		key := fmt.Sprintf("daemon.web.tokens[%d]", i)
		r, ok := ParseRole(t.Role)
		sum, err := hex.DecodeString(t.TokenSHA256)
		switch {
		case t.Name == "":
			probs = append(probs, key+": name is empty")
		case !ok:
			probs = append(probs, key+": role "+t.Role+" is not viewer, investigator or admin")
		case err != nil || len(sum) != sha256.Size:
			probs = append(probs, key+": token_sha256 is not 64 hex digits (make one with `gatewarden passwd --token`)")
		}
		tok := Token{Name: t.Name, Role: r}
		copy(tok.SHA256[:], sum)
		c.Tokens = append(c.Tokens, tok)
	}
	c.TLS = TLS{Cert: resolve(f.TLS.Cert), Key: resolve(f.TLS.Key)}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		probs = append(probs, "daemon.web.tls: set both cert and key, or neither")
	}
	c.AuditLog = resolve(f.AuditLog)
	if f.SessionTTL != "" {
		d, err := time.ParseDuration(f.SessionTTL)
		if err != nil || d <= 0 {
			probs = append(probs, "daemon.web.session_ttl: "+f.SessionTTL+" is not a positive duration")
		}
		c.SessionTTL = d
	}
	if len(probs) > 0 {
		return c, errors.New("web config: " + strings.Join(probs, "; "))
	}
	return c, nil
}
