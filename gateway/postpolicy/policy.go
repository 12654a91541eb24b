package postpolicy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
)

// Operations of a condition.
const (
	OpEq            = "eq"
	OpStartsWith    = "starts-with"
	OpContentLength = "content-length-range"
)

// Condition is one entry of a policy's conditions.
type Condition struct {
	Op string
	// Field is the form field, lower-case, without its '$'.
	Field string
	Value string
	// Min and Max bound the file's size (content-length-range).
	Min, Max int64
	// text is how S3 quotes the condition when it fails.
	text string
	// noDollar marks a field written without '$', which never matches.
	noDollar bool
}

// Policy is a parsed policy document.
type Policy struct {
	Expiration time.Time
	Conditions []Condition
}

func errPolicy(format string, args ...any) error {
	return &s3err.APIError{Code: "InvalidPolicyDocument", Message: "Invalid Policy: " + fmt.Sprintf(format, args...),
		Status: http.StatusBadRequest}
}

func errDenied(format string, args ...any) error {
	return s3err.ErrAccessDenied.WithMessage("Invalid according to Policy: " + fmt.Sprintf(format, args...))
}

var errInvalidJSON = errPolicy("Invalid JSON.")

// Parse decodes the base64 policy field and checks the document's shape,
// then its expiration against now. Errors are S3's: InvalidPolicyDocument
// for a malformed document, AccessDenied for an expired one.
func Parse(field string, now time.Time) (*Policy, error) {
	if field == "" {
		return nil, errPolicy("Expecting '{' but found End-of-Input")
	}
	doc, err := base64.StdEncoding.DecodeString(field)
	if err != nil {
		return nil, errPolicy("invalid Base64 encoding.")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, errInvalidJSON
	}
	for k := range top {
		if k != "expiration" && k != "conditions" {
			return nil, errPolicy("Unexpected: %q", k)
		}
	}
	rawExp, ok := top["expiration"]
	if !ok {
		return nil, errPolicy("Policy missing expiration.")
	}
	var exp string
	if err := json.Unmarshal(rawExp, &exp); err != nil {
		return nil, errInvalidJSON
	}
	var p Policy
	if p.Expiration, err = time.Parse(time.RFC3339Nano, exp); err != nil {
		return nil, errPolicy("Invalid 'expiration' value: '%s'", exp)
	}
	rawConds, ok := top["conditions"]
	if !ok {
		return nil, errPolicy("Policy missing conditions.")
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(rawConds, &conds); err != nil {
		return nil, errPolicy("Invalid 'conditions' value: must be a List.")
	}
	for _, raw := range conds {
		c, err := parseCondition(raw)
		if err != nil {
			return nil, err
		}
		p.Conditions = append(p.Conditions, c)
	}
	if now.After(p.Expiration) {
		return nil, errDenied("Policy expired.")
	}
	return &p, nil
}

func parseCondition(raw json.RawMessage) (Condition, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return Condition{}, errInvalidJSON
		}
		if len(m) != 1 {
			return Condition{}, errPolicy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for k, v := range m {
			var value string
			if err := json.Unmarshal(v, &value); err != nil {
				return Condition{}, errPolicy("Invalid Simple-Condition: value must be a string.")
			}
			field := strings.ToLower(k)
			return Condition{Op: OpEq, Field: field, Value: value,
				text: fmt.Sprintf(`["eq", "$%s", %s]`, field, strconv.Quote(value))}, nil
		}
	case len(raw) > 0 && raw[0] == '[':
		return parseListCondition(raw)
	}
	return Condition{}, errPolicy("Invalid condition test: must be a List or Object.")
}

func parseListCondition(raw json.RawMessage) (Condition, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return Condition{}, errInvalidJSON
	}
	if len(list) == 0 {
		return Condition{}, errPolicy("Invalid Condition: missing operation identifier.")
	}
	var op string
	if err := json.Unmarshal(list[0], &op); err != nil {
		return Condition{}, errInvalidJSON
	}
	c := Condition{Op: strings.ToLower(op), text: string(raw)}
	switch c.Op {
	case OpEq, OpStartsWith, OpContentLength:
	default:
		return Condition{}, errPolicy("Invalid Condition: unknown operation '%s'.", op)
	}
	if len(list) != 3 {
		return Condition{}, errPolicy("Invalid %s: wrong number of arguments.", op)
	}
	if c.Op == OpContentLength {
		if json.Unmarshal(list[1], &c.Min) != nil || json.Unmarshal(list[2], &c.Max) != nil {
			return Condition{}, errInvalidJSON
		}
		return c, nil
	}
	var field string
	if json.Unmarshal(list[1], &field) != nil || json.Unmarshal(list[2], &c.Value) != nil {
		return Condition{}, errInvalidJSON
	}
	name, ok := strings.CutPrefix(field, "$")
	c.Field, c.noDollar = strings.ToLower(name), !ok
	return c, nil
}

// Field is one form field, by its lower-case name.
type Field struct {
	Name, Value string
}

// exempt reports whether a form field needs no condition.
func exempt(name string) bool {
	switch name {
	case "policy", "x-amz-signature", "signature", "awsaccesskeyid", "file":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-")
}

// Check matches the form's fields (names lower-case, in form order) against
// the conditions: AccessDenied naming the first condition that fails, or the
// first field no condition names.
func (p *Policy) Check(fields []Field) error {
	values := make(map[string]string, len(fields))
	for _, f := range fields {
		values[f.Name] = f.Value
	}
	named := map[string]bool{}
	for _, c := range p.Conditions {
		if c.Op == OpContentLength {
			continue
		}
		named[c.Field] = true
		if c.noDollar || !c.matches(values[c.Field]) {
			return errDenied("Policy Condition failed: %s", c.text)
		}
	}
	for _, f := range fields {
		if !exempt(f.Name) && !named[f.Name] {
			return errDenied("Extra input fields: %s", f.Name)
		}
	}
	return nil
}

func (c *Condition) matches(v string) bool {
	if c.Op == OpEq {
		return v == c.Value
	}
	if c.Field != "content-type" {
		return strings.HasPrefix(v, c.Value)
	}
	// A content type may list several, each of which must match.
	for _, part := range strings.Split(v, ",") {
		if !strings.HasPrefix(strings.TrimSpace(part), c.Value) {
			return false
		}
	}
	return true
}

// LengthRange returns the content-length-range bounds, ok false when the
// policy sets none.
func (p *Policy) LengthRange() (minSize, maxSize int64, ok bool) {
	for _, c := range p.Conditions {
		if c.Op == OpContentLength {
			return c.Min, c.Max, true
		}
	}
	return 0, 0, false
}

// CheckLength refuses a file outside the content-length-range, with S3's
// extra elements.
func (p *Policy) CheckLength(size int64) error {
	minSize, maxSize, ok := p.LengthRange()
	switch {
	case !ok:
		return nil
	case size > maxSize:
		return s3err.ErrEntityTooLarge.WithElements(
			s3err.Element{Name: "ProposedSize", Value: strconv.FormatInt(size, 10)},
			s3err.Element{Name: "MaxSizeAllowed", Value: strconv.FormatInt(maxSize, 10)})
	case size < minSize:
		return s3err.ErrEntityTooSmall.WithElements(
			s3err.Element{Name: "ProposedSize", Value: strconv.FormatInt(size, 10)},
			s3err.Element{Name: "MinSizeAllowed", Value: strconv.FormatInt(minSize, 10)})
	}
	return nil
}
