package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

const (
	// fileDirs spreads the files over this many directories.
	fileDirs = 100
	minSize  = 1 << 10
	maxSize  = 64 << 10
)

// fileSet is the files every client copies.
type fileSet struct {
	dir   string
	files []file
	bytes int64
}

type file struct {
	path   string // relative to dir, with slashes: also the key
	size   int64
	sha256 string
}

// writeFiles writes n files of minSize-maxSize incompressible bytes under dir.
func writeFiles(dir string, n int) (*fileSet, error) {
	set := &fileSet{dir: dir}
	for i := range n {
		f := file{path: fmt.Sprintf("d%02d/f%05d.bin", i%fileDirs, i), size: int64(minSize + i*7919%(maxSize-minSize+1))}
		body := make([]byte, f.size)
		if _, err := io.ReadFull(benchkit.RandReader(uint64(i+1)), body); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		f.sha256 = hex.EncodeToString(sum[:])
		path := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return nil, err
		}
		set.files = append(set.files, f)
		set.bytes += f.size
	}
	return set, nil
}

// checkRemote lists prefix on versitygw: every file must be there with its
// size; verify of them, spread over the set, are downloaded and hashed.
func checkRemote(ctx context.Context, vgw *benchkit.Versity, set *fileSet, prefix string, verify int) error {
	cl := benchkit.NewS3Client(vgw.Endpoint(), benchAccessKey, benchSecretKey)
	sizes := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(cl, &s3.ListObjectsV2Input{Bucket: aws.String(remoteBucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			sizes[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	for _, f := range set.files {
		if got, ok := sizes[prefix+f.path]; !ok || got != f.size {
			return fmt.Errorf("remote %s%s: size %d (listed: %v), want %d", prefix, f.path, got, ok, f.size)
		}
	}
	step := max(1, len(set.files)/max(1, verify))
	for i := 0; i < len(set.files); i += step {
		f := set.files[i]
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(remoteBucket), Key: aws.String(prefix + f.path)})
		if err != nil {
			return fmt.Errorf("get %s%s: %w", prefix, f.path, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, out.Body)
		out.Body.Close()
		if err != nil {
			return fmt.Errorf("get %s%s: %w", prefix, f.path, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != f.sha256 {
			return fmt.Errorf("remote %s%s: sha256 %s, want %s", prefix, f.path, got, f.sha256)
		}
	}
	return nil
}
