package remote

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/ipas/ipas/replication"
)

// refusedCodes are S3 error codes that retrying cannot fix: replication
// pauses until a human fixes the credentials, the bucket, its policy or the
// clock.
var refusedCodes = map[string]bool{
	"AccessDenied":                 true,
	"AllAccessDisabled":            true,
	"AccountProblem":               true,
	"InvalidAccessKeyId":           true,
	"SignatureDoesNotMatch":        true,
	"InvalidToken":                 true,
	"ExpiredToken":                 true,
	"NoSuchBucket":                 true,
	"InvalidBucketName":            true,
	"PermanentRedirect":            true,
	"AuthorizationHeaderMalformed": true,
	"InvalidStorageClass":          true,
	"RequestTimeTooSkewed":         true,
	"KMS.NotFoundException":        true,
	"KMS.DisabledException":        true,
	"KMS.AccessDeniedException":    true,
	"NotImplemented":               true,
	// versitygw answers an unknown access key with 404 XAdminUserNotFound
	// where AWS says 403 InvalidAccessKeyId.
	"XAdminUserNotFound": true,
}

// rejectedCodes are codes that concern one object only: its job is quarantined.
var rejectedCodes = map[string]bool{
	"KeyTooLongError":  true,
	"MetadataTooLarge": true,
	"EntityTooLarge":   true,
}

// classify wraps an SDK error with the operation, the name and the
// replication error class.
func classify(op, name string, err error) error {
	if err == nil {
		return nil
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		switch {
		// Any 401/403 is about who we are or what we may do, whatever code
		// a particular server chooses (versitygw: XAdminUserNotFound).
		case refusedCodes[code] || status == http.StatusForbidden || status == http.StatusUnauthorized:
			return fmt.Errorf("remote: %s %s: %w: %w", op, name, replication.ErrRemoteRefused, err)
		case rejectedCodes[code]:
			return fmt.Errorf("remote: %s %s: %w: %w", op, name, replication.ErrRejected, err)
		case code == "NoSuchUpload":
			return fmt.Errorf("remote: %s %s: %w: %w", op, name, replication.ErrNoSuchUpload, err)
		case code == "NotFound" || code == "NoSuchKey":
			return fmt.Errorf("remote: %s %s: %w: %w", op, name, replication.ErrNotFound, err)
		}
	}
	return fmt.Errorf("remote: %s %s: %w", op, name, err)
}

func isNotFound(err error) bool { return errors.Is(err, replication.ErrNotFound) }
