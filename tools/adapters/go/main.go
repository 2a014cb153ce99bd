// Command goadapter puts Go's net package (net.ListenConfig.Listen and
// Listener.Accept) behind netconform's adapter line protocol
// (docs/ADAPTER.md, protocol 2): one JSON request per stdin line, one JSON
// reply per stdout line, each echoing the request's "id".
//
// Standard library only. See README.md for what each op maps to and what Go
// cannot express.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// protocolVersion 2: every reply echoes its request's "id"; 3: hello answers
// "capabilities" (what Go's net offers, capabilities.go).
const protocolVersion = 3

// maxLineBytes is the longest request line accepted (without its newline),
// as the reference.
const maxLineBytes = 1 << 20

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

// run is the line loop: exit status 0 at end of input, 1 when stdout goes away.
func run(in io.Reader, out io.Writer) int {
	s := newSession()
	defer s.shutdown()
	r := bufio.NewReaderSize(in, 64<<10)
	w := bufio.NewWriter(out)
	for {
		line, tooLong, err := readLine(r)
		if err == io.EOF && line == nil && tooLong == 0 {
			return 0
		}
		var reply map[string]any
		if tooLong > 0 {
			reply = protocolReply("", fmt.Sprintf("request line of %d bytes is longer than %d", tooLong, maxLineBytes))
		} else {
			reply = s.handle(line)
		}
		if werr := writeReply(w, reply); werr != nil {
			return 1
		}
		if err == io.EOF {
			return 0
		}
	}
}

// readLine returns one line without "\n" (and without a trailing "\r").
// A line longer than maxLineBytes is drained, never kept: its length comes
// back in tooLong. err is io.EOF on the last line (which may lack "\n"), and
// alone (nil line, tooLong 0) at end of input.
func readLine(r *bufio.Reader) (line []byte, tooLong int, err error) {
	buf := []byte{}
	total := 0
	newline := false
	for {
		chunk, rerr := r.ReadSlice('\n')
		total += len(chunk)
		if total <= maxLineBytes+2 { // room for "\r\n"
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
	if total > maxLineBytes+2 {
		if newline {
			total--
		}
		return nil, total, err
	}
	buf = bytes.TrimSuffix(buf, []byte("\n"))
	buf = bytes.TrimSuffix(buf, []byte("\r"))
	if len(buf) > maxLineBytes {
		return nil, len(buf), err
	}
	return buf, 0, err
}

// writeReply writes one reply line and flushes it. A reply that cannot be
// encoded is the adapter's bug, reported as a protocol error.
func writeReply(w *bufio.Writer, reply map[string]any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(reply); err != nil {
		b.Reset()
		id := reply["id"]
		fallback := protocolReply("", "internal adapter error: "+err.Error())
		if id != nil {
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
