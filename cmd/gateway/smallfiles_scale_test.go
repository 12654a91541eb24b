//go:build !slow

package main

// manySmallFiles is how many files TestServe_ManySmallFilesReplicated puts
// through each of the S3 API and a drop folder (5,000 each with the slow tag).
const manySmallFiles = 500
