package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/ipas/ipas/gateway/sigv4"
)

// PasswordUser is the user name of a session signed in with the console
// password (an empty access key).
const PasswordUser = "console"

// ErrBadPasswordFile marks a password file that holds no bcrypt hash.
var ErrBadPasswordFile = errors.New("console: password file is not a bcrypt hash")

// Login checks what a user types on the sign-in page.
type Login struct {
	// Credentials are the S3 endpoint's: an access key and its secret sign in.
	Credentials sigv4.Credentials
	// IsAdmin, when set, lets only admins' keys sign in: the console steers
	// the whole Pi.
	IsAdmin func(accessKey string) bool
	// PasswordFile holds the bcrypt hash of the console password; empty turns
	// password sign-in off. It is read at each attempt, so replacing the file
	// changes the password without a restart.
	PasswordFile string
}

// check returns the user that accessKey and secret sign in, or ok false.
// err is set only when the password file cannot be read.
func (l Login) check(accessKey, secret string) (user string, ok bool, err error) {
	if secret == "" {
		return "", false, nil
	}
	if accessKey != "" {
		want, found := "", false
		if l.Credentials != nil {
			want, found = l.Credentials.SecretKey(accessKey)
		}
		// Hashing first makes the comparison take the same time whatever the
		// lengths; an unknown key compares against nothing and fails.
		a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(want))
		if subtle.ConstantTimeCompare(a[:], b[:]) == 1 && found && (l.IsAdmin == nil || l.IsAdmin(accessKey)) {
			return accessKey, true, nil
		}
		return "", false, nil
	}
	if l.PasswordFile == "" {
		return "", false, nil
	}
	hash, err := ReadPasswordHash(l.PasswordFile)
	if err != nil {
		return "", false, err
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(secret)) != nil {
		return "", false, nil
	}
	return PasswordUser, true, nil
}

// HashPassword returns the bcrypt hash of password, as stored in a password file.
func HashPassword(password string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("console: hash password: %w", err)
	}
	return append(h, '\n'), nil
}

// ReadPasswordHash reads and checks a password file.
func ReadPasswordHash(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("console: password file: %w", err)
	}
	hash := []byte(strings.TrimSpace(string(raw)))
	if _, err := bcrypt.Cost(hash); err != nil {
		return nil, fmt.Errorf("%w: %s (%v)", ErrBadPasswordFile, path, err)
	}
	return hash, nil
}

// loginLimiter rate-limits sign-in attempts per remote address.
type loginLimiter struct {
	every rate.Limit
	burst int
	now   func() time.Time

	mu     sync.Mutex
	byAddr map[string]*rate.Limiter
}

// maxLimiters bounds the addresses remembered; beyond it the idle ones
// (full buckets) are forgotten, which costs an attacker nothing they had.
const maxLimiters = 4096

func newLoginLimiter(interval time.Duration, burst int, now func() time.Time) *loginLimiter {
	return &loginLimiter{every: rate.Every(interval), burst: burst, now: now, byAddr: map[string]*rate.Limiter{}}
}

// allow takes one attempt for addr; when refused, wait says how long until
// the next one is allowed.
func (l *loginLimiter) allow(addr string) (ok bool, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, found := l.byAddr[addr]
	if !found {
		if len(l.byAddr) >= maxLimiters {
			for a, o := range l.byAddr {
				if o.TokensAt(now) >= float64(l.burst) {
					delete(l.byAddr, a)
				}
			}
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.byAddr[addr] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// remoteHost is the client address without its port: one limit per host.
func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
