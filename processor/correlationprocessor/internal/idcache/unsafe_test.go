package idcache

import "unsafe"

func unsafeData(s string) *byte { return unsafe.StringData(s) }

func entrySizeOf() uintptr { return unsafe.Sizeof(entry{}) }
