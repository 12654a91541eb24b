package remoteindex

import (
	"maps"

	"github.com/ipas/ipas/queue"
)

// FromQueue is the snapshot line of a journaled object version.
func FromQueue(q *queue.Object) Object {
	o := Object{
		Bucket: q.Bucket, Key: q.Key, VersionID: q.VersionID, Size: q.Size, ETag: q.ETag, SHA256: q.SHA256,
		ModTime: q.ModTime, ContentType: q.ContentType, Metadata: maps.Clone(q.Metadata), Checksums: maps.Clone(q.Checksums),
		Remote:    Replica{ETag: q.Replica.ETag, Size: q.Replica.Size, At: q.Replica.At, VersionID: q.Replica.VersionID},
		Versioned: q.Versioned, DeleteMarker: q.DeleteMarker,
	}
	if len(q.Parts) > 0 {
		o.PartSizes = make([]int64, len(q.Parts))
		o.PartSHA256 = make([]string, len(q.Parts))
		for i, p := range q.Parts {
			o.PartSizes[i] = p.Size
			o.PartSHA256[i] = p.Blob
		}
	}
	return o
}

// ToQueue is the index entry of o once its bytes are local: blob for an
// object in one piece, or parts (one blob per part, in order) for a
// multipart one.
func (o *Object) ToQueue(blob string, parts []queue.ObjectPart) queue.Object {
	q := queue.Object{
		Bucket: o.Bucket, Key: o.Key, VersionID: o.VersionID, Blob: blob, Parts: parts, Size: o.Size, ETag: o.ETag,
		SHA256: o.SHA256, ContentType: o.ContentType, Metadata: maps.Clone(o.Metadata), Checksums: maps.Clone(o.Checksums),
		ModTime: o.ModTime, Versioned: o.Versioned, DeleteMarker: o.DeleteMarker,
	}
	if len(parts) > 0 {
		q.Blob = ""
	}
	return q
}

// usersOf is the journal's users and keys as a snapshot keeps them: no
// secret sealed under the data directory's key; each secret sealed under
// the passphrase when secrets is set (a key whose secret does not open is
// kept without it, and reported).
func usersOf(d queue.Directory, secrets SecretSealer) (out []User, unsealed []string) {
	for _, u := range d.Users {
		su := User{Name: u.Name, Role: u.Role, Disabled: u.Disabled, Quota: u.Quota, Created: u.Created}
		for _, k := range d.Keys {
			if k.User != u.Name {
				continue
			}
			sk := Key{ID: k.ID, Access: k.Access, Scopes: k.Scopes, Created: k.Created}
			if secrets != nil {
				var err error
				if sk.Secret, err = secrets.Reseal(k.ID, k.Sealed); err != nil {
					unsealed = append(unsealed, k.ID)
				}
			}
			su.Keys = append(su.Keys, sk)
		}
		out = append(out, su)
	}
	return out, unsealed
}

func (b *Bucket) setSetting(name, value string) {
	if b.Settings == nil {
		b.Settings = map[string]string{}
	}
	b.Settings[name] = value
}
