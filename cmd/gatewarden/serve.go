package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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

	"github.com/gatewarden/gatewarden/central"
	"github.com/gatewarden/gatewarden/retention"
	"github.com/gatewarden/gatewarden/web"
	"golang.org/x/crypto/bcrypt"
)

func init() {
	register("serve", "serve the investigator web UI and API over a stored data directory or the central ClickHouse", runServe)
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
	fs := newFlagSet("serve", helpOut, stderr)
	fs.synopsis = "(--data DIR | --clickhouse DSN) --config FILE [--listen ADDR] [--log-format json|text]"
	fs.about = "Serves the investigator web UI and API over a store, read-only (it may run beside the daemon),\nor over the central ClickHouse store every box ships to: calls of every box, the box on each,\nand the path of a call across gateways."
	data := fs.String("data", "", "the daemon's data_dir or the store inside it")
	dsn := fs.String("clickhouse", "", "the central store instead of --data, e.g. clickhouse://127.0.0.1:9000/gatewarden")
	cfgPath := fs.String("config", "", "gatewarden config file with the daemon.web section: users, tokens, tls, audit_log (required)")
	listen := fs.String("listen", "", "address to listen on (default: daemon.listen.web, else 127.0.0.1:8080)")
	logFormat := fs.logFormatFlag()
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if (*data == "") == (*dsn == "") || *cfgPath == "" {
		return fs.usageError("--config and one of --data or --clickhouse are required")
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	logger, lerr := newCLILogger(stderr, *logFormat, "")
	if lerr != nil {
		return fs.usageError("%v", lerr)
	}
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
	var h *web.Server
	var herr error
	from := ""
	if *dsn != "" {
		o, err := central.ParseDSN(*dsn)
		if err != nil {
			return fs.usageError("--clickhouse: %v", err)
		}
		c, err := central.Open(ctx, o)
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden serve: %v\n", err)
			return 1
		}
		defer c.Close()
		h, herr = web.NewCentral(c, web.Options{Config: cfg, Logger: logger})
		from = "clickhouse " + strings.Join(o.Addr, ",") + "/" + o.Database
	} else {
		storeDir, err := resolveData(*data)
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden serve: %v\n", err)
			return exitFailed
		}
		// Read-only: serve may run beside the daemon that writes the store.
		st, err := retention.Open(storeDir, retention.Options{ReadOnly: true})
		if err != nil {
			fmt.Fprintf(stderr, "gatewarden serve: %v\n", err)
			return 1
		}
		defer st.Close()
		h, herr = web.New(st, web.Options{Config: cfg, Logger: logger})
		from = storeDir
	}
	if err := herr; err != nil {
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
	logger.Info("serving", "url", scheme+"://"+ln.Addr().String()+"/", "data", from, "users", len(cfg.Users), "tokens", len(cfg.Tokens), "audit_log", cfg.AuditLog)
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
	fs := newFlagSet("passwd", stdout, stderr)
	fs.synopsis = "[--cost N] < password   |   gatewarden passwd --token"
	fs.about = "Prints the bcrypt hash of the password read from stdin (for daemon.web.users[].password_bcrypt),\nor with --token a new API token and the SHA-256 for daemon.web.tokens[].token_sha256."
	token := fs.Bool("token", false, "make a random API token instead and print it with its SHA-256")
	cost := fs.Int("cost", 12, "bcrypt cost (10-15)")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	if *cost < 10 || *cost > 15 {
		return fs.usageError("--cost must be 10 to 15, not %d", *cost)
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
