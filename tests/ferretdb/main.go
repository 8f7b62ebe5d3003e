// Command msvc-ferretdb runs an embedded FerretDB (MongoDB wire protocol over
// SQLite) for msvc's tests.
//
// FerretDB's own cmd/ferretdb refuses to start when built from the module
// cache: its build/version package panics unless a version.txt generated from
// a git checkout is embedded, and it only checks when the main module is
// FerretDB itself.  This launcher is its own main module, so that check is
// skipped, and it uses the documented embeddable package instead.
//
// Usage:
//
//	msvc-ferretdb -listen 127.0.0.1:PORT -dir DIR [-url-file FILE]
//	              [-tls-cert CERT.pem -tls-key KEY.pem]
//
// It prints the mongodb:// URI on stdout once the listener is up (and writes
// it to -url-file, if given), then serves until SIGINT or SIGTERM.  A port of
// 0 lets the kernel choose a free one.  With -tls-cert and -tls-key the
// listener speaks TLS only, and the URI carries tls=true.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	dir := flag.String("dir", "", "SQLite data directory (required)")
	urlFile := flag.String("url-file", "", "file to write the mongodb:// URI to")
	tlsCert := flag.String("tls-cert", "", "TLS certificate (PEM); enables TLS")
	tlsKey := flag.String("tls-key", "", "TLS private key (PEM)")
	verbose := flag.Bool("v", false, "log at info level instead of warnings only")
	flag.Parse()

	listener := ferretdb.ListenerConfig{TCP: *listen}
	if *tlsCert != "" || *tlsKey != "" {
		listener = ferretdb.ListenerConfig{TLS: *listen, TLSCertFile: *tlsCert, TLSKeyFile: *tlsKey}
	}

	if err := run(listener, *dir, *urlFile, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "msvc-ferretdb:", err)
		os.Exit(1)
	}
}

func run(listener ferretdb.ListenerConfig, dir, urlFile string, verbose bool) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// MongoDBURI waits until Run has bound the listener.
	uri := f.MongoDBURI()
	if urlFile != "" {
		tmp := urlFile + ".tmp"
		if err = os.WriteFile(tmp, []byte(uri+"\n"), 0o644); err != nil {
			return err
		}
		if err = os.Rename(tmp, urlFile); err != nil {
			return err
		}
	}
	fmt.Println(uri)

	return <-done
}
