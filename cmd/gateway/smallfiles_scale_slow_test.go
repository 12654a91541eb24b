//go:build slow

package main

// manySmallFiles: 10,000 files in all, the figure.
const manySmallFiles = 5000
