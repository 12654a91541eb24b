package benchkit

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxConnsPerHost keeps every concurrent request on its own kept-alive connection.
const maxConnsPerHost = 64

// NewS3Client returns an SDK client for endpoint, path style, region
// us-east-1, computing checksums only where S3 requires them; optFns change
// the options further, as in s3.New.
func NewS3Client(endpoint, accessKey, secretKey string, optFns ...func(*s3.Options)) *s3.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = maxConnsPerHost
	tr.MaxIdleConnsPerHost = maxConnsPerHost
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}, nil
		}),
		HTTPClient:                 &http.Client{Transport: tr},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}, optFns...)
}
