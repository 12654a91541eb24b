package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MaxPolicySize is the largest policy document accepted, as S3's 20 KB.
const MaxPolicySize = 20 << 10

// Policy is a compiled bucket policy.
type Policy struct {
	// Text is the document as it was put, returned by GetBucketPolicy.
	Text       string
	statements []statement
}

type statement struct {
	deny       bool
	anyone     bool            // Principal "*"
	users      map[string]bool // user names
	actions    []string        // lower-case patterns
	resources  []string        // "bucket" or "bucket/pattern"
	bucketOnly []bool          // resources[i] names the bucket itself
}

// PolicyError is a policy that cannot be put: Code is the S3 error code
// (MalformedPolicy or NotImplemented), Reason says what is wrong.
type PolicyError struct {
	Code   string
	Reason string
}

func (e *PolicyError) Error() string { return "authz: " + e.Code + ": " + e.Reason }

func malformed(format string, args ...any) error {
	return &PolicyError{Code: "MalformedPolicy", Reason: fmt.Sprintf(format, args...)}
}

func notImplemented(format string, args ...any) error {
	return &PolicyError{Code: "NotImplemented", Reason: fmt.Sprintf(format, args...)}
}

// stringOrList is a JSON string or array of strings, as AWS allows.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("expected a string or a list of strings")
	}
	*s = many
	return nil
}

type policyDoc struct {
	Version   string          `json:"Version"`
	ID        string          `json:"Id"`
	Statement json.RawMessage `json:"Statement"`
}

type statementDoc struct {
	Sid          string          `json:"Sid"`
	Effect       string          `json:"Effect"`
	Principal    json.RawMessage `json:"Principal"`
	NotPrincipal json.RawMessage `json:"NotPrincipal"`
	Action       stringOrList    `json:"Action"`
	NotAction    json.RawMessage `json:"NotAction"`
	Resource     stringOrList    `json:"Resource"`
	NotResource  json.RawMessage `json:"NotResource"`
	Condition    json.RawMessage `json:"Condition"`
}

// ParsePolicy checks and compiles the policy document text of bucket.
// knownUser says whether a principal's user exists. Errors are *PolicyError.
func ParsePolicy(text, bucket string, knownUser func(string) bool) (*Policy, error) {
	if len(text) > MaxPolicySize {
		return nil, malformed("the policy is %d bytes; policies must be at most %d bytes", len(text), MaxPolicySize)
	}
	var doc policyDoc
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, malformed("the policy is not valid JSON of a bucket policy: %v", err)
	}
	if doc.Version != "" && doc.Version != "2012-10-17" && doc.Version != "2008-10-17" {
		return nil, malformed("unknown Version %q: use 2012-10-17", doc.Version)
	}
	var stmts []statementDoc
	raw := bytes.TrimSpace(doc.Statement)
	if len(raw) > 0 && raw[0] == '{' {
		raw = append(append([]byte{'['}, raw...), ']')
	}
	dec = json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&stmts); err != nil || len(stmts) == 0 {
		return nil, malformed("the policy needs a Statement: one statement or a list of them")
	}
	p := &Policy{Text: text}
	for i, sd := range stmts {
		s, err := compileStatement(sd, bucket, knownUser)
		if err != nil {
			var pe *PolicyError
			if errors.As(err, &pe) {
				pe.Reason = fmt.Sprintf("statement %d: %s", i+1, pe.Reason)
			}
			return nil, err
		}
		p.statements = append(p.statements, s)
	}
	return p, nil
}

func compileStatement(sd statementDoc, bucket string, knownUser func(string) bool) (statement, error) {
	var s statement
	switch {
	case len(sd.Condition) > 0:
		return s, notImplemented("Condition is not implemented by this gateway; remove it (it would not be enforced)")
	case len(sd.NotPrincipal) > 0 || len(sd.NotAction) > 0 || len(sd.NotResource) > 0:
		return s, notImplemented("NotPrincipal, NotAction and NotResource are not implemented by this gateway")
	}
	switch sd.Effect {
	case "Allow":
	case "Deny":
		s.deny = true
	default:
		return s, malformed("Effect must be Allow or Deny, not %q", sd.Effect)
	}
	if err := s.principals(sd.Principal, knownUser); err != nil {
		return s, err
	}
	if len(sd.Action) == 0 {
		return s, malformed("the statement has no Action")
	}
	for _, a := range sd.Action {
		if !validAction(a) {
			return s, malformed("invalid action %q: use s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket or a wildcard over them such as s3:*", a)
		}
		s.actions = append(s.actions, strings.ToLower(a))
	}
	if len(sd.Resource) == 0 {
		return s, malformed("the statement has no Resource")
	}
	for _, r := range sd.Resource {
		rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
		b, pattern, hasKey := strings.Cut(rest, "/")
		if !ok || b != bucket {
			return s, malformed("invalid resource %q: use arn:aws:s3:::%s or arn:aws:s3:::%s/PREFIX*", r, bucket, bucket)
		}
		s.resources = append(s.resources, pattern)
		s.bucketOnly = append(s.bucketOnly, !hasKey)
	}
	return s, nil
}

func (s *statement) principals(raw json.RawMessage, knownUser func(string) bool) error {
	if len(raw) == 0 {
		return malformed("the statement has no Principal")
	}
	var names stringOrList
	if err := json.Unmarshal(raw, &names); err != nil {
		var m map[string]stringOrList
		if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 || m["AWS"] == nil {
			return malformed(`invalid principal %s: use "*" or {"AWS": ["USER", ...]}`, raw)
		}
		names = m["AWS"]
	}
	for _, n := range names {
		if n == "*" {
			s.anyone = true
			continue
		}
		if i := strings.LastIndex(n, ":user/"); strings.HasPrefix(n, "arn:aws:iam::") && i >= 0 {
			n = n[i+len(":user/"):]
		}
		if !knownUser(n) {
			return malformed("invalid principal %q: no such user", n)
		}
		if s.users == nil {
			s.users = map[string]bool{}
		}
		s.users[n] = true
	}
	return nil
}

// validAction reports whether a names or matches at least one grantable
// action, and only such actions.
func validAction(a string) bool {
	l := strings.ToLower(a)
	if l == "*" || l == "s3:*" {
		return true
	}
	for _, g := range Grantable {
		if match(l, strings.ToLower(string(g))) {
			return true
		}
	}
	return false
}

// lowerActions are the actions as policies are matched: lower case.
var lowerActions = func() map[Action]string {
	m := map[Action]string{}
	for _, a := range []Action{GetObject, PutObject, DeleteObject, ListBucket, CreateBucket, DeleteBucket,
		GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy, ListAllMyBuckets} {
		m[a] = strings.ToLower(string(a))
	}
	return m
}()

type effect int

const (
	effectNone effect = iota
	effectAllow
	effectDeny
)

// evaluate returns the effect of the policy on user doing action to key:
// Deny if a statement denies it, else Allow if one allows it.
func (p *Policy) evaluate(user string, action Action, bucket, key string) effect {
	if p == nil {
		return effectNone
	}
	act, ok := lowerActions[action]
	if !ok {
		act = strings.ToLower(string(action))
	}
	out := effectNone
	for i := range p.statements {
		s := &p.statements[i]
		if !s.applies(user, act, action, key) {
			continue
		}
		if s.deny {
			return effectDeny
		}
		out = effectAllow
	}
	return out
}

func (s *statement) applies(user, act string, action Action, key string) bool {
	if !s.anyone && (user == "" || !s.users[user]) {
		return false
	}
	okAction := false
	for _, a := range s.actions {
		if match(a, act) {
			okAction = true
			break
		}
	}
	if !okAction {
		return false
	}
	for i, r := range s.resources {
		switch {
		case s.bucketOnly[i]:
			if action == ListBucket {
				return true
			}
		case action == ListBucket:
			// A listing under a prefix the pattern covers.
			if key != "" && match(r, key) {
				return true
			}
		case key != "" && match(r, key):
			return true
		}
	}
	return false
}

// names reports whether a statement of the policy names user.
func (p *Policy) names(user string) bool {
	if p == nil {
		return false
	}
	for i := range p.statements {
		if !p.statements[i].deny && p.statements[i].users[user] {
			return true
		}
	}
	return false
}

// Public reports whether the policy lets anonymous requests in.
func (p *Policy) Public() bool {
	if p == nil {
		return false
	}
	for i := range p.statements {
		if !p.statements[i].deny && p.statements[i].anyone {
			return true
		}
	}
	return false
}

// match reports whether s matches pattern, where * matches any run of
// characters and ? one character.
func match(pattern, s string) bool {
	px, sx := 0, 0
	star, next := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, next = px, sx
			px++
		case star >= 0:
			px = star + 1
			next++
			sx = next
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
