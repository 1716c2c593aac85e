package nlq

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word of the question. raw keeps the spelling (filter values
// such as "logs containing Timeout" are case-sensitive); low is for
// matching keywords.
type token struct {
	raw    string
	low    string
	quoted bool // a phrase in quotes: only ever a value, never a keyword
}

// quotePairs maps an opening quote to its closing quote.
var quotePairs = map[rune]rune{'"': '"', '\'': '\'', '`': '`', '“': '”', '‘': '’', '«': '»'}

// tokenize splits the question into words and quoted phrases. Punctuation
// around words is dropped, "checkout's" becomes "checkout", and a leading
// comparison sign (">2s", ">=500ms") becomes its own token.
func tokenize(q string) []token {
	var toks []token
	runes := []rune(q)
	for i := 0; i < len(runes); {
		r := runes[i]
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			i++
			continue
		}
		if closing, ok := quotePairs[r]; ok {
			if end := indexRune(runes, i+1, closing); end > i+1 {
				phrase := strings.TrimSpace(string(runes[i+1 : end]))
				if phrase != "" {
					toks = append(toks, token{raw: phrase, low: strings.ToLower(phrase), quoted: true})
				}
				i = end + 1
				continue
			}
		}
		j := i
		for j < len(runes) && !unicode.IsSpace(runes[j]) && !unicode.IsControl(runes[j]) {
			j++
		}
		toks = appendWord(toks, string(runes[i:j]))
		i = j
	}
	return toks
}

func indexRune(runes []rune, from int, r rune) int {
	for k := from; k < len(runes); k++ {
		if runes[k] == r {
			return k
		}
	}
	return -1
}

// wordTrim is punctuation dropped around a word; '/', '-', '_', '.', ':'
// and '=' inside a word are kept (paths, names, times, key=value).
const wordTrim = "?!,;:.()[]{}\"'`“”‘’«»"

func appendWord(toks []token, w string) []token {
	for _, sign := range []string{">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(w, sign); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			toks = append(toks, token{raw: sign, low: sign})
			w = rest
			break
		}
	}
	w = strings.Trim(w, wordTrim)
	for _, suffix := range []string{"'s", "’s"} {
		if strings.HasSuffix(strings.ToLower(w), suffix) && len(w) > len(suffix) {
			w = w[:len(w)-len(suffix)]
		}
	}
	if w == "" || !utf8.ValidString(w) {
		return toks
	}
	return append(toks, token{raw: w, low: strings.ToLower(w)})
}
