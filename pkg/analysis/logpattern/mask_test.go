package logpattern

import (
	"strings"
	"testing"
)

func TestMasking(t *testing.T) {
	cases := map[string]string{
		"user=42 took 15ms from 10.0.0.1:8080":                       "user=<*> took <*> from <*>",
		"request 550e8400-e29b-41d4-a716-446655440000 done":          "request <*> done",
		"block blk_-6952295868487656571 stored":                      "block <*> stored",
		"open /var/log/app.log and ./cfg/x.yaml":                     "open <*> and <*>",
		"fetch https://example.com/a?b=1 ok":                         "fetch <*> ok",
		"path C:\\Windows\\system32 missing":                         "path <*> missing",
		"mail bob@example.com bounced":                               "mail <*> bounced",
		"ptr 0x1f3 and deadbeef":                                     "ptr <*> and <*>",
		"addr fe80::1 and 2001:db8::ff00:42:8329":                    "addr <*> and <*>",
		"iface ipv6 on en0":                                          "iface <*> on <*>",
		"at 2026-01-05T10:00:00Z took 1.5s on v1.2.3":                "at <*> took <*> on <*>",
		"peer (10.0.0.1:80), slot [core.114] broadcast_39":           "peer (<*>), slot [core.<*>] broadcast_<*>",
		`said "hello there big world" then "ok"`:                     `said "<*>" then "ok"`,
		`"GET /v2/servers/detail HTTP/1.1" status: 200`:              `"GET <*> HTTP/<*>" status: <*>`,
		"plain words stay as they are":                               "plain words stay as they are",
		"  spaces\tand\ttabs  ":                                      "spaces and tabs",
		"already <*> masked":                                         "already <*> masked",
		`"unterminated quote here`:                                   `"unterminated quote here`,
		"Connection reset by peer: rhost=5.36.59.76.dynamic-dsl.net": "Connection reset by peer: rhost=<*>.<*>.<*>.<*>.dynamic-dsl.net",
	}
	tk := newTokenizer()
	for line, want := range cases {
		if got := strings.Join(tk.tokenize(line, 128), " "); got != want {
			t.Errorf("tokenize(%q)\n got  %q\n want %q", line, got, want)
		}
	}
}

func TestTokenizeBoundsTokens(t *testing.T) {
	tk := newTokenizer()
	got := tk.tokenize(strings.Repeat("word ", 100), 10)
	if len(got) != 10 || got[9] != Wildcard {
		t.Fatalf("got %d tokens ending %q, want 10 ending in a wildcard", len(got), got[len(got)-1])
	}
}

func TestInternTableIsBounded(t *testing.T) {
	tk := newTokenizer()
	for i := range maxInterned + 100 {
		tk.tokenize("key"+strings.Repeat("x", i%50)+"=1 id_"+strings.Repeat("y", i/50)+"7", 8)
	}
	if len(tk.intern) > maxInterned {
		t.Fatalf("intern table holds %d entries, bound %d", len(tk.intern), maxInterned)
	}
}
