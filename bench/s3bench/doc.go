// Command s3bench measures the IPAS gateway against versitygw with the AWS SDK
// for Go v2 as the load generator: small-object PUT rate, large-object PUT and
// GET throughput, and the gateway's peak RSS during a multi-GiB upload.
package main
