package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestDaemonWebTLS: with daemon.web.tls set, the daemon's UI listener speaks
// TLS (login works, the cookie is Secure) and plain HTTP gets nothing.
func TestDaemonWebTLS(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "spool"), 0o755)
	certPEM, keyPEM := selfSigned(t)
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-pass"), bcrypt.MinCost)
	web := freePort(t)
	cfgPath := scenarioConfig(t, dir, "daemon:\n  pcap_dir: spool\n  data_dir: data\n  retention: {min_free_mib: -1}\n"+
		"  listen: {metrics: \"\", web: \""+web+"\"}\n  web:\n    users:\n      - {name: ana, role: investigator, password_bcrypt: \""+
		string(hash)+"\"}\n    tls: {cert: cert.pem, key: key.pem}\n    audit_log: audit.jsonl\n")
	d := mustStart(t, cfgPath, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer d.stop(context.Background())

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	res, err := client.Post("https://"+web+"/api/login", "application/json", strings.NewReader(`{"user":"ana","password":"secret-pass"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || len(res.Cookies()) != 1 || !res.Cookies()[0].Secure {
		t.Errorf("TLS login through the daemon: %d, cookies %+v", res.StatusCode, res.Cookies())
	}
	if res, err := http.Get("http://" + web + "/api/me"); err == nil {
		if res.StatusCode == 200 {
			t.Error("plain HTTP served by a TLS listener")
		}
		res.Body.Close()
	}
}

// TestDaemonWebTLSBadCert: a certificate that does not load fails the start
// with the key that names it.
func TestDaemonWebTLSBadCert(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "spool"), 0o755)
	os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("not a certificate"), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), []byte("not a key"), 0o600)
	cfgPath := scenarioConfig(t, dir, "daemon:\n  pcap_dir: spool\n  data_dir: data\n  retention: {min_free_mib: -1}\n"+
		"  listen: {metrics: \"\", web: \""+freePort(t)+"\"}\n  web:\n    tokens: []\n    tls: {cert: cert.pem, key: key.pem}\n")
	gen, err := loadGeneration(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := startDaemon(cfgPath, gen, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		d.stop(context.Background())
		t.Fatal("daemon started with an unreadable certificate")
	}
	if !strings.Contains(err.Error(), "daemon.web.tls") {
		t.Errorf("error does not name the key: %v", err)
	}
}
