package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

// versity is the versitygw process every client uploads to.
type versity struct {
	*benchkit.Versity
}

func startVersity(ctx context.Context, dir string, logw io.Writer) (*versity, error) {
	v, err := benchkit.StartVersity(ctx, dir, benchAccessKey, benchSecretKey, logw, remoteBucket)
	if err != nil {
		return nil, err
	}
	return &versity{v}, nil
}

// objectSHA256 hashes an object as versitygw stored it (posix: one file per
// object), which checks the upload without another trip through S3.
func (v *versity) objectSHA256(key string) (string, error) {
	return fileSHA256(filepath.Join(v.Dir, remoteBucket, key))
}

// remove deletes an object's file to keep the disk from filling up.
func (v *versity) remove(key string) { os.Remove(filepath.Join(v.Dir, remoteBucket, key)) }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
