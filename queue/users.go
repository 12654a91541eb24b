package queue

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Users, their access keys, bucket owners and bucket policies are journaled
// like objects, so that they survive restarts and travel with the archive.
// The journal keeps them as records; what a role, a scope or a policy means
// is package authz's, and secrets reach the journal only sealed (package
// users encrypts them before they are proposed).

// Ops of this file, numbered apart from the object and job ops so that the
// two ranges can grow independently.
const (
	opUserPut      cmdOp = 40
	opUserDelete   cmdOp = 41
	opKeyPut       cmdOp = 42
	opKeyDelete    cmdOp = 43
	opBucketPolicy cmdOp = 44

	opFirstAuth = opUserPut
	opLastAuth  = opBucketPolicy
)

var authOpNames = map[cmdOp]string{
	opUserPut: "UserPut", opUserDelete: "UserDelete", opKeyPut: "KeyPut", opKeyDelete: "KeyDelete",
	opBucketPolicy: "BucketPolicy",
}

func isAuthOp(o cmdOp) bool { return o >= opFirstAuth && o <= opLastAuth }

// Command tags of this file, likewise apart.
const (
	cmdTagUser  = 40 // nested User
	cmdTagAKey  = 41 // nested AccessKey
	cmdTagOwner = 42 // BucketCreate: the owner
)

// Limits of user and key records.
const (
	maxUserLen   = 64
	maxSecretLen = 256
	maxPolicyLen = 20 << 10
	maxScopes    = 64
)

// User is a person or a tool that signs requests with its access keys.
type User struct {
	Name     string
	Role     string // authz role: "admin", "user", "readonly"
	Disabled bool
	// Quota bounds the bytes of the objects in the user's buckets; 0: none.
	Quota   int64
	Created time.Time
}

// AccessKey is one credential of a user.
type AccessKey struct {
	ID   string // the access key ID clients send
	User string
	// Sealed is the secret, encrypted with the data directory's key.
	Sealed []byte
	// Access limits the key: "" (or "full"), "read" or "write" (no delete,
	// no overwrite).
	Access string
	// Scopes limit the key to buckets ("photos") or prefixes
	// ("photos/2024/"); empty: whatever its user may reach.
	Scopes  []string
	Created time.Time
}

// Sentinels of the user records.
var (
	ErrNoSuchUser      = fmt.Errorf("queue: no such user")
	ErrUserExists      = fmt.Errorf("queue: user already exists")
	ErrNoSuchAccessKey = fmt.Errorf("queue: no such access key")
	ErrAccessKeyExists = fmt.Errorf("queue: access key already exists")
)

// bbolt buckets of this file: users (name -> User), akeys (ID -> AccessKey),
// policies (bucket -> policy JSON). keyAuthGen in meta counts changes.
var (
	bktUsers    = []byte("users")
	bktAKeys    = []byte("akeys")
	bktPolicies = []byte("policies")
	keyAuthGen  = []byte("authgen")
)

const (
	userName     = 1
	userRole     = 2
	userDisabled = 3
	userQuota    = 4
	userCreated  = 5

	akeyID      = 1
	akeyUser    = 2
	akeySealed  = 3
	akeyAccess  = 4
	akeyScope   = 5 // repeated
	akeyCreated = 6

	bucketOwner = 3 // in a bucket record, after bucketCreated and bucketSettings
)

func encodeUser(u *User) []byte {
	var e encoder
	e.str(userName, u.Name)
	e.str(userRole, u.Role)
	if u.Disabled {
		e.uint(userDisabled, 1)
	}
	e.int(userQuota, u.Quota)
	e.time(userCreated, u.Created)
	return e.b
}

func decodeUser(b []byte, u *User) error {
	d := decoder{b: b}
	for d.next() {
		switch d.tag {
		case userName:
			u.Name = d.str()
		case userRole:
			u.Role = d.str()
		case userDisabled:
			u.Disabled = d.uint() == 1
		case userQuota:
			u.Quota = d.int()
		case userCreated:
			u.Created = d.time()
		}
	}
	if d.err != nil {
		return fmt.Errorf("decode user: %w", d.err)
	}
	return nil
}

func encodeAccessKey(k *AccessKey) []byte {
	var e encoder
	e.str(akeyID, k.ID)
	e.str(akeyUser, k.User)
	e.bytes(akeySealed, k.Sealed)
	e.str(akeyAccess, k.Access)
	for _, s := range k.Scopes {
		e.str(akeyScope, s)
	}
	e.time(akeyCreated, k.Created)
	return e.b
}

func decodeAccessKey(b []byte, k *AccessKey) error {
	d := decoder{b: b}
	for d.next() {
		switch d.tag {
		case akeyID:
			k.ID = d.str()
		case akeyUser:
			k.User = d.str()
		case akeySealed:
			k.Sealed = d.bytesCopy()
		case akeyAccess:
			k.Access = d.str()
		case akeyScope:
			k.Scopes = append(k.Scopes, d.str())
		case akeyCreated:
			k.Created = d.time()
		}
	}
	if d.err != nil {
		return fmt.Errorf("decode access key: %w", d.err)
	}
	return nil
}

// validateAuth checks the commands of this file.
func validateAuth(c *command, bad func(string, ...any) error) error {
	switch c.Op {
	case opUserPut:
		u := &c.User
		if u.Name == "" || len(u.Name) > maxUserLen {
			return bad("user name must be 1-%d bytes", maxUserLen)
		}
		if u.Role == "" || len(u.Role) > maxUserLen || u.Quota < 0 {
			return bad("user %s needs a role and a quota of 0 or more", u.Name)
		}
	case opUserDelete:
		if c.ID == "" || len(c.ID) > maxUserLen {
			return bad("user name must be 1-%d bytes", maxUserLen)
		}
	case opKeyPut:
		k := &c.AccessKey
		if k.ID == "" || len(k.ID) > maxIDLen || k.User == "" || len(k.User) > maxUserLen {
			return bad("access key needs an ID of 1-%d bytes and a user", maxIDLen)
		}
		if len(k.Sealed) == 0 || len(k.Sealed) > maxSecretLen {
			return bad("access key %s needs a sealed secret of 1-%d bytes", k.ID, maxSecretLen)
		}
		if len(k.Scopes) > maxScopes {
			return bad("access key %s has more than %d scopes", k.ID, maxScopes)
		}
		for _, s := range k.Scopes {
			if s == "" || len(s) > maxBucketLen+1+maxKeyLen {
				return bad("access key %s has an empty or too long scope", k.ID)
			}
		}
		if len(c.ID) > maxIDLen {
			return bad("replaced access key ID too long")
		}
	case opKeyDelete:
		if c.ID == "" || len(c.ID) > maxIDLen {
			return bad("access key ID must be 1-%d bytes", maxIDLen)
		}
	case opBucketPolicy:
		if c.Bucket == "" || len(c.Bucket) > maxBucketLen {
			return bad("bucket name must be 1-%d bytes", maxBucketLen)
		}
		if len(c.Text) > maxPolicyLen {
			return bad("policy over %d bytes", maxPolicyLen)
		}
	}
	return nil
}

// applyAuth applies a command of this file and counts the change.
func (a *applier) applyAuth(c *command) (result, err error) {
	users, akeys, policies := a.tx.Bucket(bktUsers), a.tx.Bucket(bktAKeys), a.tx.Bucket(bktPolicies)
	switch c.Op {
	case opUserPut:
		// c.ID "new" creates only; otherwise the record is replaced.
		if c.ID == "new" && users.Get([]byte(c.User.Name)) != nil {
			return ErrUserExists, nil
		}
		if err := users.Put([]byte(c.User.Name), encodeUser(&c.User)); err != nil {
			return nil, err
		}
	case opUserDelete:
		if users.Get([]byte(c.ID)) == nil {
			return ErrNoSuchUser, nil
		}
		if err := users.Delete([]byte(c.ID)); err != nil {
			return nil, err
		}
		var ids [][]byte
		err := akeys.ForEach(func(k, v []byte) error {
			var ak AccessKey
			if err := decodeAccessKey(v, &ak); err != nil {
				return err
			}
			if ak.User == c.ID {
				ids = append(ids, k)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if err := akeys.Delete(id); err != nil {
				return nil, err
			}
		}
	case opKeyPut:
		k := &c.AccessKey
		if users.Get([]byte(k.User)) == nil {
			return ErrNoSuchUser, nil
		}
		if v := akeys.Get([]byte(k.ID)); v != nil {
			return ErrAccessKeyExists, nil
		}
		if c.ID != "" { // a rotation: the old key goes in the same step
			v := akeys.Get([]byte(c.ID))
			var old AccessKey
			if v == nil {
				return ErrNoSuchAccessKey, nil
			}
			if err := decodeAccessKey(v, &old); err != nil {
				return nil, err
			}
			if old.User != k.User {
				return ErrNoSuchAccessKey, nil
			}
			if err := akeys.Delete([]byte(c.ID)); err != nil {
				return nil, err
			}
		}
		if err := akeys.Put([]byte(k.ID), encodeAccessKey(k)); err != nil {
			return nil, err
		}
	case opKeyDelete:
		if akeys.Get([]byte(c.ID)) == nil {
			return ErrNoSuchAccessKey, nil
		}
		if err := akeys.Delete([]byte(c.ID)); err != nil {
			return nil, err
		}
	case opBucketPolicy:
		if a.buckets.Get([]byte(c.Bucket)) == nil {
			return ErrNoSuchBucket, nil
		}
		var err error
		if c.Text == "" {
			err = policies.Delete([]byte(c.Bucket))
		} else {
			err = policies.Put([]byte(c.Bucket), []byte(c.Text))
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, a.authChanged()
}

// authChanged counts a change that readers of users, keys, owners and
// policies must see (Node.AuthGeneration).
func (a *applier) authChanged() error {
	return addU64(a.tx, keyAuthGen, 1)
}

// AddUser journals a new user; ErrUserExists if the name is taken.
func (n *Node) AddUser(ctx context.Context, u User) error {
	now := time.Now()
	if u.Created.IsZero() {
		u.Created = now
	}
	return n.propose(ctx, &command{Op: opUserPut, Time: now, ID: "new", User: u})
}

// UpdateUser replaces a user's record (role, disabled, quota).
func (n *Node) UpdateUser(ctx context.Context, u User) error {
	return n.propose(ctx, &command{Op: opUserPut, Time: time.Now(), User: u})
}

// RemoveUser deletes a user and every access key of theirs; their buckets
// keep them as owner. ErrNoSuchUser.
func (n *Node) RemoveUser(ctx context.Context, name string) error {
	return n.propose(ctx, &command{Op: opUserDelete, Time: time.Now(), ID: name})
}

// AddAccessKey journals a key of an existing user; with replaces set, the
// user's key of that ID goes in the same step (a rotation). ErrNoSuchUser,
// ErrAccessKeyExists, ErrNoSuchAccessKey.
func (n *Node) AddAccessKey(ctx context.Context, k AccessKey, replaces string) error {
	now := time.Now()
	if k.Created.IsZero() {
		k.Created = now
	}
	return n.propose(ctx, &command{Op: opKeyPut, Time: now, ID: replaces, AccessKey: k})
}

// RevokeAccessKey deletes an access key; ErrNoSuchAccessKey.
func (n *Node) RevokeAccessKey(ctx context.Context, id string) error {
	return n.propose(ctx, &command{Op: opKeyDelete, Time: time.Now(), ID: id})
}

// SetBucketPolicy journals a bucket's policy document ("" deletes it);
// ErrNoSuchBucket. The journal stores the text as given: checking it is
// the caller's.
func (n *Node) SetBucketPolicy(ctx context.Context, bucket, policy string) error {
	return n.propose(ctx, &command{Op: opBucketPolicy, Time: time.Now(), Bucket: bucket, Text: policy})
}

// CreateOwnedBucket creates a bucket that belongs to owner (a user name);
// ErrBucketExists if it exists (no change).
func (n *Node) CreateOwnedBucket(ctx context.Context, name, owner string, created time.Time) error {
	if created.IsZero() {
		created = time.Now()
	}
	return n.propose(ctx, &command{Op: opBucketCreate, Time: created, Bucket: name, Owner: owner})
}

// AuthGeneration changes whenever users, keys, buckets or policies do, so
// that a reader can cache them and reload only after a change.
func (n *Node) AuthGeneration() uint64 { return n.fsm.authGen.Load() }

// Directory is a consistent copy of the users, keys, buckets and policies.
type Directory struct {
	Users    []User
	Keys     []AccessKey
	Buckets  []Bucket
	Policies map[string]string // bucket -> policy JSON
}

// Directory reads every user, key, bucket and policy in one transaction.
func (n *Node) Directory() (Directory, error) {
	d := Directory{Policies: map[string]string{}}
	err := n.fsm.view(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bktUsers).ForEach(func(_, v []byte) error {
			var u User
			err := decodeUser(v, &u)
			d.Users = append(d.Users, u)
			return err
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bktAKeys).ForEach(func(_, v []byte) error {
			var k AccessKey
			err := decodeAccessKey(v, &k)
			d.Keys = append(d.Keys, k)
			return err
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bktBuckets).ForEach(func(k, v []byte) error {
			b, err := decodeBucket(string(k), v)
			d.Buckets = append(d.Buckets, b)
			return err
		}); err != nil {
			return err
		}
		return tx.Bucket(bktPolicies).ForEach(func(k, v []byte) error {
			d.Policies[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		return Directory{}, fmt.Errorf("queue: directory: %w", err)
	}
	return d, nil
}

// OwnerUsage returns the bytes of the objects in the buckets that owner
// owns, noncurrent versions included: what a quota bounds.
func (n *Node) OwnerUsage(owner string) (int64, error) {
	buckets, err := n.Buckets()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, b := range buckets {
		if b.Owner != owner {
			continue
		}
		after := ""
		for {
			objs, more, err := n.ListObjects(b.Name, "", after, 1000)
			if err != nil {
				return 0, err
			}
			for _, o := range objs {
				total += o.Size
			}
			if !more || len(objs) == 0 {
				break
			}
			after = objs[len(objs)-1].Key
		}
		// Noncurrent versions take room too, and S3 bills them.
		noncurrent, err := n.NoncurrentBytes(b.Name)
		if err != nil {
			return 0, err
		}
		total += noncurrent
	}
	return total, nil
}
