package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Webhook formats.
const (
	// FormatJSON posts the Notice as JSON (with "title" and "message").
	FormatJSON = "json"
	// FormatNtfy publishes to an ntfy topic: the URL is the topic's
	// (https://ntfy.sh/TOPIC); the JSON goes to the server's root.
	FormatNtfy = "ntfy"
	// FormatGotify posts a Gotify message: the URL is the server's
	// /message endpoint, the token an application token.
	FormatGotify = "gotify"
)

// WebhookConfig is one webhook.
type WebhookConfig struct {
	URL    string `yaml:"url"`
	Format string `yaml:"format"` // json (default), ntfy or gotify
	// Token is sent as "Authorization: Bearer" (json, ntfy) or as
	// X-Gotify-Key (gotify); empty sends none.
	Token string `yaml:"token"`
}

// validate names the bad field under prefix.
func (c WebhookConfig) validate(prefix string) error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &FieldError{prefix + ".url", fmt.Sprintf("%q is not an http(s) URL", redact(c.URL)),
			"write it like https://ntfy.sh/my-topic or https://hooks.example.com/ipas"}
	}
	switch c.Format {
	case "", FormatJSON, FormatGotify:
	case FormatNtfy:
		if strings.Trim(u.Path, "/") == "" {
			return &FieldError{prefix + ".url", "names no ntfy topic", "write the topic's URL, e.g. https://ntfy.sh/my-topic"}
		}
	default:
		return &FieldError{prefix + ".format", fmt.Sprintf("%q is not a format", c.Format), "use json, ntfy or gotify"}
	}
	return nil
}

// Webhook is a Channel that POSTs each notice to a URL.
type Webhook struct {
	cfg    WebhookConfig
	client *http.Client
}

var _ Channel = (*Webhook)(nil)

// NewWebhook returns the webhook of cfg, sending through client.
func NewWebhook(cfg WebhookConfig, client *http.Client) *Webhook {
	if cfg.Format == "" {
		cfg.Format = FormatJSON
	}
	return &Webhook{cfg: cfg, client: client}
}

// Name implements Channel. It never shows the URL's query, which may hold a token.
func (w *Webhook) Name() string { return "webhook " + redact(w.cfg.URL) }

// ntfyMessage is ntfy's JSON publishing format.
type ntfyMessage struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title"`
	Message  string   `json:"message"`
	Priority int      `json:"priority"`
	Tags     []string `json:"tags"`
}

// gotifyMessage is the body of Gotify's POST /message.
type gotifyMessage struct {
	Title    string `json:"title"`
	Message  string `json:"message"`
	Priority int    `json:"priority"`
}

// jsonNotice is FormatJSON's body: the notice, ready to show.
type jsonNotice struct {
	Notice
	Title   string `json:"title"`
	Message string `json:"message"`
}

// Send implements Channel.
func (w *Webhook) Send(ctx context.Context, n Notice) error {
	target := w.cfg.URL
	var body any
	switch w.cfg.Format {
	case FormatNtfy:
		u, _ := url.Parse(w.cfg.URL) // validated
		path := strings.Trim(u.Path, "/")
		i := strings.LastIndex(path, "/")
		u.Path = "/" + path[:i+1]
		target = u.String()
		tag := "warning"
		if n.Event == EventResolved {
			tag = "white_check_mark"
		}
		body = ntfyMessage{Topic: path[i+1:], Title: n.Title(), Message: n.Message(), Priority: n.Priority(), Tags: []string{tag, n.Kind}}
	case FormatGotify:
		body = gotifyMessage{Title: n.Title(), Message: n.Message(), Priority: 2 * n.Priority()} // Gotify counts 0-10
	default:
		body = jsonNotice{Notice: n, Title: n.Title(), Message: n.Message()}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", w.Name(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", w.Name(), unwrapURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "IPAS-alert")
	if w.cfg.Token != "" {
		if w.cfg.Format == FormatGotify {
			req.Header.Set("X-Gotify-Key", w.cfg.Token)
		} else {
			req.Header.Set("Authorization", "Bearer "+w.cfg.Token)
		}
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", w.Name(), unwrapURL(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: HTTP %d: %s", w.Name(), resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return nil
}

// redact drops a URL's query, user info and fragment: secrets live there.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// unwrapURL drops the URL that *url.Error repeats, which may hold a token.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
