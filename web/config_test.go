package web

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	sum := sha256.Sum256([]byte("tok"))
	good := `
home_country_code: "86"
daemon:
  listen: {web: "127.0.0.1:8443"}
  web:
    users:
      - {name: alice, role: admin, password_bcrypt: "$2a$12$abcdefghijklmnopqrstuv"}
      - {name: bob, role: viewer, password_bcrypt: "$2a$12$abcdefghijklmnopqrstuv"}
    tokens:
      - {name: grafana, role: investigator, token_sha256: "` + hex.EncodeToString(sum[:]) + `"}
    tls: {cert: tls/cert.pem, key: /etc/gw/key.pem}
    audit_log: audit.jsonl
    session_ttl: 8h
    display_time_zone: Asia/Shanghai
`
	c, err := ParseConfig([]byte(good), "/etc/gatewarden")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8443" || len(c.Users) != 2 || c.Users[0].Role != RoleAdmin || c.Users[1].Role != RoleViewer ||
		len(c.Tokens) != 1 || c.Tokens[0].SHA256 != sum || c.Tokens[0].Role != RoleInvestigator ||
		c.TLS.Cert != "/etc/gatewarden/tls/cert.pem" || c.TLS.Key != "/etc/gw/key.pem" ||
		c.AuditLog != "/etc/gatewarden/audit.jsonl" || c.SessionTTL != 8*time.Hour || c.HomeCountryCode != "86" ||
		c.DisplayZone != "Asia/Shanghai" {
		t.Errorf("parsed %+v", c)
	}
	bad := map[string]string{
		"role":     "daemon: {web: {users: [{name: a, role: root, password_bcrypt: \"$2a$x\"}]}}",
		"bcrypt":   "daemon: {web: {users: [{name: a, role: admin, password_bcrypt: plain}]}}",
		"twice":    "daemon: {web: {users: [{name: a, role: admin, password_bcrypt: \"$2a$x\"}, {name: a, role: admin, password_bcrypt: \"$2a$x\"}]}}",
		"token":    "daemon: {web: {tokens: [{name: t, role: admin, token_sha256: abc}]}}",
		"tls":      "daemon: {web: {tls: {cert: a.pem}}}",
		"misspelt": "daemon: {web: {user: []}}",
		"ttl":      "daemon: {web: {session_ttl: forever}}",
		"zone":     "daemon: {web: {display_time_zone: Mars/Olympus}}",
		"cc":       "daemon: {web: {country_code: \"86\"}}", // one country code: home_country_code
	}
	for name, y := range bad {
		if _, err := ParseConfig([]byte(y), "/"); err == nil || !strings.Contains(err.Error(), "daemon.web") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	// A file without a web section is valid: it just serves nobody.
	if c, err := ParseConfig([]byte("home_country_code: \"44\"\n"), "/"); err != nil || len(c.Users) != 0 || c.HomeCountryCode != "44" || c.DisplayZone != "UTC" {
		t.Errorf("no web section: %+v %v", c, err)
	}
	// Without home_country_code, the configuration's default applies.
	if c, err := ParseConfig([]byte("daemon: {}\n"), "/"); err != nil || c.HomeCountryCode != "86" {
		t.Errorf("default country code: %+v %v", c, err)
	}
}

// The example configuration documents the whole daemon.web section, and
// it loads.
func TestExampleConfigDocumentsWeb(t *testing.T) {
	c, err := LoadConfig("../deploy/gatewarden.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Users) == 0 || len(c.Tokens) == 0 || c.AuditLog == "" || c.HomeCountryCode != "86" || c.DisplayZone == "" {
		t.Errorf("example config: %+v", c)
	}
	data, err := os.ReadFile("../deploy/gatewarden.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"users:", "name:", "role:", "password_bcrypt:", "tokens:", "token_sha256:", "tls:", "cert:", "key:",
		"audit_log:", "session_ttl:", "display_time_zone:"}
	rt := reflect.TypeOf(fileWeb{})
	for i := range rt.NumField() {
		if tag := strings.Split(rt.Field(i).Tag.Get("yaml"), ",")[0]; tag != "country_code" && !slices.Contains(keys, tag+":") {
			t.Errorf("daemon.web key %s is not checked here", tag)
		}
	}
	web := string(data[strings.Index(string(data), "\n  web:"):])
	for _, k := range keys {
		if !strings.Contains(web, k) {
			t.Errorf("example config's daemon.web lacks %s", k)
		}
	}
}
