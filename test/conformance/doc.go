// Package conformance runs versitygw's S3 integration suite, a suite no one on
// this project wrote, against the real gateway binary, and fails when a test
// named in required.txt fails. It is its own Go module so that the suite's large
// dependency tree stays out of the product's go.mod.
package conformance
