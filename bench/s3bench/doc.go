// Command s3bench measures the IPAS gateway against versitygw and MinIO with the
// AWS SDK for Go v2 as the load generator: small-object PUT rate, large-object PUT
// and GET throughput and CPU, listing and batch deletes of many keys, and the
// servers' peak RSS during a multi-GiB upload.
package main
