package alert

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// How the connection to the mail server is secured.
const (
	// SecurityStartTLS upgrades a plain connection with STARTTLS and fails
	// when the server does not offer it (submission, port 587).
	SecurityStartTLS = "starttls"
	// SecurityTLS speaks TLS from the start (port 465).
	SecurityTLS = "tls"
	// SecurityNone sends in clear: only for a relay on this machine.
	SecurityNone = "none"
)

// EmailConfig is the SMTP server and the message's addresses.
type EmailConfig struct {
	Server   string   `yaml:"server"`   // HOST:PORT
	Security string   `yaml:"security"` // starttls (default), tls or none
	Username string   `yaml:"username"` // empty: no AUTH
	Password string   `yaml:"password"`
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	// CAFile, when set, is the PEM certificate(s) to trust for the
	// server instead of the system's (a private mail server's CA).
	CAFile string `yaml:"ca_file"`
}

// configured reports whether the section asks for email at all: any key
// set means yes, so that a half-written section is refused, not ignored.
func (c EmailConfig) configured() bool {
	return c.Server != "" || len(c.To) > 0 || c.From != "" || c.Username != "" || c.Password != "" || c.Security != "" || c.CAFile != ""
}

func (c EmailConfig) validate(prefix string) error {
	host, port, err := net.SplitHostPort(c.Server)
	if err != nil || host == "" || port == "" {
		return &FieldError{prefix + ".server", fmt.Sprintf("%q is not HOST:PORT", c.Server), "write it like smtp.example.com:587"}
	}
	switch c.Security {
	case "", SecurityStartTLS, SecurityTLS:
	case SecurityNone:
		if c.Username != "" && !isLoopback(host) {
			return &FieldError{prefix + ".security", "none would send the password in clear to " + host,
				"use starttls (port 587) or tls (port 465); none is for a relay on this machine"}
		}
	default:
		return &FieldError{prefix + ".security", fmt.Sprintf("%q is not a mode", c.Security), "use starttls, tls or none"}
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return &FieldError{prefix + ".from", fmt.Sprintf("%q is not an address", c.From), "write it like ipas@example.com"}
	}
	if len(c.To) == 0 {
		return &FieldError{prefix + ".to", "is empty", "list at least one address, e.g. [me@example.com]"}
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return &FieldError{fmt.Sprintf("%s.to[%d]", prefix, i), fmt.Sprintf("%q is not an address", to), "write it like me@example.com"}
		}
	}
	if (c.Username == "") != (c.Password == "") {
		return &FieldError{prefix + ".password", "username and password go together", "set both, or neither for a server without AUTH"}
	}
	if c.CAFile != "" {
		if _, err := c.roots(); err != nil {
			return &FieldError{prefix + ".ca_file", err.Error(), "give a PEM file with the mail server's CA certificate"}
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c EmailConfig) roots() (*x509.CertPool, error) {
	if c.CAFile == "" {
		return nil, nil // the system's
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", c.CAFile)
	}
	return pool, nil
}

// Email is a Channel that mails each notice.
type Email struct {
	cfg  EmailConfig
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ Channel = (*Email)(nil)

// NewEmail returns the email channel of cfg (validated).
func NewEmail(cfg EmailConfig) *Email {
	if cfg.Security == "" {
		cfg.Security = SecurityStartTLS
	}
	return &Email{cfg: cfg, dial: (&net.Dialer{}).DialContext}
}

// Name implements Channel.
func (e *Email) Name() string { return "email to " + strings.Join(e.cfg.To, ", ") }

// Send implements Channel: one message to every recipient.
func (e *Email) Send(ctx context.Context, n Notice) error {
	if err := e.send(ctx, n); err != nil {
		return fmt.Errorf("%s via %s: %w", e.Name(), e.cfg.Server, err)
	}
	return nil
}

func (e *Email) send(ctx context.Context, n Notice) error {
	host, _, _ := net.SplitHostPort(e.cfg.Server)
	roots, err := e.cfg.roots()
	if err != nil {
		return err
	}
	tlsConfig := &tls.Config{ServerName: host, RootCAs: roots, MinVersion: tls.VersionTLS12}
	conn, err := e.dial(ctx, "tcp", e.cfg.Server)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // go-smtp takes no context
	defer stop()
	if e.cfg.Security == SecurityTLS {
		conn = tls.Client(conn, tlsConfig)
	}
	var c *smtp.Client
	if e.cfg.Security == SecurityStartTLS {
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			conn.Close()
			return fmt.Errorf("starttls: %w", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.CommandTimeout, c.SubmissionTimeout = time.Until(d), time.Until(d)
	}
	if err := c.Hello("ipas.localhost"); err != nil {
		return err
	}
	if e.cfg.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", e.cfg.Username, e.cfg.Password)); err != nil {
			return fmt.Errorf("auth as %s: %w", e.cfg.Username, err)
		}
	}
	if err := c.SendMail(envelope(e.cfg.From), e.recipients(), strings.NewReader(e.message(n))); err != nil {
		return err
	}
	return c.Quit()
}

// envelope is the bare address of a header address ("IPAS <a@b>" -> a@b).
func envelope(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		return a.Address
	}
	return addr
}

func (e *Email) recipients() []string {
	out := make([]string, len(e.cfg.To))
	for i, to := range e.cfg.To {
		out[i] = envelope(to)
	}
	return out
}

// message is the RFC 5322 message of n: plain text, quoted-printable.
func (e *Email) message(n Notice) string {
	var id [12]byte
	_, _ = rand.Read(id[:])
	domain := "ipas.localhost"
	if _, d, ok := strings.Cut(envelope(e.cfg.From), "@"); ok {
		domain = d
	}
	var b strings.Builder
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", e.cfg.From)
	header("To", strings.Join(e.cfg.To, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", n.Title()))
	header("Date", n.Time.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("X-IPAS-Alert", n.Kind)
	header("X-IPAS-Event", n.Event)
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(n.Message(), "\n", "\r\n") + "\r\n"))
	_ = qp.Close()
	return b.String()
}
