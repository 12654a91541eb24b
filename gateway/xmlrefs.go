package gateway

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// S3 lists a key that holds characters XML 1.0 cannot carry (C0 controls other
// than tab, LF and CR; U+FFFE, U+FFFF) as numeric character references, "&#x1;",
// rather than dropping or replacing them: the document is then not well-formed
// XML 1.0, and strict parsers (the Go SDKs among them) refuse it, which is why S3
// documents encoding-type=url for such keys; but the bytes of the key are there,
// never a different key. encoding/xml replaces these characters with U+FFFD, so
// the listing marks them with refMark before marshalling and writes the
// references after.
//
// refMark is a private-use character. Once a listing holds a marked string, every
// refMark of its text is marked too (and comes out as "&#xe000;", which parses back
// to itself), so that every refMark in the marshalled document is one of ours.
const refMark = '\uE000'

// needsRef reports whether c must travel as a character reference.
func needsRef(c rune) bool {
	return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0xFFFE || c == 0xFFFF || c == refMark
}

// markRefs returns v with each character that needsRef replaced by refMark, its
// hex code and ';', and whether it changed anything.
func markRefs(v string) (string, bool) {
	if strings.IndexFunc(v, needsRef) < 0 {
		return v, false
	}
	var b strings.Builder
	for _, c := range v {
		if !needsRef(c) {
			b.WriteRune(c)
			continue
		}
		b.WriteRune(refMark)
		b.WriteString(strconv.FormatInt(int64(c), 16))
		b.WriteByte(';')
	}
	return b.String(), true
}

// markRefs marks every key-bearing field of a listing; it reports whether any
// changed.
func (l *listBucketResult) markRefs() bool {
	marked := false
	mark := func(p *string) {
		var m bool
		*p, m = markRefs(*p)
		marked = marked || m
	}
	for _, p := range []*string{l.Prefix, l.Marker, l.StartAfter, l.ContinuationToken} {
		if p != nil {
			mark(p)
		}
	}
	for _, p := range []*string{&l.NextMarker, &l.NextContinuationToken, &l.Delimiter} {
		mark(p)
	}
	for i := range l.Contents {
		mark(&l.Contents[i].Key)
	}
	for i := range l.CommonPrefixes {
		mark(&l.CommonPrefixes[i].Prefix)
	}
	return marked
}

// writeListing writes a listing, with S3's character references for what XML
// cannot carry.
func writeListing(w http.ResponseWriter, out *listBucketResult) error {
	if !out.markRefs() {
		return writeXML(w, http.StatusOK, out)
	}
	body, err := xml.Marshal(out)
	if err != nil {
		return err
	}
	body = bytes.ReplaceAll(body, []byte(string(refMark)), []byte("&#x"))
	doc := append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc) // a client that went away has nothing left to learn
	return nil
}
