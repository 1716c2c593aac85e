package idcache

import "unsafe"

func unsafeData(s string) *byte { return unsafe.StringData(s) }

func setSizeOf() uintptr { return unsafe.Sizeof(set{}) }
