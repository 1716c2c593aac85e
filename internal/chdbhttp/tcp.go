package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/ch-go/compress"
	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// nativeRevision is the protocol revision this server speaks: that of
// clickhouse-go v2.47.0, whose packets ch-go's decoders read. The server's
// hello pins the connection to the lower of it and the client's.
const nativeRevision = proto.DBMS_TCP_PROTOCOL_VERSION

// Packet codes of the native protocol.
const (
	clientHello  = 0
	clientQuery  = 1
	clientData   = 2
	clientCancel = 3
	clientPing   = 4

	serverHello       = 0
	serverData        = 1
	serverException   = 2
	serverPong        = 4
	serverEndOfStream = 5
)

// insertInto finds the table and the optional column list of the INSERT
// clickhouse-go sends for a batch: INSERT INTO t [(a, b)] FORMAT Native.
var insertInto = regexp.MustCompile("(?is)^\\s*INSERT\\s+INTO\\s+([^\\s(]+)\\s*(?:\\(([^)]*)\\))?")

// serveNative serves the part of ClickHouse's native TCP protocol that
// clickhouse-go uses: hello, ping, queries with their settings and
// parameters, batch inserts, compression, exceptions.
func (h *handler) serveNative(ln net.Listener) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer nc.Close()
			if err := h.nativeConn(nc); err != nil && !errors.Is(err, io.EOF) {
				h.logf("native %s: %v", nc.RemoteAddr(), err)
			}
		}()
	}
}

// nativeSession is one client connection.
type nativeSession struct {
	h        *handler
	r        *chproto.Reader
	w        *bufio.Writer
	out      chproto.Buffer
	revision int
	database string
}

func (h *handler) nativeConn(nc net.Conn) error {
	s := &nativeSession{h: h, r: chproto.NewReader(nc), w: bufio.NewWriter(nc)}
	if err := s.hello(); err != nil {
		return err
	}
	for {
		code, err := s.r.UVarInt()
		if err != nil {
			return err
		}
		switch code {
		case clientPing:
			s.out.PutUVarInt(serverPong)
		case clientCancel:
			// Statements run to completion: nothing to cancel.
			continue
		case clientData:
			// What a client still sends after an exception.
			if _, err := s.readBlock(false); err != nil {
				return err
			}
			continue
		case clientQuery:
			if err := s.query(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected packet %d", code)
		}
		if err := s.flush(); err != nil {
			return err
		}
	}
}

func (s *nativeSession) hello() error {
	code, err := s.r.UVarInt()
	if err != nil {
		return err
	}
	if code != clientHello {
		return fmt.Errorf("packet %d before hello", code)
	}
	var hello chproto.ClientHello
	if err := hello.Decode(s.r); err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	s.revision = min(hello.ProtocolVersion, nativeRevision)
	s.database = hello.Database
	// Run in the client's database: an unknown one is refused here, as by
	// a server.
	info, err := s.h.execute(&request{sql: "SELECT version(), timezone()", database: s.database, format: "TabSeparated"})
	if err != nil {
		s.exception(err)
		return errors.Join(err, s.flush())
	}
	fields := strings.Fields(string(info))
	if len(fields) != 2 {
		return fmt.Errorf("server info %q", info)
	}
	version := strings.Split(fields[0], ".")
	number := func(i int) uint64 {
		if i >= len(version) {
			return 0
		}
		n, _ := strconv.ParseUint(version[i], 10, 64)
		return n
	}
	s.out.PutUVarInt(serverHello)
	s.out.PutString("ClickHouse")
	s.out.PutUVarInt(number(0))
	s.out.PutUVarInt(number(1))
	s.out.PutUVarInt(uint64(s.revision))
	s.out.PutString(fields[1])
	s.out.PutString("chdbhttp")
	s.out.PutUVarInt(number(2))
	if err := s.flush(); err != nil {
		return err
	}
	if s.revision >= proto.DBMS_MIN_PROTOCOL_VERSION_WITH_ADDENDUM {
		if _, err := s.r.Str(); err != nil { // quota key
			return fmt.Errorf("addendum: %w", err)
		}
	}
	return nil
}

// query runs one query packet and the data packets that follow it.
func (s *nativeSession) query() error {
	var q chproto.Query
	if err := q.DecodeAware(s.r, s.revision); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	compressed := q.Compression == chproto.CompressionEnabled
	// External tables would come first; then an empty block.
	block, err := s.nextBlock(compressed)
	if err != nil {
		return err
	}
	if len(block.Columns) > 0 {
		return errors.New("external tables are not supported")
	}
	req := &request{sql: q.Body, database: s.database, format: "Native", params: map[string]string{}}
	for _, setting := range q.Settings {
		if !settingName.MatchString(setting.Key) {
			s.exception(fmt.Errorf("setting %q is not an identifier", setting.Key))
			return nil
		}
		req.settings = append(req.settings, [2]string{setting.Key, setting.Value})
	}
	for _, p := range q.Parameters {
		req.params[p.Key] = p.Value
	}
	if sessionStatement.MatchString(req.sql) {
		s.exception(errors.New("SET and USE would outlast the query on this server: send settings with the query"))
		return nil
	}
	if m := insertInto.FindStringSubmatch(req.sql); m != nil && insertFormat.MatchString(req.sql) {
		return s.insert(req, m[1], m[2], compressed)
	}
	out, err := s.h.execute(req)
	if err == nil && len(out) == 0 && selectStatement.MatchString(req.sql) {
		// A server answers a query with its header block first, rows or
		// not, and clickhouse-go expects it; the engine writes no Native
		// for no rows.
		var header *proto.Block
		if header, err = s.h.resultHeader(req, s.serverContext()); err == nil {
			err = s.sendBlock(header, compressed)
		}
	}
	if err != nil {
		s.exception(err)
		return nil
	}
	return s.sendBlocks(out, compressed)
}

// insert answers the INSERT with the block of its columns, reads the
// client's blocks up to an empty one, and inserts them in one statement.
func (s *nativeSession) insert(req *request, table, columnList string, compressed bool) error {
	header, err := s.insertHeader(table, columnList)
	if err != nil {
		s.exception(err)
		return nil
	}
	if err := s.sendBlock(header, compressed); err != nil {
		return err
	}
	if err := s.flush(); err != nil {
		return err
	}
	var data chproto.Buffer
	for {
		block, err := s.nextBlock(compressed)
		if err != nil {
			return err
		}
		if len(block.Columns) == 0 {
			break
		}
		if block.Rows() > 0 {
			if err := block.Encode(&data, 0); err != nil {
				return err
			}
		}
	}
	if len(data.Buf) > 0 {
		req.data = data.Buf
		if _, err := s.h.execute(req); err != nil {
			s.exception(err)
			return nil
		}
	}
	s.out.PutUVarInt(serverEndOfStream)
	return nil
}

// insertHeader is the empty block of the columns an insert writes: the
// listed ones, or every column that is not MATERIALIZED or ALIAS.
func (s *nativeSession) insertHeader(table, columnList string) (*proto.Block, error) {
	columns, err := s.h.describe(&request{sql: "DESCRIBE TABLE " + table, database: s.database, format: "TabSeparated"})
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	var all []string
	for _, c := range columns {
		types[c.name] = c.typ
		if c.defaultKind != "MATERIALIZED" && c.defaultKind != "ALIAS" {
			all = append(all, c.name)
		}
	}
	names := all
	if columnList != "" {
		names = nil
		for _, c := range strings.Split(columnList, ",") {
			names = append(names, strings.Trim(strings.TrimSpace(c), "`\""))
		}
	}
	block := &proto.Block{ServerContext: s.serverContext()}
	for _, name := range names {
		typ, ok := types[name]
		if !ok {
			return nil, fmt.Errorf("no column %s in table %s", name, table)
		}
		if err := block.AddColumn(name, column.Type(typ)); err != nil {
			return nil, err
		}
	}
	return block, nil
}

func (s *nativeSession) serverContext() *column.ServerContext {
	return &column.ServerContext{Revision: uint64(s.revision), Timezone: time.UTC}
}

// nextBlock reads the next packet, which must be data, and its block.
func (s *nativeSession) nextBlock(compressed bool) (*proto.Block, error) {
	code, err := s.r.UVarInt()
	if err != nil {
		return nil, err
	}
	if code != clientData {
		return nil, fmt.Errorf("packet %d, want data", code)
	}
	return s.readBlock(compressed)
}

// readBlock reads the table name and block of a client data packet.
func (s *nativeSession) readBlock(compressed bool) (*proto.Block, error) {
	if _, err := s.r.Str(); err != nil {
		return nil, err
	}
	if compressed {
		s.r.EnableCompression()
		defer s.r.DisableCompression()
	}
	block := &proto.Block{ServerContext: s.serverContext()}
	if err := block.Decode(s.r, uint64(s.revision)); err != nil {
		return nil, fmt.Errorf("data block: %w", err)
	}
	return block, nil
}

// sendBlocks sends the engine's Native output (revision 0) as data
// packets, then the end of the stream.
func (s *nativeSession) sendBlocks(native []byte, compressed bool) error {
	err := eachBlock(native, s.serverContext(), func(block *proto.Block) error {
		return s.sendBlock(block, compressed)
	})
	if err != nil {
		return err
	}
	s.out.PutUVarInt(serverEndOfStream)
	return nil
}

func (s *nativeSession) sendBlock(block *proto.Block, compressed bool) error {
	s.out.PutUVarInt(serverData)
	s.out.PutString("")
	if !compressed {
		return encodeBlock(&s.out, block, uint64(s.revision))
	}
	var raw chproto.Buffer
	if err := encodeBlock(&raw, block, uint64(s.revision)); err != nil {
		return err
	}
	c := compress.NewWriter(compress.LevelZero, compress.LZ4)
	for data := raw.Buf; len(data) > 0; {
		n := min(len(data), frameSize)
		if err := c.Compress(data[:n]); err != nil {
			return err
		}
		s.out.Buf = append(s.out.Buf, c.Data...)
		data = data[n:]
	}
	return nil
}

// exception sends err as the engine's exception, or as STD_EXCEPTION.
func (s *nativeSession) exception(err error) {
	s.h.logf("native: %v", err)
	code := int32(1001)
	var engineErr *engineError
	if errors.As(err, &engineErr) {
		if m := exceptionCode.FindStringSubmatch(engineErr.message); m != nil {
			if n, err := strconv.ParseInt(m[1], 10, 32); err == nil {
				code = int32(n)
			}
		}
	}
	s.out.PutUVarInt(serverException)
	s.out.PutInt32(code)
	s.out.PutString("DB::Exception")
	s.out.PutString(err.Error())
	s.out.PutString("")
	s.out.PutBool(false)
}

func (s *nativeSession) flush() error {
	if len(s.out.Buf) == 0 {
		return nil
	}
	_, err := s.w.Write(s.out.Buf)
	s.out.Reset()
	if err != nil {
		return err
	}
	return s.w.Flush()
}
