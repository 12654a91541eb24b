// Package benchkit is what the bench programs share: a versitygw process on
// loopback, a toxiproxy proxy in front of it that shapes the link (a rate
// shared by all connections, a round trip) and counts what crosses it, the
// gateway binary built once, an SDK client, a clean environment for the aws
// and rclone CLIs, incompressible data, peak RSS and medians. It is for
// benchmarks only; tests have internal/testutil.
package benchkit
