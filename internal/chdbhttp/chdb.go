package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// engine is the ClickHouse engine of libchdb.so, loaded at run time with
// purego (no cgo). It runs one statement at a time: the handler's requests
// take turns, which also keeps the per-request SET and USE statements of one
// request from mixing with another's.
type engine struct {
	mu sync.Mutex
	// connp is what chdb_connect returned, which chdb_close_conn takes;
	// conn is the connection it points to.
	connp *uintptr
	conn  uintptr
	// dataDir holds the engine's data, and the bodies of inserts.
	dataDir string

	query        func(conn uintptr, query *byte, queryLen uintptr, format *byte, formatLen uintptr, names **byte, nameLens *uintptr, values **byte, valueLens *uintptr, count uintptr) uintptr
	resultBuffer func(result uintptr) *byte
	resultLength func(result uintptr) uintptr
	resultError  func(result uintptr) *byte
	destroy      func(result uintptr)
	closeConn    func(connp *uintptr)
}

// openEngine loads the library and boots the engine with its data under
// dataDir.
func openEngine(libPath, dataDir string) (*engine, error) {
	lib, err := purego.Dlopen(libPath, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", libPath, err)
	}
	var (
		setSignalHandlers func(enabled int32)
		connect           func(argc int32, argv **byte) *uintptr
	)
	e := &engine{dataDir: dataDir}
	for name, fn := range map[string]any{
		"chdb_set_signal_handlers_enabled": &setSignalHandlers,
		"chdb_connect":                     &connect,
		"chdb_query_with_params_n":         &e.query,
		"chdb_result_buffer":               &e.resultBuffer,
		"chdb_result_length":               &e.resultLength,
		"chdb_result_error":                &e.resultError,
		"chdb_destroy_query_result":        &e.destroy,
		"chdb_close_conn":                  &e.closeConn,
	} {
		sym, err := purego.Dlsym(lib, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", libPath, err)
		}
		purego.RegisterFunc(fn, sym)
	}
	// The Go runtime owns the process's signals (preemption, nil
	// dereferences as panics).
	setSignalHandlers(0)
	args := []*byte{cString("chdbhttp"), cString("--path=" + dataDir)}
	connp := connect(int32(len(args)), &args[0])
	runtime.KeepAlive(args)
	if connp == nil || *connp == 0 {
		return nil, errors.New("chdb_connect failed")
	}
	e.connp, e.conn = connp, *connp
	return e, nil
}

// run executes one statement; format is the output format of a statement
// that has no FORMAT clause; params bind its {name:Type} placeholders.
func (e *engine) run(sql, format string, params map[string]string) ([]byte, error) {
	if e.conn == 0 {
		return nil, errors.New("engine closed")
	}
	query := []byte(sql)
	if len(query) == 0 {
		return nil, errors.New("empty query")
	}
	formatBytes := []byte(format + "\x00")
	var names, values []*byte
	var nameLens, valueLens []uintptr
	for name, value := range params {
		names = append(names, cString(name))
		nameLens = append(nameLens, uintptr(len(name)))
		values = append(values, cString(value))
		valueLens = append(valueLens, uintptr(len(value)))
	}
	result := e.query(e.conn, &query[0], uintptr(len(query)), &formatBytes[0], uintptr(len(format)),
		first(names), first(nameLens), first(values), first(valueLens), uintptr(len(names)))
	runtime.KeepAlive(query)
	runtime.KeepAlive(formatBytes)
	runtime.KeepAlive(names)
	runtime.KeepAlive(values)
	if result == 0 {
		return nil, errors.New("chdb returned no result")
	}
	defer e.destroy(result)
	if msg := e.resultError(result); msg != nil {
		return nil, &engineError{message: goString(msg)}
	}
	n := e.resultLength(result)
	if n == 0 {
		return nil, nil
	}
	return append([]byte(nil), unsafe.Slice(e.resultBuffer(result), n)...), nil
}

func (e *engine) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.connp != nil {
		e.closeConn(e.connp)
		e.connp, e.conn = nil, 0
	}
}

// engineError is an exception of the engine, "Code: N. DB::Exception: …".
type engineError struct{ message string }

func (e *engineError) Error() string { return e.message }

func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func cString(s string) *byte {
	b := append([]byte(s), 0)
	return &b[0]
}

func goString(p *byte) string {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
