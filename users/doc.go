// Package users is the directory of who may sign requests: users, their
// roles and access keys, and what the authorization decision needs to know
// of buckets (owner, policy). Users and keys live in the journal (queue);
// secrets reach it only sealed with AES-256-GCM under a key kept in the data
// directory (mode 0600), so a copied journal or remote index snapshot alone
// does not give them away. The credentials of the config file, the
// environment and first start belong to the built-in user "admin", which is
// not journaled and cannot be removed.
//
// A Directory caches everything in memory and reloads it only when the
// journal's AuthGeneration changes, so that looking up a key and a bucket on
// every request costs two map reads.
package users
