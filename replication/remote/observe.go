package remote

import (
	"context"
	"errors"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// NetworkErrorCode is what WithErrorHook reports for a failure without an S3
// error code: a reset connection, a timeout, a DNS failure.
const NetworkErrorCode = "NetworkError"

// WithErrorHook has every failed request to the remote reported to hook
// with the remote's S3 error code (SlowDown, InternalError, AccessDenied...,
// or NetworkErrorCode), whatever the operation; requests cancelled by the
// caller are not failures. hook must return quickly.
func WithErrorHook(hook func(code string)) Option {
	return func(o *options) { o.errorHook = hook }
}

// errorHookMiddleware sits first in the SDK's stack, so it sees the result of
// the whole operation (the client retries nothing itself: NopRetryer).
func errorHookMiddleware(hook func(code string)) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("IPASErrorHook",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err != nil && ctx.Err() == nil {
					hook(errorCode(err))
				}
				return out, md, err
			}), middleware.Before)
	}
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() != "" {
		return api.ErrorCode()
	}
	return NetworkErrorCode
}
