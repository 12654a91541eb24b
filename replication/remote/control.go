package remote

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/ipas/ipas/replication"
)

// controlDir holds IPAS's own files under the prefix (index snapshots,
// probes). No S3 bucket name starts with a dot, so it never collides with
// a replicated object.
const controlDir = ".ipas/"

// controlKey is the remote key of a control file, or an error for a name
// that would leave the control directory.
func (c *Client) controlKey(op, name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") || strings.HasSuffix(name, "/") {
		return "", fmt.Errorf("remote: %s control file %q: not a relative file name", op, name)
	}
	return c.prefix + controlDir + name, nil
}

// PutControlFile implements replication.Remote.
func (c *Client) PutControlFile(ctx context.Context, name string, body io.Reader, size int64, md5 []byte) error {
	key, err := c.controlKey("put", name)
	if err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(c.cfg.Bucket),
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(md5)),
		Metadata:      map[string]string{replication.MetaFormatKey: fmt.Sprint(replication.MetaFormatFull)},
	}
	c.applyStorage(&in.StorageClass, &in.ServerSideEncryption, &in.SSEKMSKeyId)
	_, err = c.s3.PutObject(ctx, in, unsignedPayload)
	return classify("put control file", name, err)
}

// GetControlFile implements replication.Remote.
func (c *Client) GetControlFile(ctx context.Context, name string) (io.ReadCloser, replication.RemoteObject, error) {
	key, err := c.controlKey("get", name)
	if err != nil {
		return nil, replication.RemoteObject{}, err
	}
	return c.get(ctx, "get control file", name, key, "", 0, -1)
}

// DeleteControlFile implements replication.Remote.
func (c *Client) DeleteControlFile(ctx context.Context, name string) error {
	key, err := c.controlKey("delete", name)
	if err != nil {
		return err
	}
	_, err = c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(c.cfg.Bucket), Key: aws.String(key)})
	err = classify("delete control file", name, err)
	if isNotFound(err) {
		return nil
	}
	return err
}
