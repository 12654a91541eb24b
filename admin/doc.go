// Package admin is the daemon's control API: the HTTP handlers that report the
// replication status and pause, resume or re-limit uploads at run time, and the
// client that `gateway status` and `gateway replication` use to call them.
//
// The API lives on the S3 listener under PathPrefix ("/_ipas/"), which no S3
// request can reach: bucket names cannot contain '_'. Every request must carry
// a SigV4 signature made with one of the S3 credentials, verified by the same
// sigv4.Verifier as S3 requests, with a signed payload hash; there is no
// unauthenticated mode. The daemon owns what the endpoints do (Controller);
// this package owns the wire format (Status and the JSON error body). A
// Controller that also implements Archive and Diagnostics gets the endpoints
// that browse and change the archive, test the remote and read the drop
// folders and the log; one that implements Jobs, History and Alerter gets
// the endpoints that retry or release a replication job, report the upload
// rate over the last day and send a test alert. The web console shows the
// same documents.
package admin
