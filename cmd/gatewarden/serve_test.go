package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatewarden/gatewarden/analysis/config"
	"github.com/gatewarden/gatewarden/retention"
	"golang.org/x/crypto/bcrypt"
)

func TestPasswd(t *testing.T) {
	var out, errb bytes.Buffer
	if code := passwdMain([]string{"--cost", "10"}, strings.NewReader("correct horse\n"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	hash := strings.TrimSpace(out.String())
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct horse")) != nil {
		t.Errorf("hash %q does not verify", hash)
	}
	if code := passwdMain(nil, strings.NewReader("short\n"), io.Discard, io.Discard); code != 2 {
		t.Errorf("short password: exit %d", code)
	}
	out.Reset()
	if code := passwdMain([]string{"--token"}, nil, &out, io.Discard); code != 0 {
		t.Fatal(code)
	}
	var tok, sum string
	for _, l := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "token: "); ok {
			tok = v
		}
		if v, ok := strings.CutPrefix(l, "token_sha256: "); ok {
			sum = v
		}
	}
	h := sha256.Sum256([]byte(tok))
	if len(tok) < 40 || sum != hex.EncodeToString(h[:]) {
		t.Errorf("token output %q", out.String())
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	st, err := retention.Open(data, retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-pass"), bcrypt.MinCost)
	cfg := filepath.Join(dir, "gatewarden.yaml")
	os.WriteFile(cfg, []byte("daemon:\n  web:\n    users:\n      - {name: ana, role: admin, password_bcrypt: \""+string(hash)+"\"}\n    audit_log: audit.jsonl\n"), 0o600)

	if code := serveMain(context.Background(), []string{"--data", data}, io.Discard, nil); code != 2 {
		t.Errorf("without --config: exit %d", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	var logs bytes.Buffer
	go func() {
		done <- serveMain(ctx, []string{"--data", data, "--config", cfg, "--listen", "127.0.0.1:0"}, &logs, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	get := func(user, pass string) int {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/me", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if c := get("", ""); c != 401 {
		t.Errorf("no auth: %d", c)
	}
	if c := get("ana", "secret-pass"); c != 200 {
		t.Errorf("ana: %d", c)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after shutdown", code)
	}
	audit, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil || !bytes.Contains(audit, []byte(`"user":"ana"`)) {
		t.Errorf("audit log %q %v", audit, err)
	}
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	st, err := retention.Open(data, retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	certPEM, keyPEM := selfSigned(t)
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-pass"), bcrypt.MinCost)
	cfg := filepath.Join(dir, "gatewarden.yaml")
	os.WriteFile(cfg, []byte("daemon:\n  web:\n    users:\n      - {name: ana, role: viewer, password_bcrypt: \""+string(hash)+
		"\"}\n    tls: {cert: cert.pem, key: key.pem}\n    audit_log: audit.jsonl\n"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- serveMain(ctx, []string{"--data", data, "--config", cfg, "--listen", "127.0.0.1:0"}, io.Discard, func(a string) { addrc <- a })
	}()
	addr := <-addrc
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	body := strings.NewReader(`{"user":"ana","password":"secret-pass"}`)
	res, err := client.Post("https://"+addr+"/api/login", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || len(res.Cookies()) != 1 || !res.Cookies()[0].Secure || !res.Cookies()[0].HttpOnly {
		t.Errorf("TLS login: %d, cookies %+v", res.StatusCode, res.Cookies())
	}
	// Plain HTTP to the TLS port is refused.
	if res, err := http.Get("http://" + addr + "/api/me"); err == nil {
		if res.StatusCode == 200 {
			t.Error("plain HTTP served")
		}
		res.Body.Close()
	}
	cancel()
	<-done
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestMountWebInDaemon(t *testing.T) {
	dir := t.TempDir()
	st, err := retention.Open(filepath.Join(dir, "data"), retention.Options{NoSync: true, MinFreeBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hash, _ := bcrypt.GenerateFromPassword([]byte("secret-pass"), bcrypt.MinCost)
	path := filepath.Join(dir, "gatewarden.yaml")
	write := func(users string) *config.Config {
		t.Helper()
		os.WriteFile(path, []byte("daemon:\n  data_dir: data\n  web:\n    users:\n"+users+"    audit_log: audit.jsonl\n"), 0o600)
		c, err := config.Load(path) // the daemon's strict loader accepts the web section
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cur := write("      - {name: ana, role: admin, password_bcrypt: \"" + string(hash) + "\"}\n      - {name: bo, role: viewer, password_bcrypt: \"" + string(hash) + "\"}\n")
	h := mountWeb(WebEnv{Store: st, Config: func() *config.Config { return cur }})
	status := func(user string) int {
		req := httptest.NewRequest("GET", "/api/me", nil)
		if user != "" {
			req.SetBasicAuth(user, "secret-pass")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if status("") != 401 || status("ana") != 200 || status("bo") != 200 {
		t.Fatalf("before reload: %d %d %d", status(""), status("ana"), status("bo"))
	}
	cur = write("      - {name: ana, role: admin, password_bcrypt: \"" + string(hash) + "\"}\n") // SIGHUP: bo removed
	if status("ana") != 200 || status("bo") != 401 {
		t.Errorf("after reload: ana %d, bo %d", status("ana"), status("bo"))
	}
	// No users at all: the UI is disabled, not open.
	os.WriteFile(path, []byte("daemon:\n  data_dir: data\n"), 0o600)
	c, _ := config.Load(path)
	h = mountWeb(WebEnv{Store: st, Config: func() *config.Config { return c }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/me", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("no users: %d", rec.Code)
	}
}
