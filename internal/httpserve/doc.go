// Package httpserve runs an http.Server on a listener until a context ends and then
// shuts it down within a bound, the one serve-and-drain loop the S3 gateway and the
// console share.
package httpserve
