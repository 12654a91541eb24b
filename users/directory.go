package users

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/queue"
)

// BuiltinAdmin is the user of the credentials from the config file, the
// environment and first start.
const BuiltinAdmin = authz.AdminUser

// Journal is the part of the journal (*queue.Node) the directory reads and
// writes.
type Journal interface {
	AuthGeneration() uint64
	Directory() (queue.Directory, error)
	AddUser(ctx context.Context, u queue.User) error
	UpdateUser(ctx context.Context, u queue.User) error
	RemoveUser(ctx context.Context, name string) error
	AddAccessKey(ctx context.Context, k queue.AccessKey, replaces string) error
	RevokeAccessKey(ctx context.Context, id string) error
	SetBucketPolicy(ctx context.Context, bucket, policy string) error
	OwnerUsage(owner string) (int64, error)
}

var _ Journal = (*queue.Node)(nil)

// Directory resolves access keys to principals and buckets to what Decide
// needs. Create it with New; it is safe for concurrent use.
type Directory struct {
	journal Journal
	sealer  *Sealer
	builtin map[string]string // access key -> secret, of BuiltinAdmin
	log     zerolog.Logger

	mu   sync.Mutex // serialises reloads
	snap atomic.Pointer[snapshot]
	// lastUsed holds, per access key, the Unix second of its last signed
	// request since the daemon started (*atomic.Int64): in memory only, so
	// that a request costs no journal write.
	lastUsed sync.Map
}

// snapshot is the directory as of one AuthGeneration.
type snapshot struct {
	gen     uint64
	keys    map[string]keyEntry
	users   map[string]queue.User
	akeys   []queue.AccessKey
	buckets map[string]authz.Bucket
	names   []string // bucket names in order
}

type keyEntry struct {
	secret    string
	principal authz.Principal
}

// New returns a directory over journal. builtin are the admin credentials
// of the configuration (access key -> secret); sealer opens the journaled
// secrets.
func New(journal Journal, sealer *Sealer, builtin map[string]string, log zerolog.Logger) *Directory {
	return &Directory{journal: journal, sealer: sealer, builtin: builtin, log: log.With().Str("component", "users").Logger()}
}

// current returns the snapshot of the journal's present generation,
// reloading it after a change. A reload that fails keeps the last one.
func (d *Directory) current() *snapshot {
	gen := d.journal.AuthGeneration()
	if s := d.snap.Load(); s != nil && s.gen == gen {
		return s
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.snap.Load(); s != nil && s.gen == gen {
		return s
	}
	s, err := d.load(gen)
	if err != nil {
		d.log.Error().Err(err).Msg("reload users and buckets; the previous ones stay in force")
		if s := d.snap.Load(); s != nil {
			return s
		}
		s = &snapshot{gen: gen - 1, keys: map[string]keyEntry{}, users: map[string]queue.User{}, buckets: map[string]authz.Bucket{}}
	}
	d.addBuiltin(s)
	d.snap.Store(s)
	return s
}

func (d *Directory) addBuiltin(s *snapshot) {
	for ak, secret := range d.builtin {
		s.keys[ak] = keyEntry{secret: secret, principal: authz.Principal{User: BuiltinAdmin, Role: authz.RoleAdmin, Access: authz.AccessFull}}
	}
}

func (d *Directory) load(gen uint64) (*snapshot, error) {
	dir, err := d.journal.Directory()
	if err != nil {
		return nil, err
	}
	s := &snapshot{gen: gen, keys: map[string]keyEntry{}, users: map[string]queue.User{},
		buckets: make(map[string]authz.Bucket, len(dir.Buckets)), akeys: dir.Keys}
	for _, u := range dir.Users {
		s.users[u.Name] = u
	}
	for _, k := range dir.Keys {
		u, ok := s.users[k.User]
		if !ok || u.Disabled {
			continue
		}
		secret, err := d.sealer.Open(k.ID, k.Sealed)
		if err != nil {
			d.log.Error().Err(err).Str("access_key", k.ID).Msg("access key unusable")
			continue
		}
		access := authz.Access(k.Access)
		if access == "" {
			access = authz.AccessFull
		}
		s.keys[k.ID] = keyEntry{secret: secret, principal: authz.Principal{User: u.Name, Role: authz.Role(u.Role), Access: access, Scopes: k.Scopes}}
	}
	known := func(n string) bool { return s.known(n) }
	for _, b := range dir.Buckets {
		ab := authz.Bucket{Name: b.Name, Exists: true, Owner: b.Owner}
		if text, ok := dir.Policies[b.Name]; ok {
			p, err := authz.ParsePolicy(text, b.Name, known)
			if err != nil {
				// A policy naming a removed user: deny everything it would have
				// granted rather than guess.
				d.log.Warn().Err(err).Str("bucket", b.Name).Msg("bucket policy no longer valid; ignored")
				p = &authz.Policy{Text: text}
			}
			ab.Policy = p
		}
		s.buckets[b.Name] = ab
		s.names = append(s.names, b.Name)
	}
	return s, nil
}

func (s *snapshot) known(name string) bool {
	_, ok := s.users[name]
	return ok || name == BuiltinAdmin
}

// SecretKey implements sigv4.Credentials: the secret of an access key of an
// enabled user.
func (d *Directory) SecretKey(accessKey string) (string, bool) {
	e, ok := d.current().keys[accessKey]
	return e.secret, ok
}

// Principal returns who an access key belongs to; the gateway asks once a
// request's signature is verified, which counts as the key's use.
func (d *Directory) Principal(accessKey string) (authz.Principal, bool) {
	e, ok := d.current().keys[accessKey]
	if ok {
		d.used(accessKey)
	}
	return e.principal, ok
}

func (d *Directory) used(accessKey string) {
	v, ok := d.lastUsed.Load(accessKey)
	if !ok {
		v, _ = d.lastUsed.LoadOrStore(accessKey, new(atomic.Int64))
	}
	if t, now := v.(*atomic.Int64), time.Now().Unix(); t.Load() != now {
		t.Store(now)
	}
}

// LastUsed returns when an access key last signed a request since the
// daemon started (zero: not since then).
func (d *Directory) LastUsed(accessKey string) time.Time {
	if v, ok := d.lastUsed.Load(accessKey); ok {
		return time.Unix(v.(*atomic.Int64).Load(), 0).UTC()
	}
	return time.Time{}
}

// Bucket returns what Decide needs of a bucket (Exists false if there is
// none).
func (d *Directory) Bucket(name string) authz.Bucket {
	if b, ok := d.current().buckets[name]; ok {
		return b
	}
	return authz.Bucket{Name: name}
}

// KnownUser reports whether a user of that name exists.
func (d *Directory) KnownUser(name string) bool { return d.current().known(name) }

// PublicBuckets lists the buckets whose policy lets anonymous requests in.
func (d *Directory) PublicBuckets() []string {
	s := d.current()
	var out []string
	for _, n := range s.names {
		if s.buckets[n].Policy.Public() {
			out = append(out, n)
		}
	}
	return out
}

// SetPolicy checks and journals a bucket policy; "" deletes it. A policy
// that does not parse is an *authz.PolicyError.
func (d *Directory) SetPolicy(ctx context.Context, bucket, text string) error {
	if text != "" {
		if _, err := authz.ParsePolicy(text, bucket, d.KnownUser); err != nil {
			return err
		}
	}
	if err := d.journal.SetBucketPolicy(ctx, bucket, text); err != nil {
		return fmt.Errorf("users: policy of %s: %w", bucket, err)
	}
	return nil
}
