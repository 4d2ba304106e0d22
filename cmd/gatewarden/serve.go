package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gatewarden/gatewarden/retention"
	"github.com/gatewarden/gatewarden/web"
	"golang.org/x/crypto/bcrypt"
)

func init() {
	register("serve", "serve the investigator web UI and API over a stored data directory", runServe)
	register("passwd", "hash a web UI password (stdin) with bcrypt, or make an API token", runPasswd)
	WebMount = mountWeb
}

// mountWeb is the daemon's hook (run.go WebMount): the same handler as
// `serve`, over the live store, configured from daemon.web of the config in
// force. When SIGHUP swaps the config, users and tokens are reloaded. A bad
// web section disables the UI (503 with the reason) rather than serving it
// unprotected.
func mountWeb(env WebEnv) http.Handler {
	log := env.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	disabled := func(err error) http.Handler {
		log.Error("web UI disabled", "err", err)
		msg, _ := json.Marshal(map[string]string{"error": "web UI disabled: " + err.Error()})
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write(msg)
		})
	}
	cfg := env.Config()
	if cfg == nil || cfg.File == "" {
		return disabled(errors.New("no config file with a daemon.web section"))
	}
	wc, err := web.LoadConfig(cfg.File)
	if err != nil {
		return disabled(err)
	}
	if wc.TLS.Cert != "" && !env.TLS {
		// Serving passwords in clear when TLS was asked for would be worse
		// than not serving at all.
		return disabled(errors.New("daemon.web.tls is set but the listener is plain HTTP"))
	}
	srv, err := web.New(env.Store, web.Options{Config: wc, Logger: log})
	if err != nil {
		return disabled(err)
	}
	var mu sync.Mutex
	last := cfg
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := env.Config(); c != nil {
			mu.Lock()
			if c != last {
				last = c
				if nwc, err := web.LoadConfig(c.File); err != nil {
					log.Error("web: reload kept the previous users and tokens", "err", err)
				} else {
					srv.SetAccess(nwc.Users, nwc.Tokens)
					log.Info("web: users and tokens reloaded", "users", len(nwc.Users), "tokens", len(nwc.Tokens))
				}
			}
			mu.Unlock()
		}
		srv.ServeHTTP(w, r)
	})
}

func runServe(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveMain(ctx, args, os.Stderr, nil)
}

// serveMain runs until ctx is done. ready, when set, receives the bound
// address once the server listens (tests use port 0).
func serveMain(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "retention directory (required)")
	cfgPath := fs.String("config", "", "gatewarden config file with the daemon.web section: users, tokens, tls, audit_log (required)")
	listen := fs.String("listen", "", "address to listen on (default: daemon.listen.web, else 127.0.0.1:8080)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *data == "" || *cfgPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "gatewarden serve: usage: gatewarden serve --data DIR --config FILE [--listen ADDR]")
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg, err := web.LoadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden serve: %v\n", err)
		return 2
	}
	addr := *listen
	if addr == "" {
		addr = cfg.Listen
	}
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	if _, err := os.Stat(*data); err != nil {
		fmt.Fprintf(stderr, "gatewarden serve: --data: %v\n", err)
		return 2
	}
	// Read-only: serve may run beside the daemon that writes the store.
	st, err := retention.Open(*data, retention.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden serve: %v\n", err)
		return 1
	}
	defer st.Close()
	h, err := web.New(st, web.Options{Config: cfg, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden serve: %v\n", err)
		return 2
	}
	defer h.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden serve: %v\n", err)
		return 1
	}
	srv := web.NewHTTPServer(addr, h, logger)
	scheme := "http"
	if cfg.TLS.Cert != "" {
		scheme = "https"
	}
	logger.Info("serving", "url", scheme+"://"+ln.Addr().String()+"/", "data", *data, "users", len(cfg.Users), "tokens", len(cfg.Tokens), "audit_log", cfg.AuditLog)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLS.Cert != "" {
			errc <- srv.ServeTLS(ln, cfg.TLS.Cert, cfg.TLS.Key)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "gatewarden serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "gatewarden serve: shutdown: %v\n", err)
	}
	return 0
}

func runPasswd(args []string) int { return passwdMain(args, os.Stdin, os.Stdout, os.Stderr) }

// passwdMain prints the bcrypt hash of the password read from stdin (for
// daemon.web.users[].password_bcrypt), or with --token a new random API
// token and the SHA-256 that goes in daemon.web.tokens[].token_sha256.
func passwdMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	token := fs.Bool("token", false, "make a random API token instead and print it with its SHA-256")
	cost := fs.Int("cost", 12, "bcrypt cost (10-15)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *cost < 10 || *cost > 15 {
		fmt.Fprintln(stderr, "gatewarden passwd: usage: gatewarden passwd [--cost N] < password   |   gatewarden passwd --token")
		return 2
	}
	if *token {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			fmt.Fprintf(stderr, "gatewarden passwd: %v\n", err)
			return 1
		}
		tok := "gw_" + hex.EncodeToString(b[:])
		sum := sha256.Sum256([]byte(tok))
		fmt.Fprintf(stdout, "token: %s\ntoken_sha256: %s\n", tok, hex.EncodeToString(sum[:]))
		return 0
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "gatewarden passwd: %v\n", err)
		return 1
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 8 {
		fmt.Fprintln(stderr, "gatewarden passwd: password must be at least 8 characters (read from stdin)")
		return 2
	}
	if len(pw) > 72 {
		fmt.Fprintln(stderr, "gatewarden passwd: bcrypt uses at most 72 bytes of a password")
		return 2
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), *cost)
	if err != nil {
		fmt.Fprintf(stderr, "gatewarden passwd: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, string(hash))
	return 0
}
