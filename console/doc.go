// Package console is the web console: a few pages, served on their own
// address, that show whether the archive is offsite and steer replication
// (pause, resume, bandwidth) from a browser, a phone included.
//
// Everything it serves is embedded in the binary (assets/): plain HTML, one
// stylesheet and one small vanilla JavaScript file, with no build step and no
// framework. The pages render the JSON of the typed endpoints below, and a
// status change reaches every open page over one server-sent-events stream
// fed by a single shared poll of the Controller (see hub). Vanilla JS was
// chosen over server-rendered templates with htmx because the live overview
// needs client-side rendering of streamed JSON anyway, because the same JSON
// endpoints are the ones the tests and the CLI's admin API speak, and because
// a few hundred lines of plain DOM code have nothing to vendor or upgrade.
//
// The console does what the admin API does, through the same admin.Controller,
// but authenticates with a session instead of SigV4: a user signs in with an
// S3 credential's access key and secret or with the console password (a bcrypt
// hash in a file the daemon reads at each sign-in), gets an HttpOnly,
// SameSite=Strict cookie (Secure over TLS) and a CSRF token that every
// state-changing request must echo in the X-CSRF-Token header. Sign-in
// attempts are rate-limited per remote address; sessions end after
// IdleTimeout without a request and SessionLifetime after sign-in.
//
// Endpoints (JSON; errors are admin.ErrorBody):
//
//	POST /api/v1/login                   {"access_key","secret"} -> Session
//	POST /api/v1/logout                  (CSRF)
//	GET  /api/v1/session                 -> Session
//	GET  /api/v1/status                  -> admin.Status
//	GET  /api/v1/events                  text/event-stream of "status" events
//	POST /api/v1/replication/pause       (CSRF)
//	POST /api/v1/replication/resume      (CSRF)
//	PUT  /api/v1/replication/bandwidth   {"bandwidth": "300KiB/s"} (CSRF)
//	POST /api/v1/replication/retry       {"job": ID} (CSRF): retry now, or release a quarantined job
//	GET  /api/v1/replication/history     -> admin.RateHistory: per-minute upload rates and limits, last 24 h
//	POST /api/v1/alerts/test             (CSRF) -> admin.AlertTest
//	GET  /api/v1/buckets                 -> admin.BucketList
//	POST /api/v1/buckets                 {"name"} (CSRF)
//	GET  /api/v1/objects?bucket=&prefix=&after=&limit= -> admin.Listing
//	POST /api/v1/objects/delete          {"bucket","key"} (CSRF)
//	GET  /api/v1/objects/download?bucket=&key=  the bytes, as an attachment
//	PUT  /api/v1/objects/upload?bucket=&key=    the body is the file (CSRF) -> admin.ObjectEntry
//	POST /api/v1/remote/test             (CSRF) -> admin.RemoteTest
//	POST /api/v1/remote/reconcile        (CSRF) -> admin.Reconcile
//	POST /api/v1/scrub                   (CSRF) -> admin.Scrub
//	GET  /api/v1/drop                    -> admin.DropFolders
//	GET  /api/v1/log?level=&after=&limit= -> admin.LogPage
//	GET  /api/v1/users                   -> []users.UserInfo
//	POST /api/v1/users                   admin.AddUserRequest (CSRF) -> users.Credential, the secret shown once
//	POST /api/v1/users/remove            admin.UserRequest (CSRF)
//	POST /api/v1/users/disable           admin.DisableRequest (CSRF)
//	POST /api/v1/users/quota             admin.QuotaRequest (CSRF)
//	GET  /api/v1/keys?user=              -> []users.KeyInfo
//	POST /api/v1/keys                    admin.AddKeyRequest (CSRF) -> users.Credential
//	POST /api/v1/keys/revoke             admin.KeyRequest (CSRF)
//	POST /api/v1/keys/rotate             admin.KeyRequest (CSRF) -> users.Credential
//
// The Browse, Remote, Drop folders and Log pages need a Controller that
// also implements admin.Archive and admin.Diagnostics (the daemon's does),
// and the Users page a Server.Users (the daemon's users.Directory, the one
// the admin API's user endpoints use);
// the JSON endpoints are the admin API's, under the session. An object is
// downloaded as application/octet-stream in a sandbox, never rendered on the
// console's origin, and uploaded as one streamed PUT per file. The event
// stream also carries "log" events, {"last": N}, when the log has new lines:
// a page showing the log fetches them at its level.
package console
