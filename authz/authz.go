package authz

import (
	"slices"
	"strings"
)

// Role is what a user may do beyond their own buckets.
type Role string

// Roles.
const (
	// RoleAdmin may do everything, including the admin API and the console.
	RoleAdmin Role = "admin"
	// RoleUser owns the buckets they create.
	RoleUser Role = "user"
	// RoleReadOnly reads what bucket policies grant them, and nothing else.
	RoleReadOnly Role = "readonly"
)

// Roles lists the valid roles.
var Roles = []Role{RoleAdmin, RoleUser, RoleReadOnly}

// Access limits what an access key may do, whatever its user may.
type Access string

// Access limits.
const (
	// AccessFull adds no limit.
	AccessFull Access = "full"
	// AccessRead reads and lists only.
	AccessRead Access = "read"
	// AccessWrite reads, lists and creates objects, but neither deletes nor
	// overwrites one: the key for a backup tool that ransomware on the
	// laptop cannot turn against the backups.
	AccessWrite Access = "write"
)

// Accesses lists the valid access limits.
var Accesses = []Access{AccessFull, AccessRead, AccessWrite}

// Principal is who signed a request.
type Principal struct {
	// User is the user's name; "" for an anonymous request.
	User   string
	Role   Role
	Access Access
	// Scopes limit the key to buckets ("photos") or key prefixes
	// ("photos/2024/"); empty: no limit.
	Scopes []string
}

// AdminUser is the user of the configured credentials (package users), the
// owner of buckets made before users existed.
const AdminUser = "admin"

// Anonymous is the principal of an unsigned request.
var Anonymous = Principal{}

// IsAnonymous reports whether p signed nothing.
func (p Principal) IsAnonymous() bool { return p.User == "" }

// Action is the permission a request needs, named as in AWS policies.
type Action string

// Actions a policy may grant, and those only an owner or an admin has.
const (
	GetObject    Action = "s3:GetObject"
	PutObject    Action = "s3:PutObject"
	DeleteObject Action = "s3:DeleteObject"
	ListBucket   Action = "s3:ListBucket"

	CreateBucket       Action = "s3:CreateBucket"
	DeleteBucket       Action = "s3:DeleteBucket"
	GetBucketPolicy    Action = "s3:GetBucketPolicy"
	PutBucketPolicy    Action = "s3:PutBucketPolicy"
	DeleteBucketPolicy Action = "s3:DeleteBucketPolicy"
	// ListAllMyBuckets is ListBuckets, which everyone signed may call: it
	// lists what Visible says.
	ListAllMyBuckets Action = "s3:ListAllMyBuckets"
)

// Grantable are the actions a bucket policy may name.
var Grantable = []Action{GetObject, PutObject, DeleteObject, ListBucket}

// reads are what a read-only key or user may do.
func (a Action) read() bool { return a == GetObject || a == ListBucket }

// Bucket is what Decide needs to know of a bucket.
type Bucket struct {
	Name   string
	Exists bool
	// Owner is the creator's user name; "" means the admins own it.
	Owner  string
	Policy *Policy // nil: none
}

// Decision is Decide's answer.
type Decision struct {
	Allow  bool
	Reason string
	// NoOverwrite asks the caller to refuse a write that would replace an
	// existing object (a write-only key).
	NoOverwrite bool
}

func deny(reason string) Decision { return Decision{Reason: reason} }

// Decide says whether p may do action to key in b. For ListBucket, key is
// the listing's prefix; for bucket actions it is "".
func Decide(p Principal, action Action, b Bucket, key string) Decision {
	if action == ListAllMyBuckets {
		return Decision{Allow: !p.IsAnonymous(), Reason: "ListBuckets needs a signed request"}
	}
	if !p.IsAnonymous() {
		if d, limited := keyLimits(p, action, b.Name, key); limited {
			return d
		}
	}
	if !b.Exists {
		if p.IsAnonymous() {
			// Unsigned requests learn nothing, not even what does not exist.
			return deny("anonymous requests reach only what a public policy allows")
		}
		// The handler answers NoSuchBucket, as S3 does, or creates it.
		if action == CreateBucket && p.Role == RoleReadOnly {
			return deny("creating a bucket needs the role user or admin")
		}
		return allow(p)
	}
	owner := Owns(p, b)
	switch action {
	case CreateBucket:
		return allow(p) // the handler answers that it exists
	case DeleteBucket, GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy:
		if !owner {
			return deny("only the bucket's owner or an admin may " + string(action))
		}
		return allow(p)
	}
	if p.Role == RoleAdmin {
		return allow(p)
	}
	effect := b.Policy.evaluate(p.User, action, b.Name, key)
	switch {
	case effect == effectDeny:
		return deny("the bucket policy denies " + string(action))
	case p.Role == RoleReadOnly && !action.read():
		return deny("a readonly user may only read")
	case owner || effect == effectAllow:
		return allow(p)
	}
	return deny("the bucket belongs to another user and no policy grants " + string(action))
}

// Owns reports whether p may act as b's owner: its creator, or an admin.
func Owns(p Principal, b Bucket) bool {
	return p.Role == RoleAdmin || (!p.IsAnonymous() && b.Owner == p.User)
}

func allow(p Principal) Decision {
	return Decision{Allow: true, NoOverwrite: p.Access == AccessWrite}
}

// keyLimits applies the key's Access and Scopes; limited is true when they
// decide (a denial).
func keyLimits(p Principal, action Action, bucket, key string) (Decision, bool) {
	switch p.Access {
	case AccessRead:
		if !action.read() {
			return deny("the access key may only read"), true
		}
	case AccessWrite:
		if !action.read() && action != PutObject && action != CreateBucket {
			return deny("the access key may read and write but not delete"), true
		}
	}
	// A listing must stay under the scope's prefix; other bucket actions
	// (key "") reach a bucket that a scope names.
	if len(p.Scopes) > 0 && (!InScope(p.Scopes, bucket, key) || action == ListBucket && !listInScope(p.Scopes, bucket, key)) {
		return deny("the access key is limited to " + strings.Join(p.Scopes, ", ")), true
	}
	return Decision{}, false
}

// InScope reports whether bucket/key lies inside one of scopes. A bucket
// alone (key "") is inside a scope that names it or a prefix of it, so that
// a key limited to a prefix can still reach its bucket.
func InScope(scopes []string, bucket, key string) bool {
	return slices.ContainsFunc(scopes, func(s string) bool {
		b, prefix, hasPrefix := strings.Cut(s, "/")
		if b != bucket {
			return false
		}
		return !hasPrefix || key == "" || strings.HasPrefix(key, prefix)
	})
}

// listInScope reports whether a listing of bucket under prefix stays inside
// one of scopes.
func listInScope(scopes []string, bucket, prefix string) bool {
	return slices.ContainsFunc(scopes, func(s string) bool {
		b, scope, _ := strings.Cut(s, "/")
		return b == bucket && strings.HasPrefix(prefix, scope)
	})
}

// Visible reports whether ListBuckets shows b to p: their own buckets, every
// bucket to an admin, and buckets whose policy names p's user.
func Visible(p Principal, b Bucket) bool {
	if p.IsAnonymous() || (len(p.Scopes) > 0 && !InScope(p.Scopes, b.Name, "")) {
		return false
	}
	return p.Role == RoleAdmin || b.Owner == p.User || b.Policy.names(p.User)
}
