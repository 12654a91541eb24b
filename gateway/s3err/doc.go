// Package s3err defines S3 errors as values (code, message, HTTP status) and renders
// them in exactly one place, WriteError, as the XML body S3 clients expect. Any other
// error reaching WriteError becomes InternalError so internal details (paths, wrapped
// causes) never leave the process.
package s3err
