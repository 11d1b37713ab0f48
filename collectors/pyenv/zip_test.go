package pyenv

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// wheelLike builds a zip shaped like litellm-1.82.8-py3-none-any.whl.
func wheelLike(t testing.TB, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "content of %s\n", n)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var wheelNames = []string{
	"litellm/__init__.py",
	"litellm/proxy/proxy_server.py",
	"litellm_init.pth",
	"litellm-1.82.8.dist-info/METADATA",
	"litellm-1.82.8.dist-info/WHEEL",
	"litellm-1.82.8.dist-info/RECORD",
}

func TestZipNames(t *testing.T) {
	t.Parallel()
	whl := wheelLike(t, wheelNames...)
	// pip's HTTP cache: a serialised response header, then the body.
	prefix := []byte("cc=4,\x00\x00\x00\x82\xa8response\x84\xa4body\xc4\x00HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
	tests := []struct {
		name string
		data []byte
	}{
		{"plain wheel", whl},
		{"with junk prefix", append(append([]byte{}, prefix...), whl...)},
		{"with long prefix", append(bytes.Repeat([]byte{0xff}, 200000), whl...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ZipNames(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wheelNames) {
				t.Errorf("ZipNames = %q", got)
			}
		})
	}
}

func TestZipNamesErrors(t *testing.T) {
	t.Parallel()
	whl := wheelLike(t, wheelNames...)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("this is not a zip file at all, just some words")},
		{"truncated", whl[:len(whl)-30]},
		{"huge declared count", hugeDeclaredZip()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, err := ZipNames(bytes.NewReader(tc.data), int64(len(tc.data))); err == nil || got != nil {
				t.Errorf("ZipNames = %q, %v; want an error", got, err)
			}
		})
	}
}

// hugeDeclaredZip is an end record (zip64) claiming 2^40 entries.
func hugeDeclaredZip() []byte {
	var b bytes.Buffer
	b.Write(make([]byte, 100))
	end64 := b.Len()
	rec := make([]byte, 56)
	binary.LittleEndian.PutUint32(rec, 0x06064b50)
	binary.LittleEndian.PutUint64(rec[24:], 1<<40)
	binary.LittleEndian.PutUint64(rec[32:], 1<<40)
	b.Write(rec)
	loc := make([]byte, 20)
	binary.LittleEndian.PutUint32(loc, 0x07064b50)
	binary.LittleEndian.PutUint64(loc[8:], uint64(end64))
	binary.LittleEndian.PutUint32(loc[16:], 1)
	b.Write(loc)
	eocd := make([]byte, 22)
	binary.LittleEndian.PutUint32(eocd, 0x06054b50)
	binary.LittleEndian.PutUint16(eocd[8:], 0xffff)
	binary.LittleEndian.PutUint16(eocd[10:], 0xffff)
	binary.LittleEndian.PutUint32(eocd[12:], 0xffffffff)
	binary.LittleEndian.PutUint32(eocd[16:], 0xffffffff)
	b.Write(eocd)
	return b.Bytes()
}

func TestZipNamesTruncates(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a 100,001-entry zip")
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i <= maxZipNames; i++ {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("f%d", i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ZipNames(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if !errors.Is(err, ErrTruncated) || len(got) != maxZipNames || got[0] != "f0" {
		t.Errorf("got %d names, err %v", len(got), err)
	}
}

func TestZipNamesEmptyArchive(t *testing.T) {
	t.Parallel()
	data := []byte("PK\x05\x06" + string(make([]byte, 18)))
	if got, err := ZipNames(bytes.NewReader(data), int64(len(data))); err != nil || len(got) != 0 {
		t.Errorf("ZipNames(empty zip) = %q, %v", got, err)
	}
}
