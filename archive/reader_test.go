package archive

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ipas/ipas/store"
)

// memSource serves pieces from memory and records what was opened.
type memSource struct {
	data   map[string][]byte
	opened []PieceRange
}

func (m *memSource) OpenPiece(_ context.Context, r PieceRange) (io.ReadCloser, error) {
	m.opened = append(m.opened, r)
	b, ok := m.data[r.Blob]
	if !ok {
		return nil, fmt.Errorf("piece %s: %w", r.Blob, store.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b[r.Off : r.Off+r.Len])), nil
}

// threePieces is "abc" + "" + "defgh" + "ij": an object of 10 bytes whose
// pieces include an empty one.
func threePieces() (*memSource, []Piece) {
	src := &memSource{data: map[string][]byte{"a": []byte("abc"), "e": nil, "d": []byte("defgh"), "i": []byte("ij")}}
	return src, []Piece{{"a", 3}, {"e", 0}, {"d", 5}, {"i", 2}}
}

func TestReaderRanges(t *testing.T) {
	const whole = "abcdefghij"
	for _, tc := range []struct {
		off, length int64
		opens       int
	}{
		{0, 10, 3}, {0, 3, 1}, {3, 5, 1}, {2, 2, 2}, {4, 6, 2}, {9, 1, 1}, {10, 0, 0}, {0, 0, 0},
	} {
		want := whole[tc.off : tc.off+tc.length]
		for name, read := range map[string]func(io.Reader) ([]byte, error){
			"Read": func(r io.Reader) ([]byte, error) { return io.ReadAll(struct{ io.Reader }{r}) },
			"WriteTo": func(r io.Reader) ([]byte, error) {
				var b bytes.Buffer
				_, err := r.(io.WriterTo).WriteTo(&b)
				return b.Bytes(), err
			},
		} {
			src, pieces := threePieces()
			r := NewReader(context.Background(), src, pieces, tc.off, tc.length)
			got, err := read(r)
			r.Close()
			if err != nil || string(got) != want {
				t.Errorf("%s %d+%d: got %q, %v; want %q", name, tc.off, tc.length, got, err, want)
			}
			if len(src.opened) != tc.opens {
				t.Errorf("%s %d+%d: opened %d pieces, want %d (only those the range touches)", name, tc.off, tc.length, len(src.opened), tc.opens)
			}
		}
	}
}

// TestReaderPieceStart: each piece is opened with where it starts in the
// object, which a source of whole remote objects needs.
func TestReaderPieceStart(t *testing.T) {
	src, pieces := threePieces()
	if _, err := io.ReadAll(NewReader(context.Background(), src, pieces, 4, 6)); err != nil {
		t.Fatal(err)
	}
	want := []PieceRange{{Piece: Piece{"d", 5}, Start: 3, Off: 1, Len: 4}, {Piece: Piece{"i", 2}, Start: 8, Off: 0, Len: 2}}
	if fmt.Sprint(src.opened) != fmt.Sprint(want) {
		t.Fatalf("opened %v, want %v", src.opened, want)
	}
}

func TestReaderErrors(t *testing.T) {
	src, pieces := threePieces()
	// Lazy: nothing is opened until a read reaches the missing bytes.
	r := NewReader(context.Background(), src, pieces, 8, 5)
	got, err := io.ReadAll(r)
	if string(got) != "ij" || err == nil || !strings.Contains(err.Error(), "3 bytes missing") {
		t.Fatalf("read past the last piece: %q, %v", got, err)
	}

	// OpenRange checks the range and opens the first piece at once.
	if _, err := OpenRange(context.Background(), src, pieces, 8, 5); !errors.Is(err, store.ErrInvalidRange) {
		t.Fatalf("OpenRange past the end: %v, want ErrInvalidRange", err)
	}
	delete(src.data, "d")
	if _, err := OpenRange(context.Background(), src, pieces, 4, 2); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OpenRange of a missing piece: %v, want ErrNotFound", err)
	}
	rc, err := OpenRange(context.Background(), src, pieces, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(rc); string(got) != "abc" || err != nil {
		t.Fatalf("OpenRange 0+3: %q, %v", got, err)
	}
}

// TestCoveredPieces: the pieces a range pins are exactly those holding its
// bytes.
func TestCoveredPieces(t *testing.T) {
	pieces := []Piece{{"a", 10}, {"b", 10}, {"", 0}, {"c", 10}}
	for _, tc := range []struct {
		off, length int64
		want        string
	}{
		{0, 30, "ab c"}, {0, 10, "a"}, {9, 2, "ab"}, {10, 10, "b"}, {10, 11, "b c"},
		{20, 10, "c"}, {29, 1, "c"}, {5, 0, ""}, {30, 0, ""},
	} {
		var got string
		for _, p := range coveredPieces(pieces, tc.off, tc.length) {
			got += cmp.Or(p.Blob, " ")
		}
		if got != tc.want {
			t.Errorf("coveredPieces(%d, %d) = %q, want %q", tc.off, tc.length, got, tc.want)
		}
	}
}
