// Package authz decides who may do what to which bucket and key. It is pure
// logic: a Principal (the user behind an access key, their role and the key's
// limits), an Action (the S3 permission a request needs), a Bucket (its owner
// and its compiled policy) and a key go in; a Decision with the reason comes
// out. The gateway asks Decide once per request (and once per key of a
// multi-object request); nothing else decides access.
//
// The rules: admins may do everything their key allows. A bucket belongs to
// the user who created it; its owner may do everything to it unless the
// bucket's policy denies it. Anyone else, anonymous requests included, needs
// a statement of the bucket's policy that allows the action, and no
// statement that denies it. Only the owner or an admin may delete a bucket
// or change its policy. A readonly user only reads what a policy grants. A
// key may be limited to buckets or prefixes (Scopes) and to reading or to
// writing without deleting or overwriting (Access).
//
// Bucket policies are AWS's JSON grammar, for a subset: Allow and Deny;
// principals "*" or a user name (also as arn:aws:iam::ACCOUNT:user/NAME);
// the actions s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket and
// wildcards over them (s3:*, s3:Get*); resources arn:aws:s3:::BUCKET and
// arn:aws:s3:::BUCKET/PATTERN with * and ? wildcards. s3:ListBucket on a
// BUCKET/PATTERN resource allows listings whose prefix matches the pattern,
// which stands in for AWS's s3:prefix condition. Conditions, NotPrincipal,
// NotAction and NotResource are refused as not implemented, never ignored.
package authz
