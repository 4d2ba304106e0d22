package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/gatewarden/gatewarden/decode"
)

// writeFramesPcap writes a classic pcap of n frames of size bytes each.
func writeFramesPcap(t *testing.T, n, size int) string {
	t.Helper()
	b := make([]byte, 24, 24+n*(16+size))
	binary.LittleEndian.PutUint32(b, magicPcapMicro)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)
	binary.LittleEndian.PutUint32(b[20:], uint32(decode.LinkTypeEthernet))
	for i := 0; i < n; i++ {
		var h [16]byte
		binary.LittleEndian.PutUint32(h[:], uint32(1700000000+i))
		binary.LittleEndian.PutUint32(h[8:], uint32(size))
		binary.LittleEndian.PutUint32(h[12:], uint32(size))
		b = append(b, h[:]...)
		for j := 0; j < size; j++ {
			b = append(b, byte(i+j))
		}
	}
	path := filepath.Join(t.TempDir(), "frames.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMappedFileShrinks truncates a mapped capture while it is read: the
// memory fault that follows becomes, under debug.SetPanicOnFault, a panic
// that MappedFault turns into an error, after the frames still in the file.
func TestMappedFileShrinks(t *testing.T) {
	pageSize := os.Getpagesize()
	path := writeFramesPcap(t, 64, 1000)
	f, err := OpenFileMapped(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.mapped {
		t.Skip("no memory mapping on this platform")
	}
	var fr decode.Frame
	if err := f.Next(&fr); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(pageSize)); err != nil {
		t.Fatal(err)
	}
	frames := 1
	var fault error
	func() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if v := recover(); v != nil {
				if fault = MappedFault(v); fault == nil {
					panic(v)
				}
			}
		}()
		for f.Next(&fr) == nil {
			var sum byte
			for _, c := range fr.Data { // what the decoder does with it
				sum += c
			}
			_ = sum
			frames++
		}
	}()
	if fault == nil {
		t.Fatalf("read %d frames and no fault after the file shrank to one page", frames)
	}
	if max := (pageSize-24)/1016 + 1; frames > max {
		t.Errorf("read %d frames, at most %d fit in one page", frames, max)
	}
	t.Logf("after %d frames: %v", frames, fault)
}

// TestMappedFaultOtherPanics: only memory faults are MappedFault's.
func TestMappedFaultOtherPanics(t *testing.T) {
	for _, v := range []any{"boom", errors.New("boom"), io.EOF, 42} {
		if err := MappedFault(v); err != nil {
			t.Errorf("MappedFault(%v) = %v, want nil", v, err)
		}
	}
}

// TestMappedReadsLikeRead: a mapped file and a read one deliver the same
// frames, to the end.
func TestMappedReadsLikeRead(t *testing.T) {
	path := writeFramesPcap(t, 300, 700)
	for _, o := range openers {
		f, err := o.open(path)
		if err != nil {
			t.Fatal(err)
		}
		var fr decode.Frame
		n := 0
		for {
			err := f.Next(&fr)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", o.name, err)
			}
			n++
			if len(fr.Data) != 700 || fr.Data[0] != byte(n-1) || fr.TS != int64(1700000000+n-1)*1e9 {
				t.Fatalf("%s: frame %d wrong", o.name, n)
			}
		}
		f.Close()
		if n != 300 {
			t.Errorf("%s: %d frames", o.name, n)
		}
	}
}

// TestMappedFaultNilDereference: a nil dereference is a memory fault too,
// but outside every mapping: not MappedFault's.
func TestMappedFaultNilDereference(t *testing.T) {
	var v any
	func() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() { v = recover() }()
		var p *decode.Frame
		_ = p.Data[0]
	}()
	if v == nil {
		t.Fatal("no panic")
	}
	if err := MappedFault(v); err != nil {
		t.Errorf("MappedFault(%v) = %v, want nil", v, err)
	}
}
