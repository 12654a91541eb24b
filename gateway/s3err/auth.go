package s3err

import "net/http"

// ErrInvalidToken answers an X-Amz-Security-Token: the gateway issues no temporary
// credentials, so no session token can be valid with its permanent keys.
var ErrInvalidToken = &APIError{"InvalidToken",
	"The provided token is malformed or otherwise invalid.", http.StatusBadRequest}
