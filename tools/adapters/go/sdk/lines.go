// Package sdk is the Go adapter SDK for netconform's adapter line protocol
// (docs/ADAPTER.md, "Write your adapter"): one JSON request per stdin line,
// one JSON reply per stdout line, each echoing the request's "id".
//
// It owns what is the same whatever library sits behind the protocol: the
// line loop (stdin read by the SDK on the main goroutine, blocking, one op at
// a time), request validation with the reference adapter's protocol errors
// (as the Python and Node SDKs), Go errors -> the protocol's error objects
// (errno and EAI names), listeners described as the kernel has them, the
// quiet marker around the adapter's own observations, open_fds, umask,
// close_all, hello with capabilities, and the bookkeeping of a serve over
// one listener or several. An adapter declares what its library offers
// (Declaration) and implements Implementation: the mapping onto the library.
//
// Standard library only, Go 1.19.
package sdk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// ProtocolVersion 2: every reply echoes its request's "id"; 3: hello answers
// "capabilities".
const ProtocolVersion = 3

// MaxLineBytes is the longest request line accepted (without its newline),
// as the reference.
const MaxLineBytes = 1 << 20

// Main runs the line loop on stdin and stdout and returns the exit status:
// 0 at end of input, 1 when stdout went away or the declaration is wrong.
func Main(d Declaration, impl Implementation) int {
	s, err := NewSession(d, impl)
	if err != nil {
		fmt.Fprintf(os.Stderr, "adapter: %v\n", err)
		return 1
	}
	return s.Run(os.Stdin, os.Stdout)
}

// Run is the line loop: one flushed reply line per request line; at end of
// input the session is shut down (its listeners closed).
func (s *Session) Run(in io.Reader, out io.Writer) int {
	defer s.Shutdown()
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriter(out)
	for {
		line, tooLong, err := ReadLine(r)
		if err == io.EOF && line == nil && tooLong == 0 {
			return 0
		}
		var reply Reply
		if tooLong > 0 {
			reply = ProtocolReply("", fmt.Sprintf("request line of %d bytes is longer than %d", tooLong, MaxLineBytes))
		} else {
			reply = s.Handle(line)
		}
		if werr := WriteReply(w, reply); werr != nil {
			return 1
		}
		if err == io.EOF {
			return 0
		}
	}
}

// ReadLine returns one line without "\n" (and without a trailing "\r").
// A line longer than MaxLineBytes is drained, never kept: its length comes
// back in tooLong. err is io.EOF on the last line (which may lack "\n"), and
// alone (nil line, tooLong 0) at end of input.
func ReadLine(r *bufio.Reader) (line []byte, tooLong int, err error) {
	buf := []byte{}
	total := 0
	newline := false
	for {
		chunk, rerr := r.ReadSlice('\n')
		total += len(chunk)
		if total <= MaxLineBytes+2 { // room for "\r\n"
			buf = append(buf, chunk...)
		}
		if rerr == bufio.ErrBufferFull {
			continue
		}
		if rerr != nil { // io.EOF, or a read error: the end of input either way
			if total == 0 {
				return nil, 0, io.EOF
			}
			err = io.EOF
		} else {
			newline = true
		}
		break
	}
	if total > MaxLineBytes+2 {
		if newline {
			total--
		}
		return nil, total, err
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	if len(buf) > MaxLineBytes {
		return nil, len(buf), err
	}
	return buf, 0, err
}

// WriteReply writes one reply line and flushes it. A reply that cannot be
// encoded is the adapter's bug, reported as a protocol error.
func WriteReply(w *bufio.Writer, reply Reply) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reply); err != nil {
		b.Reset()
		fallback := ProtocolReply("", "internal adapter error: "+err.Error())
		if id, ok := reply["id"]; ok {
			fallback["id"] = id
		}
		_ = enc.Encode(fallback)
	}
	// Encode ends the value with "\n": exactly one line.
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	return w.Flush()
}
