package deliver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Webhook POSTs each alert's JSON to a URL. A network error, 429 or 5xx is
// retried with exponential backoff (Backoff, doubled each time, at most
// MaxBackoff) up to Retries times; any other status is final. The
// dispatcher's queue in front of it is the bounded queue whose overflow is
// counted.
type Webhook struct {
	URL        string
	Headers    map[string]string
	Timeout    time.Duration
	Retries    int
	Backoff    time.Duration
	MaxBackoff time.Duration
	Client     *http.Client
}

// NewWebhook returns a webhook sink with its own HTTP client.
func NewWebhook(url string, timeout time.Duration, retries int, backoff, maxBackoff time.Duration, headers map[string]string) *Webhook {
	return &Webhook{URL: url, Headers: headers, Timeout: timeout, Retries: retries, Backoff: backoff,
		MaxBackoff: maxBackoff, Client: &http.Client{Timeout: timeout}}
}

func (w *Webhook) Name() string { return "webhook" }

// retryable tells a failure worth another attempt from a final one.
func retryable(status int) bool { return status == http.StatusTooManyRequests || status >= 500 }

func (w *Webhook) Deliver(ctx context.Context, e *Event) error {
	delay := w.Backoff
	var last error
	for attempt := 0; ; attempt++ {
		status, err := w.post(ctx, e.JSON)
		switch {
		case err == nil && status/100 == 2:
			return nil
		case err == nil && !retryable(status):
			return fmt.Errorf("webhook %s: HTTP %d (not retried)", w.URL, status)
		case err == nil:
			last = fmt.Errorf("webhook %s: HTTP %d", w.URL, status)
		default:
			last = err
		}
		if attempt >= w.Retries {
			return fmt.Errorf("giving up after %d attempts: %w", attempt+1, last)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("shutting down: %w", last)
		case <-t.C:
		}
		if delay *= 2; delay > w.MaxBackoff {
			delay = w.MaxBackoff
		}
	}
}

func (w *Webhook) post(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gatewarden")
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	resp, err := w.Client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (w *Webhook) Close() error {
	w.Client.CloseIdleConnections()
	return nil
}
