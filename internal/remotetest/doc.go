// Package remotetest is the contract suite of replication.Remote, run
// against every S3 server IPAS replicates to in tests (versitygw, and the
// built-in local copy: an IPAS gateway on loopback, which StartLocalCopy
// starts in-process). Test code only.
package remotetest
